"""Room: an instructor hands out an exercise and watches the class's results come in; students join by link."""

import streamlit as st

from components import room_view
from components.costs import get_store
from components.session import credentials, get_catalog, session_id
from playground import InputError, rooms
from playground.i18n import _

UNLOCKED = "instructor_rooms"  # session_state: codes whose controls this session unlocked with the PIN
MAX_PIN_TRIES = 5

catalog = get_catalog()
session_credentials = credentials(catalog)
store = get_store()
unlocked: set = st.session_state.setdefault(UNLOCKED, set())
code = rooms.normalize_code(st.query_params.get("room", ""))

if code is None:
    st.title(_("Classroom"))
    join, create = st.columns(2)
    with join, st.form("join_room"):
        st.subheader(_("Join a room"))
        typed = st.text_input(_("Room code"), placeholder="ABCD2345")
        if st.form_submit_button(_("Join")):
            if (found := rooms.normalize_code(typed)) and store.get_room(found):
                st.query_params["room"] = found
                st.rerun()
            st.warning(_("There is no room with this code. Check the code the instructor gave out."))
    with create, st.form("create_room"):
        st.subheader(_("Create a room"))
        title = st.text_input(_("Title"), value=_("Open vs closed models"))
        pin = st.text_input(
            _("Instructor PIN"), type="password", help=_("Guards the room's controls; at least 4 characters.")
        )
        if st.form_submit_button(_("Create"), type="primary"):
            try:
                pin_hash = rooms.hash_pin(pin)
            except InputError as exc:
                st.warning(f"{exc.message} {exc.hint}")
                st.stop()
            new = rooms.new_code()
            store.create_room(new, title.strip() or _("Classroom"), pin_hash)
            unlocked.add(new)
            st.query_params["room"] = new
            st.rerun()
    st.stop()

room = store.get_room(code)
if room is None:
    st.title(_("Classroom"))
    st.info(_("There is no room with this code. Check the code the instructor gave out."))
    st.stop()
exercise = rooms.Exercise.from_dict(room["exercise"]) if room.get("exercise") else None

if code in unlocked:  # ------------------------------------------------ the instructor
    presenter = st.toggle(
        _("Presenter mode"), key="presenter", help=_("Large type for the projector, and one click to run the exercise.")
    )
    if presenter:
        room_view.presenter_style()
    room_view.render_join_panel(code, room["title"])
    if presenter and exercise is not None:
        room_view.describe_exercise(catalog, exercise)
        run_now = st.button(_("▶ Run the exercise"), type="primary", key="present_run")
        room_view.run_exercise(catalog, exercise, session_credentials, code, run_now)
    elif not presenter:
        with st.expander(_("Exercise"), expanded=exercise is None):
            if (saved := room_view.exercise_form(catalog, session_credentials, exercise)) is not None:
                store.set_exercise(code, saved.to_dict())
                st.rerun()  # the form folds away; students who open the room now get this exercise
    st.subheader(_("Live"))
    room_view.live_view(catalog, code)
    if not presenter:
        with st.expander(_("Export")):
            room_view.export_buttons(code)
    st.stop()

# ------------------------------------------------------------------------ a student
st.title(room["title"])
st.caption(_("Room {code}").format(code=code))
members = {m["session_id"]: m["display_name"] for m in store.room_members(code)}
name = members.get(session_id())
if name is None:
    with st.form("join_name"):
        typed = st.text_input(_("Your name (as the class will see it)"), max_chars=40)
        if st.form_submit_button(_("Join the room"), type="primary") and typed.strip():
            store.join_room(code, session_id(), typed.strip())
            st.rerun()
else:
    st.caption(_("Joined as {name}.").format(name=name))

room_view.follow_exercise(code, room.get("exercise"))
if exercise is None:
    st.info(_("The instructor has not set an exercise yet: it appears here as soon as they do."))
else:
    st.subheader(_("Exercise"))
    room_view.describe_exercise(catalog, exercise)
    run_now = st.button(
        _("Run"), type="primary", disabled=name is None, help=None if name else _("Join the room first.")
    )
    room_view.run_exercise(catalog, exercise, session_credentials, code, run_now)

with st.expander(_("Instructor? Unlock the room's controls")):
    tries = st.session_state.setdefault("pin_tries", 0)
    pin = st.text_input(_("Instructor PIN"), type="password", key="unlock_pin")
    if st.button(_("Unlock"), disabled=tries >= MAX_PIN_TRIES):
        st.session_state["pin_tries"] = tries + 1
        if rooms.check_pin(pin, room["pin_hash"]):
            unlocked.add(code)
            st.rerun()
        st.warning(_("Wrong PIN."))
    if tries >= MAX_PIN_TRIES:
        st.caption(_("Too many tries in this session."))
