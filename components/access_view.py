"""The sidebar's trust pieces: spending on the server's keys, the admin's sign-in, and the server-wide settings.

A student sees what the server allows (read-only); only a session that gave ``PLAYGROUND_ADMIN_PASSWORD`` gets the
form, and the engine (``ServerSettings.set``) refuses any other scope even if a widget were forged.
"""

from __future__ import annotations

import time

import streamlit as st

from components.language import fixed_labels
from components.session import ADMIN_SIGNED_IN, get_store, scope, server_settings
from playground.access import (
    ADMIN_TARGET,
    ROOM_CREATION_CHOICES,
    SERVER_KEYS_CHOICES,
    LockedOut,
    Lockout,
    ServerSettings,
    admin_password,
)
from playground.budget import spending_line
from playground.energy import zones
from playground.formatting import format_usd
from playground.i18n import N_, _

KEY_POLICIES = {"everyone": N_("everyone"), "rooms": N_("room members only"), "admin": N_("the admin only")}
CREATORS = {"everyone": N_("everyone"), "admin": N_("the admin only")}


def render_spending() -> None:
    """This session's and the server's spending on the server's keys, against their caps."""
    values, store, viewer = server_settings(), get_store(), scope()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    mine = store.spent(session_id=viewer.session_id)
    st.caption(
        _("Spent on the server's keys: you {session}; the server today {day}. Your own keys are not capped.").format(
            session=spending_line(mine, None if viewer.is_admin else values["budget_session_usd"]),
            day=spending_line(store.spent(day=today), values["budget_day_usd"]),
        )
    )


def _sign_in() -> None:
    expected = admin_password()
    if not expected:
        st.caption(_("No admin on this server: set PLAYGROUND_ADMIN_PASSWORD to enable one."))
        return
    with st.form("admin_sign_in", border=False):
        given = st.text_input(_("Admin password"), type="password")
        if not st.form_submit_button(_("Sign in")):
            return
    try:
        if Lockout(get_store()).check(ADMIN_TARGET, given, expected):
            st.session_state[ADMIN_SIGNED_IN] = True
            st.rerun()
        st.warning(_("Wrong password."))
    except LockedOut as exc:
        st.warning(f"{exc.message} {exc.hint}")


def _server_form() -> None:
    values = server_settings()
    with st.form("server_settings", border=False):
        session = st.number_input(_("Budget per session (USD)"), 0.0, value=values["budget_session_usd"], step=0.1)
        day = st.number_input(_("Budget per day, whole server (USD)"), 0.0, value=values["budget_day_usd"], step=1.0)
        room = st.number_input(
            _("Most an instructor may give a room (USD)"), 0.0, value=values["budget_room_max_usd"], step=1.0
        )
        keys = st.selectbox(
            _("Who may use the server's keys"),
            SERVER_KEYS_CHOICES,
            index=SERVER_KEYS_CHOICES.index(values["server_keys"]),
            format_func=fixed_labels(KEY_POLICIES),
        )
        per_minute = st.number_input(
            _("API calls per minute, per session"), 1.0, value=float(values["api_calls_per_minute"]), step=1.0
        )
        creators = st.selectbox(
            _("Who may create rooms"),
            ROOM_CREATION_CHOICES,
            index=ROOM_CREATION_CHOICES.index(values["room_creation"]),
            format_func=fixed_labels(CREATORS),
        )
        store_prompts = st.toggle(_("Store prompts and answers at all"), value=bool(values["store_prompts"]))
        known = zones()
        zone = st.selectbox(
            _("Electricity mix for the carbon of energy (EcoLogits zone)"),
            known,
            index=known.index(values["electricity_zone"]) if values["electricity_zone"] in known else None,
            help=_("A country's ISO 3166-1 code (e.g. CHN, FRA, USA), or WOR for the world average."),
        )
        if not st.form_submit_button(_("Save for everyone"), type="primary"):
            return
    settings = ServerSettings(get_store())
    for name, value in (
        ("budget_session_usd", session),
        ("budget_day_usd", day),
        ("budget_room_max_usd", room),
        ("server_keys", keys),
        ("api_calls_per_minute", per_minute),
        ("room_creation", creators),
        ("store_prompts", store_prompts),
        ("electricity_zone", zone or values["electricity_zone"]),
    ):
        settings.set(scope(), name, value)
    st.success(_("Saved: every session now uses these."))


def _server_summary() -> None:
    values = server_settings()
    policy = KEY_POLICIES[values["server_keys"]]
    st.caption(
        _(
            "Set by the server's admin for everyone: {session} per session, {day} per day, {n} API calls a minute; "
            "the server's keys are open to {who}."
        ).format(
            session=format_usd(values["budget_session_usd"]),
            day=format_usd(values["budget_day_usd"]),
            n=f"{values['api_calls_per_minute']:g}",
            who=_(policy),
        )
    )


def render_admin() -> None:
    """The server-wide block: a summary for everyone, the sign-in, and the admin's form once signed in."""
    if not scope().is_admin:
        _server_summary()
        _sign_in()
        return
    st.caption(_("Signed in as admin: these settings apply to every visitor."))
    _server_form()
    if st.button(_("Sign out")):
        st.session_state[ADMIN_SIGNED_IN] = False
        st.rerun()
