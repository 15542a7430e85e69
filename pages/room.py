"""Room: an instructor hands out an exercise and watches the class's results come in; students join by link."""

import streamlit as st

from components import room_view
from components.answer import safe_markdown
from components.session import credentials, get_catalog, get_store, scope, server_settings, session_id, unlocked_rooms
from playground import InputError, rooms
from playground.access import LockedOut, Lockout, may_create_rooms, room_target
from playground.i18n import _

catalog = get_catalog()
session_credentials = credentials(catalog)
store = get_store()
unlocked = unlocked_rooms()
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
    if not may_create_rooms(server_settings()["room_creation"], scope()):
        create.info(_("On this server only the admin creates rooms. Ask for a room code."))
        st.stop()
    with create, st.form("create_room"):
        st.subheader(_("Create a room"))
        title = st.text_input(_("Title"), value=_("Open vs closed models"), max_chars=120)
        pin = st.text_input(
            _("Instructor PIN"), type="password", help=_("Guards the room's controls; at least 4 characters.")
        )
        if st.form_submit_button(_("Create"), type="primary"):
            try:
                new = rooms.new_code()
                store.create_room(new, title.strip() or _("Classroom"), rooms.hash_pin(pin))
            except InputError as exc:
                st.warning(f"{exc.message} {exc.hint}")
                st.stop()
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
        room_view.room_budget_form(code)
    st.subheader(_("Live"))
    room_view.live_view(catalog, code, exports=not presenter)
    st.stop()

# ------------------------------------------------------------------------ a student
st.title(safe_markdown(room["title"]))
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
    st.caption(_("Joined as {name}.").format(name=safe_markdown(name)))

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
room_view.student_live(code)

with st.expander(_("Instructor? Unlock the room's controls")):
    pin = st.text_input(_("Instructor PIN"), type="password", key="unlock_pin")
    if st.button(_("Unlock")):
        try:  # wrong tries are counted in the store: a reload or another replica does not reset them
            if Lockout(store).check(room_target(code), pin, room["pin_hash"]):
                unlocked.add(code)
                st.rerun()
            st.warning(_("Wrong PIN."))
        except LockedOut as exc:
            st.warning(f"{exc.message} {exc.hint}")
