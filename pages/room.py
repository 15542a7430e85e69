"""Room: an instructor hands out an exercise and watches the class's results come in; students join by link."""

import streamlit as st

from components import room_doors, room_view
from components.answer import safe_markdown
from components.session import credentials, get_catalog, get_store, unlocked_rooms
from playground import rooms
from playground.i18n import _

catalog = get_catalog()
session_credentials = credentials(catalog)
store = get_store()
unlocked = unlocked_rooms()
code = rooms.normalize_code(st.query_params.get("room", ""))

if code is None:
    room_doors.lobby()
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
name = room_doors.student_name(code)

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

room_doors.unlock_form(code, room["pin_hash"])
