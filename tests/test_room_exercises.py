"""Room exercises beyond one prompt: a multi-turn blind battle, and a prompt set the class runs, in AppTest with real
local SmolLM2 models and a throwaway store per test."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from playground import GenParams, rooms
from playground.store import Store
from tests.apptest import app_page
from tests.test_classroom_pages import NAMES, TWIN, texts, twin_catalog  # noqa: F401 (a fixture)

CODE = "ABCDEFGH"


def _room(db: str, exercise: rooms.Exercise | None = None) -> Store:
    store = Store(db)
    store.create_room(CODE, "Class", rooms.hash_pin("2468"))
    if exercise is not None:
        store.set_exercise(CODE, exercise.to_dict())
    return store


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(array) -> np.ndarray:
    """A Plotly JSON array: a list, or numpy's bytes in base64 (``{"dtype": ..., "bdata": ...}``)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def _join(at, name: str = "Ada"):
    at.query_params["room"] = CODE
    at.run()
    at.text_input[0].input(name)
    return next(b for b in at.button if b.label == "Join the room").click().run()


@pytest.mark.slow
def test_a_two_turn_room_battle_stays_blind_and_its_vote_counts_the_turns(monkeypatch, twin_catalog, tmp_path):  # noqa: F811
    db = str(tmp_path / "room.sqlite")
    exercise = rooms.Exercise(
        "generate", ("smollm2-135m", TWIN), prompt="Name one colour.", blind=True, params=GenParams(max_new_tokens=8)
    )
    store = _room(db, exercise)
    with app_page(monkeypatch, "room", twin_catalog, PLAYGROUND_DB=db) as at:
        _join(at)
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception, at.exception
        assert not [n for n in NAMES if n in texts(at)]
        at.chat_input(key=f"room_follow_up_{CODE}").set_value("Why that one?").run()
        assert not at.exception, at.exception
        page = texts(at)
        assert "**You:** Why that one?" in page and not [n for n in NAMES if n in page], page
        at.run()  # a rerun (the live view's, a widget's) keeps both turns, still blind
        assert "**You:** Why that one?" in texts(at) and not [n for n in NAMES if n in texts(at)]
        at.button(key="vote_b").click().run()
        votes = store.votes(CODE)
        assert list(votes["turns"]) == [2] and list(votes["choice"]) == ["b"]
        runs = store.runs(room=CODE)
        assert sorted(runs["turn"]) == [1, 1, 2, 2] and set(runs["battle_id"]) == set(votes["battle_id"])

        at.session_state["instructor_rooms"] = {CODE}  # the instructor's view of the same room
        at.run()
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Runs"] == str(len(runs)) == "4" and metrics["Ran the exercise"] == "1"
        tally = next(f for f in charts(at) if f["layout"]["title"]["text"] == "Votes by model")
        counted = {trace["name"]: int(sum(values(trace["x"]))) for trace in tally["data"] if values(trace["x"]).size}
        assert counted == {"preferred": 1, "the other was preferred": 1}  # one battle, one vote, whatever its turns
