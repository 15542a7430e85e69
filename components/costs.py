"""The sidebar settings behind pricing and history (hardware rate, whether prompts are stored), and the cost slot.

Pricing and recording themselves happen in the engine (``playground.Playground``); this module only keeps the
session's choices and renders.
"""

from __future__ import annotations

import streamlit as st

from playground import Cost, RunSettings
from playground.pricing import DEFAULT_PRESET, HARDWARE_PRESETS
from playground.store import STORE_IO, Store, default_url

PRESET = "hardware_preset"  # settings remembered in the history file; session_state holds this session's choice
RATE = "hardware_usd_per_hour"
CUSTOM = "custom"


@st.cache_resource
def _open_store(url: str) -> Store:
    return Store(url)


def get_store() -> Store:
    """One shared, thread-safe Store per database URL (PLAYGROUND_DB_URL, PLAYGROUND_DB, or the data folder)."""
    return _open_store(default_url())


def _remembered(name: str, default):
    """This session's value of a setting, starting from the one last saved."""
    if name not in st.session_state:
        st.session_state[name] = get_store().get_setting(name, default)
    return st.session_state[name]


def _save(name: str) -> None:
    get_store().set_setting(name, st.session_state[name])


def hourly_rate() -> float:
    return float(_remembered(RATE, HARDWARE_PRESETS[DEFAULT_PRESET]))


def store_io() -> bool:
    return bool(_remembered(STORE_IO, True))


def _apply_preset() -> None:
    if (preset := st.session_state[PRESET]) in HARDWARE_PRESETS:
        st.session_state[RATE] = HARDWARE_PRESETS[preset]
        _save(RATE)
    _save(PRESET)


def _rate_edited() -> None:
    st.session_state[PRESET] = CUSTOM
    _save(PRESET)
    _save(RATE)


def _store_io_toggled() -> None:
    st.session_state[STORE_IO] = not st.session_state["dont_store_io"]
    _save(STORE_IO)


def render_settings() -> None:
    """Sidebar block: the hardware rate that prices local models, and whether prompts and answers are stored."""
    if _remembered(PRESET, DEFAULT_PRESET) not in HARDWARE_PRESETS:
        st.session_state[PRESET] = CUSTOM  # a preset saved under a name that no longer exists
    hourly_rate()
    store_io()
    st.selectbox(
        "Hardware for local models",
        [*HARDWARE_PRESETS, CUSTOM],
        key=PRESET,
        on_change=_apply_preset,
        format_func=lambda p: p if p == CUSTOM else f"{p}: ~${HARDWARE_PRESETS[p]:g}/h",
    )
    st.number_input(
        "Hourly rate (USD)",
        min_value=0.0,
        step=0.05,
        format="%.2f",
        key=RATE,
        on_change=_rate_edited,
        help="Rough on-demand prices, for the order of magnitude only: edit to match your machine or bill.",
    )
    st.toggle(
        "Don't store inputs and outputs",
        key="dont_store_io",
        value=not store_io(),
        on_change=_store_io_toggled,
        help="History keeps only the metrics (timings, tokens, cost) of each run, not the prompt or the answer.",
    )


def run_settings() -> RunSettings:
    """This session's pricing and storage choices, handed to every run."""
    return RunSettings(hourly_usd=hourly_rate(), store_io=store_io())


def cost_caption(cost: Cost | None) -> None:
    """The cost slot under an answer: the amount, where the price comes from, and the rates in a tooltip."""
    if cost is not None:
        st.caption(f"Cost {cost.label} · {cost.source}", help=cost.detail or None)
