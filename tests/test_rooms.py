"""Rooms: unguessable codes, the PIN, the exercise, the live aggregates and the exports."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from playground import rooms
from playground.errors import InputError
from playground.events import GenParams
from playground.prompt_sets import MAX_ROWS, from_data, load_built_in


def test_codes_are_random_readable_and_normalised():
    codes = {rooms.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == rooms.CODE_LENGTH and set(c) <= set(rooms.ALPHABET) for c in codes)
    assert not set("01OIL") & set(rooms.ALPHABET)
    code = next(iter(codes))
    assert rooms.normalize_code(f" {code[:4].lower()}-{code[4:]} ") == code
    assert rooms.normalize_code("ABC") is None and rooms.normalize_code("O" * rooms.CODE_LENGTH) is None


def test_pin_is_salted_and_checked():
    first, second = rooms.hash_pin("4321"), rooms.hash_pin("4321")
    assert first != second and "4321" not in first  # salted, never the PIN itself
    assert rooms.check_pin("4321", first) and rooms.check_pin("4321", second)
    assert not rooms.check_pin("4322", first)
    assert not rooms.check_pin("4321", "garbage")
    with pytest.raises(InputError):
        rooms.hash_pin("12")


def test_exercise_round_trips_through_a_dict():
    exercise = rooms.Exercise(
        "generate", ("smollm2-135m", "gpt-4o-mini"), prompt="Hi", params=GenParams(max_new_tokens=8), blind=True
    )
    raw = json.loads(json.dumps(exercise.to_dict()))
    assert rooms.Exercise.from_dict(raw) == exercise


def test_a_prompt_set_exercise_round_trips_and_a_huge_one_is_refused_with_a_hint():
    quick = load_built_in("quick-en")
    exercise = rooms.Exercise(rooms.PROMPT_SET, ("smollm2-135m",), prompt_set=quick.as_data())
    back = rooms.Exercise.from_dict(json.loads(json.dumps(exercise.to_dict())))
    assert back == exercise and from_data(back.prompt_set) == quick
    exercise.check_size()  # a built-in set fits
    rows = [{"prompt": f"Question {i}: " + "x" * 80, "checks": [{"contains": "y"}]} for i in range(MAX_ROWS)]
    huge = rooms.Exercise(rooms.PROMPT_SET, ("smollm2-135m",), prompt_set=from_data({"rows": rows}).as_data())
    with pytest.raises(InputError, match="too large to hand out") as refused:
        huge.check_size()
    assert "8,000" in refused.value.hint


def test_class_pass_rates_add_up_every_students_cells_per_set_and_model():
    def cell(run, session, model, verdict, manual=None, set_name="Quick", at=1.0):
        return {"run_id": run, "session_id": session, "model_id": model, "verdict": verdict,
                "manual_verdict": manual, "set_name": set_name, "created_at": at}  # fmt: skip

    cells = [
        cell("r1", "s1", "A", "pass"), cell("r1", "s1", "A", "fail"), cell("r1", "s1", "B", "error"),
        cell("r2", "s2", "A", "pass"), cell("r2", "s2", "A", "fail", manual="pass"), cell("r2", "s2", "B", "pass"),
        cell("r3", "s1", "A", "not judged", set_name="Older", at=0.5),
    ]  # fmt: skip
    table = rooms.class_pass_rates(cells)
    assert list(table["set_name"]) == ["Quick", "Quick", "Older"]  # the newest set first
    quick = table[table["set_name"] == "Quick"].set_index("model_id")
    assert quick.loc["A", ["students", "runs", "cells", "passed"]].tolist() == [2, 2, 4, 3]  # a person's pass counts
    assert quick.loc["B", "pass_rate"] == 0.5 and table.iloc[2]["pass_rate"] == 0.0  # an error, "not judged": no pass
    assert rooms.class_pass_rates([]).empty


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_name": ["A", "A", "B", "B"],
            "session_id": ["s1", "s2", "s1", "s2"],
            "queue_s": [0.0, 1.5, 0.0, 0.2],
            "ttft_s": [0.3, 1.9, 0.5, 0.8],
            "total_s": [1.0, 2.5, 2.0, 2.2],
            "cost_usd": [0.0, 0.0, 0.001, None],
            "error": [None, None, None, "timeout"],
        }
    )


def test_summary_counts_people_runs_spend_latency_and_votes():
    members = pd.DataFrame({"display_name": ["Ada", "Ben", "Cy"]})
    votes = pd.DataFrame(
        {
            "model_a": ["x", "y", "x"],
            "model_b": ["y", "x", "y"],
            "choice": ["a", "tie", "a"],
            "anonymous": [True, True, False],
        }
    )
    summary = rooms.summarize(members, _runs(), votes)
    assert summary.members == ["Ada", "Ben", "Cy"] and summary.runners == 2 and summary.runs == 4
    assert summary.spent_usd == pytest.approx(0.001)
    assert len(summary.latency) == 3 and summary.latency["queue_s"].max() == 1.5  # the failed run is left out
    # by model, not by side: x won as A twice; the tie counts for both
    tally = {(m, o): n for m, o, n in summary.tally.itertuples(index=False)}
    assert tally == {("x", "won"): 2, ("y", "lost"): 2, ("x", "tie"): 1, ("y", "tie"): 1}


def test_summary_of_an_empty_room():
    empty = pd.DataFrame()
    summary = rooms.summarize(pd.DataFrame(columns=["display_name"]), _runs().iloc[:0], empty)
    assert summary.members == [] and summary.runs == 0 and summary.spent_usd == 0 and summary.tally["votes"].sum() == 0


def test_exports_hold_every_table():
    export = {"room": {"code": "ABCDEFGH", "title": "Intro"}, "members": [{"display_name": "Ada"}], "votes": []}
    assert json.loads(rooms.export_json(export))["members"][0]["display_name"] == "Ada"
    archive = zipfile.ZipFile(io.BytesIO(rooms.export_csv_zip(export)))
    assert sorted(archive.namelist()) == ["members.csv", "room.csv", "votes.csv"]
    assert "Ada" in archive.read("members.csv").decode()
