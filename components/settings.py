"""The sidebar's settings: the hardware rate that prices local models and whether prompts are stored, this
session's own choices beside the admin's server-wide defaults.

Pricing and recording themselves happen in the engine (``playground.Playground``); this module only keeps the
session's choices and renders them.
"""

from __future__ import annotations

import streamlit as st

from components.language import fixed_labels
from components.session import server_settings
from playground import RunSettings
from playground.formatting import format_usd
from playground.hardware import PRESETS, RATES, detect
from playground.i18n import N_, _
from playground.store import STORE_IO

PRESET = "hardware_preset"  # session_state: this session's own choices (server-wide ones are the admin's)
RATE = "hardware_usd_per_hour"
CUSTOM = "custom"
MY_PRESET, MY_RATE = "my_hardware_preset", "my_hourly_usd"  # session_state: the session's choices, never stored
THIS_MACHINE = N_("this machine")  # the detected hardware, priced from playground.hardware's table: the default


def presets() -> dict[str, float]:
    """The hourly rates to pick from: this machine first (detected), then rough cloud and laptop examples."""
    return {
        THIS_MACHINE: detect().default_usd_per_hour,
        **{RATES[key].label: RATES[key].usd_per_hour for key in PRESETS},
    }


def _server_rate() -> float:
    """The admin's default hourly rate, else this machine's."""
    rate = server_settings()["default_hourly_usd"]
    return presets()[THIS_MACHINE] if rate is None else rate


def hourly_rate() -> float:
    """This session's rate: its own choice, else the server's default."""
    chosen = st.session_state.get(MY_RATE)
    return float(_server_rate() if chosen is None else chosen)


def store_io() -> bool:
    """Whether this session's prompts and answers are stored: the student's choice, within the server's."""
    return bool(st.session_state.get(STORE_IO, True)) and bool(server_settings()["store_prompts"])


def _apply_preset() -> None:
    st.session_state[MY_PRESET] = preset = st.session_state[PRESET]
    if preset in presets():
        st.session_state[RATE] = st.session_state[MY_RATE] = presets()[preset]


def _rate_edited() -> None:
    st.session_state[PRESET] = st.session_state[MY_PRESET] = CUSTOM
    st.session_state[MY_RATE] = st.session_state[RATE]


def _store_io_toggled() -> None:
    st.session_state[STORE_IO] = not st.session_state["dont_store_io"]


def render_settings() -> None:
    """Sidebar block, this session's own choices: the hardware rate that prices local models (a what-if), and
    whether its prompts and answers are stored. Nothing here changes another visitor's page."""
    st.caption(_("Your choices, for this browser session only."))
    rates = presets()
    # the widgets show the session's choices, kept under keys of their own: a widget's key is dropped on any run
    # that does not draw it, a choice must not be
    preset = st.session_state.get(MY_PRESET) or (
        THIS_MACHINE if server_settings()["default_hourly_usd"] is None else CUSTOM
    )
    st.session_state[PRESET] = preset if preset in rates else CUSTOM
    st.session_state[RATE] = hourly_rate()
    st.selectbox(
        _("Hardware for local models"),
        [*rates, CUSTOM],
        key=PRESET,
        on_change=_apply_preset,
        format_func=fixed_labels(
            [*rates, CUSTOM],
            lambda p: (
                _("custom")
                if p == CUSTOM
                else _("{machine}: ~{price}/h").format(machine=_(p), price=format_usd(rates[p]))
            ),
        ),
    )
    machine = detect()
    st.caption(
        _("Local models run on {hardware} ({device}). Its default rate, {price}/h, is from {source} ({date}).").format(
            hardware=machine.name,
            device=machine.device,
            price=format_usd(machine.default_usd_per_hour),
            source=machine.rate_source,
            date=machine.rate_date,
        )
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
    if not server_settings()["store_prompts"]:
        st.caption(_("This server stores no prompts or answers at all (a server-wide setting)."))
        return
    st.toggle(
        _("Don't store my inputs and outputs"),
        key="dont_store_io",
        value=not store_io(),
        on_change=_store_io_toggled,
        help=_("History keeps only the metrics (timings, tokens, cost) of your runs, not the prompt or the answer."),
    )


def run_settings() -> RunSettings:
    """This session's pricing and storage choices, handed to every run."""
    return RunSettings(hourly_usd=hourly_rate(), store_io=store_io())
