"""Cost and history for every page: price a finished run, write its row, and the sidebar settings behind both.

The run view calls ``settle`` once per finished model, so generate, classify and caption all record the same way.
"""

from __future__ import annotations

import os
import sqlite3

import streamlit as st

from components.language import fixed_labels
from playground.backends.base import Credentials, Failure, Request, Result
from playground.catalog import Catalog
from playground.formatting import format_usd
from playground.history import STORE_IO, History, default_path
from playground.i18n import _
from playground.pricing import DEFAULT_PRESET, HARDWARE_PRESETS, Cost, cost_of

PRESET = "hardware_preset"  # settings remembered in the history file; session_state holds this session's choice
RATE = "hardware_usd_per_hour"
CUSTOM = "custom"


@st.cache_resource
def _open_history(path: str) -> History:
    return History(path)


def get_history() -> History:
    """One shared, thread-safe History per database path (PLAYGROUND_DB, or the data folder)."""
    return _open_history(str(default_path()))


def _remembered(name: str, default):
    """This session's value of a setting, starting from the one last saved."""
    if name not in st.session_state:
        st.session_state[name] = get_history().get_setting(name, default)
    return st.session_state[name]


def _save(name: str) -> None:
    get_history().set_setting(name, st.session_state[name])


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
        _("Hardware for local models"),
        [*HARDWARE_PRESETS, CUSTOM],
        key=PRESET,
        on_change=_apply_preset,
        format_func=fixed_labels(
            [*HARDWARE_PRESETS, CUSTOM],
            lambda p: _("custom")
            if p == CUSTOM
            else _("{machine}: ~{price}/h").format(machine=_(p), price=format_usd(HARDWARE_PRESETS[p])),
        ),
    )
    st.number_input(
        _("Hourly rate (USD)"),
        min_value=0.0,
        step=0.05,
        format="%.2f",
        key=RATE,
        on_change=_rate_edited,
        help=_("Rough on-demand prices, for the order of magnitude only: edit to match your machine or bill."),
    )
    st.toggle(
        _("Don't store inputs and outputs"),
        key="dont_store_io",
        value=not store_io(),
        on_change=_store_io_toggled,
        help=_("History keeps only the metrics (timings, tokens, cost) of each run, not the prompt or the answer."),
    )


def _secrets(catalog: Catalog, credentials: Credentials) -> list[str]:
    """Every key this run could have used: the session's, the self-hosted one, and the server's environment."""
    keys = list(credentials.api_keys.values())
    if credentials.self_hosted is not None:
        keys.append(credentials.self_hosted.api_key)
    keys += [os.environ.get(p.key_env, "") for p in catalog.providers.values() if p.key_env]
    return keys


def settle(catalog: Catalog, page: str, request: Request, final: Result | Failure, credentials: Credentials) -> Cost | None:
    """Price one finished run and write it to history. A history that cannot be written never breaks the page.

    Only answers are priced: a failed call reports no usage, so its cost is not known (stored as NULL)."""
    spec = catalog.get(final.model_id)
    cost = None
    if isinstance(final, Result):
        cached = final.extra.get("cached_tokens", 0)
        cost = cost_of(spec, catalog.provider_of(spec), final.metrics, cached_tokens=cached, hourly_usd=hourly_rate())
    try:
        get_history().record(page, spec, request, final, cost, secrets=_secrets(catalog, credentials), store_io=store_io())
    except sqlite3.Error as exc:
        st.toast(_("This run was not saved to history: {error}").format(error=exc))
    return cost


def cost_caption(cost: Cost | None) -> None:
    """The cost slot under an answer: the amount, where the price comes from, and the rates in a tooltip."""
    if cost is not None:
        st.caption(_("Cost {amount} · {source}").format(amount=cost.label, source=cost.source), help=cost.detail or None)
