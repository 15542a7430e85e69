"""Leaderboard: what the blind votes say, overall or in one room, with honest error bars."""

import streamlit as st

from components.leaderboard_view import render_leaderboard
from components.session import get_catalog, get_store
from components.settings import hourly_rate
from playground import arena, rooms
from playground.i18n import _
from playground.store import measured_speeds

st.title(_("Leaderboard"))
st.caption(
    _(
        "Bradley-Terry ratings fitted to the blind votes (a logistic regression), with 95% intervals from resampling "
        "the votes. A vote on an answer that named its own model or vendor is kept but not counted here."
    )
)
catalog = get_catalog()
store = get_store()

typed = st.text_input(
    _("Room code (empty: every vote)"),
    value=st.query_params.get("room", ""),
    key="leaderboard_room",
    help=_("Rooms are never listed: type the code the instructor gave out."),
)
room = rooms.normalize_code(typed) if typed.strip() else None
if typed.strip() and (room is None or store.get_room(room) is None):
    st.info(_("There is no room with this code. Check the code the instructor gave out."))
    st.stop()
if room:
    st.caption(_("Votes cast in room {code} only.").format(code=room))

runs = store.runs(room=room)
speeds = measured_speeds(runs)  # local models are priced at the speed they showed here
render_leaderboard(
    catalog,
    store.votes(room),
    hourly_rate(),
    dict(zip(speeds["model_id"], speeds["tokens_per_s"])),
    rounds=200,
    answers=arena.battle_answers(runs),
)
