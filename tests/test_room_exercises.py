"""Room exercises beyond one prompt: a multi-turn blind battle, and a prompt set the class runs, in AppTest with real
local SmolLM2 models and a throwaway store per test."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from playground import GenParams, live_run, rooms
from playground.access import ADMIN, INSTRUCTOR, Scope
from playground.store import Store
from tests.apptest import app_page
from tests.test_classroom_pages import NAMES, TWIN, in_chinese, texts, twin_catalog  # noqa: F401 (a fixture)
from tests.test_i18n import allowed_names, english_left, visible_texts  # noqa: F401 (a fixture)

CODE = "ABCDEFGH"


def _room(db: str, exercise: rooms.Exercise | None = None, title: str = "Class") -> Store:
    store = Store(db)
    store.create_room(CODE, title, rooms.hash_pin("2468"))
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


TINY_SET = b"""id,prompt,contains
capital,What is the capital of France?,Paris
colour,Name one colour of the rainbow.,red
"""
MODELS = ["smollm2-135m", TWIN]


def _instructor_hands_out_the_tiny_set(at) -> None:
    at.session_state["instructor_rooms"] = {CODE}
    at.query_params["room"] = CODE
    at.run()
    at.radio(key="exercise_task").set_value(rooms.PROMPT_SET).run()
    at.radio(key="prompt_sets_source").set_value("upload").run()
    at.file_uploader(key="prompt_sets_upload").set_value(("tiny.csv", TINY_SET, "text/csv")).run()
    assert "tiny: 2 prompts" in texts(at)
    at.multiselect[0].set_value(MODELS)
    at.number_input[0].set_value(12)
    next(b for b in at.button if b.label == "Save the exercise").click().run()
    assert not at.exception, at.exception


def _student_runs_it(at, store: Store, name: str) -> str:
    _join(at, name)
    assert "Prompt set **tiny**: 2 prompts" in texts(at)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    newest = store.room_prompt_set_runs(CODE, Scope("admin", ADMIN))[0]
    assert live_run(newest["id"]) is None or live_run(newest["id"]).wait(300)
    at.run()  # the page follows the finished run from the store: its scores and matrix
    assert not at.exception, at.exception
    matrix = at.dataframe[1].value
    assert len(matrix) == 2 and list(matrix.columns)[1:] == ["SmolLM2-135M-Instruct", "SmolLM2 twin (path)"]
    return newest["id"]


@pytest.mark.slow
def test_a_prompt_set_exercise_adds_up_in_the_live_view(monkeypatch, twin_catalog, tmp_path):  # noqa: F811
    db = str(tmp_path / "room.sqlite")
    store = _room(db)
    with app_page(monkeypatch, "room", twin_catalog, PLAYGROUND_DB=db) as instructor:
        _instructor_hands_out_the_tiny_set(instructor)
        exercise = rooms.Exercise.from_dict(store.get_room(CODE)["exercise"])
        assert exercise.task == rooms.PROMPT_SET and exercise.models == tuple(MODELS)
        assert next(r["prompt"] for r in exercise.prompt_set["rows"]) == "What is the capital of France?"
        assert exercise.params.max_new_tokens == 12
        assert instructor.checkbox(key="exercise_keep_set").value  # fewer tokens, without uploading the set again
        instructor.number_input[0].set_value(10)
        next(b for b in instructor.button if b.label == "Save the exercise").click().run()
        again = rooms.Exercise.from_dict(store.get_room(CODE)["exercise"])
        assert again.prompt_set == exercise.prompt_set and again.params.max_new_tokens == 10

        run_ids = []
        for name in ("Ada", "Grace"):
            with app_page(monkeypatch, "room", twin_catalog, PLAYGROUND_DB=db) as student:
                run_ids.append(_student_runs_it(student, store, name))
        cells = [c for run_id in run_ids for c in store.prompt_set_cells(run_id)]
        assert len(cells) == 2 * 2 * 2  # two students x two prompts x two models

        instructor.run()
        table = next(d.value for d in instructor.dataframe if "Students" in d.value.columns).set_index("Model")
        for model_id, label in zip(MODELS, ("SmolLM2-135M-Instruct", "SmolLM2 twin (path)")):
            own = [c for c in cells if c["model_id"] == model_id]
            row = table.loc[label]
            assert (row["Students"], row["Runs"], row["Answers"]) == (2, 2, 4)
            assert row["Passed"] == sum(c["verdict"] == "pass" for c in own)
            assert row["Pass rate"] == pytest.approx(row["Passed"] / 4)
        assert any("Pass rate by model" in f["layout"]["title"]["text"] for f in charts(instructor))

    sessions = {r["session_id"] for r in store.room_prompt_set_runs(CODE, Scope("admin", ADMIN))}
    assert len(sessions) == 2
    for session in sessions:  # a student reads their own run's cells only; a stranger none; the instructor all
        assert {c["session_id"] for c in store.room_prompt_set_cells(CODE, Scope(session))} == {session}
    assert store.room_prompt_set_cells(CODE, Scope("stranger")) == []
    assert len(store.room_prompt_set_cells(CODE, Scope("teacher", INSTRUCTOR, frozenset({CODE})))) == 8


def _seed_class_run(store: Store, session: str, prompt_set: dict, models: list[str], verdict: str) -> str:
    """A finished run of the set by one student, as ``PromptSetRun`` writes it (through the store's public calls)."""
    run_id = f"run-{session}"
    store.create_prompt_set_run(run_id, prompt_set, models, {"max_new_tokens": 12}, session, CODE)
    for row in range(len(prompt_set["rows"])):
        for model in models:
            check = {"kind": "contains", "label": "包含", "passed": verdict == "pass", "detail": ""}
            cell = {"answer": f"{session} {row}", "checks": [check], "verdict": verdict, "latency_s": 0.5}
            store.record_cell(run_id, row, model, cell)
    store.finish_prompt_set_run(run_id, "done")
    return run_id


def test_a_prompt_set_exercise_in_chinese_each_sees_what_they_may(monkeypatch, tmp_path, allowed_names):  # noqa: F811
    """No model needed: two students' runs stored, the instructor's live view adds them up, a student's page shows
    their own run only, and both pages are Chinese."""
    from playground.prompt_sets import load_built_in

    db = str(tmp_path / "room.sqlite")
    prompt_set, models = load_built_in("quick-zh").as_data(), ["smollm2-135m", "smollm2-135m-int4"]
    store = _room(db, rooms.Exercise(rooms.PROMPT_SET, tuple(models), prompt_set=prompt_set), title="第三周")
    store.join_room(CODE, "s-ada", "小明")
    _seed_class_run(store, "s-ada", prompt_set, models, "pass")
    _seed_class_run(store, "s-grace", prompt_set, models, "fail")
    store.mark_cell("run-s-grace", 0, models[0], "pass", "")  # a person's verdict counts as the matrix counts it

    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.session_state["instructor_rooms"] = {CODE}
        at.query_params["room"] = CODE
        in_chinese(at)
        assert not at.exception, at.exception
        table = next(d.value for d in at.dataframe if "学生数" in d.value.columns)
        assert list(table["回答数"]) == [6, 6] and list(table["学生数"]) == [2, 2]
        assert list(table["通过"]) == [4, 3]  # Ada's 3 each, and Grace's one marked cell on the first model
        chinese_only(at, allowed_names)

    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.session_state["session_id"] = "s-ada"
        at.query_params["room"] = CODE
        in_chinese(at)
        assert not at.exception, at.exception
        matrix = at.dataframe[1].value
        assert all(str(v).startswith("✓") for v in matrix.iloc[:, 1:].to_numpy().ravel())  # Ada's, not Grace's
        assert not [d for d in at.dataframe if "学生数" in d.value.columns]  # no class results for a student
        chinese_only(at, allowed_names, tuple(row["prompt"] for row in prompt_set["rows"]))


def chinese_only(at, allowed_names: list[str], data: tuple[str, ...] = ()) -> None:  # noqa: F811
    """No English UI text beyond ``data`` (the set's own prompts); the instructor's panel also names a command and
    a file kind as they are typed."""
    allowed_names = sorted([*allowed_names, *data, "streamlit run", "zip"], key=len, reverse=True)
    texts_shown = visible_texts(at._tree, [])
    leftovers = {t: words for t in texts_shown if (words := english_left(t, allowed_names))}
    assert not leftovers, "\n".join(f"{words}: {text[:160]!r}" for text, words in leftovers.items())
