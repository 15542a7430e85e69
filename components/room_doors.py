"""The ways into a room: the lobby (join by code, or create one), a student's name, and the instructor's PIN.

Each form keeps its own state in the store, never in the browser: a wrong PIN is counted across reloads and
replicas, and membership follows the session."""

from __future__ import annotations

import streamlit as st

from components.answer import safe_markdown
from components.session import get_store, scope, server_settings, session_id, unlocked_rooms
from playground import InputError, rooms
from playground.access import LockedOut, Lockout, may_create_rooms, room_target
from playground.i18n import _


def lobby() -> None:
    """No room in the address: join one by its code or, where the admin allows it, create one (with its PIN)."""
    st.title(_("Classroom"))
    join, create = st.columns(2)
    with join, st.form("join_room"):
        st.subheader(_("Join a room"))
        typed = st.text_input(_("Room code"), placeholder="ABCD2345")
        if st.form_submit_button(_("Join")):
            if (found := rooms.normalize_code(typed)) and get_store().get_room(found):
                _enter(found)
            st.warning(_("There is no room with this code. Check the code the instructor gave out."))
    if not may_create_rooms(server_settings()["room_creation"], scope()):
        create.info(_("On this server only the admin creates rooms. Ask for a room code."))
        return
    with create, st.form("create_room"):
        st.subheader(_("Create a room"))
        title = st.text_input(_("Title"), value=_("Open vs closed models"), max_chars=120)
        pin = st.text_input(
            _("Instructor PIN"), type="password", help=_("Guards the room's controls; at least 4 characters.")
        )
        if st.form_submit_button(_("Create"), type="primary"):
            try:
                new = rooms.new_code()
                get_store().create_room(new, title.strip() or _("Classroom"), rooms.hash_pin(pin))
            except InputError as exc:
                st.warning(f"{exc.message} {exc.hint}")
                return
            unlocked_rooms().add(new)
            _enter(new)


def _enter(code: str) -> None:
    st.query_params["room"] = code
    st.rerun()


def student_name(code: str) -> str | None:
    """The name this session joined the room under; until it has one, the form to give it."""
    store = get_store()
    members = {m["session_id"]: m["display_name"] for m in store.room_members(code)}
    name = members.get(session_id())
    if name is None:
        with st.form("join_name"):
            typed = st.text_input(_("Your name (as the class will see it)"), max_chars=40)
            if st.form_submit_button(_("Join the room"), type="primary") and typed.strip():
                store.join_room(code, session_id(), typed.strip())
                st.rerun()
    else:
        st.caption(_("Joined as {name}.").format(name=safe_markdown(name)))
    return name


def unlock_form(code: str, pin_hash: str) -> None:
    """The instructor's way back in from another browser: the room's PIN, with lockouts kept in the store."""
    with st.expander(_("Instructor? Unlock the room's controls")):
        pin = st.text_input(_("Instructor PIN"), type="password", key="unlock_pin")
        if st.button(_("Unlock")):
            try:  # wrong tries are counted in the store: a reload or another replica does not reset them
                if Lockout(get_store()).check(room_target(code), pin, pin_hash):
                    unlocked_rooms().add(code)
                    st.rerun()
                st.warning(_("Wrong PIN."))
            except LockedOut as exc:
                st.warning(f"{exc.message} {exc.hint}")
