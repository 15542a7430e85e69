"""Prompt sets: uploads validated before anything runs, runs of real local models stored cell by cell, the LLM
judge (a real local model, and one that fails), cancel, the report's filters, exports and diff."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from playground import GenParams, InputError, Playground, RunContext, load_built_in, read_upload, start_prompt_set
from playground import prompt_set_report as report
from playground.prompt_sets import MAX_ROWS, PromptSet, built_in_sets, from_data
from playground.store import Store

FAST = GenParams(temperature=0.0, max_new_tokens=16)
INT4 = "smollm2-135m-int4"  # the same weights as int4 on ONNX Runtime GenAI: several times faster here


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "history.sqlite")
    yield s
    s.close()


@pytest.fixture
def playground(catalog, store):
    return Playground(catalog, store)


def one_row_set(checks, prompt="What is the capital of France?", reference="Paris") -> PromptSet:
    return from_data(
        {"name": "test", "rows": [{"id": "q1", "prompt": prompt, "reference": reference, "checks": checks}]}
    )


# ---------------------------------------------------------------- uploads: clear errors, nothing runs


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("set.csv", b"question,contains\nWhat?,x\n", "no “prompt” column"),
        ("set.csv", b"prompt,regex\nWhat is 2+2?,([0-9]\n", "Row 1: the pattern /([0-9]/ is not a valid regular"),
        ("set.csv", b"prompt\n" + b"Say hi.\n" * 10_000, "10000 rows; the most is 200"),
        ("set.csv", "prompt\nOù est la capitale ?\n".encode("latin-1"), "not UTF-8"),
        ("set.csv", b"prompt,colour\nHi,red\n", "column this app does not know: “colour”"),
        ("set.csv", b"prompt\nWhat is {{x}}?\n", "{{x}} but the row gives it no value"),
        ("set.yaml", b"rows: [{prompt: hi, checks: [{regex: '(('}]}]", "not a valid regular expression"),
        ("set.yaml", b"rows: [unclosed", "cannot be read"),
        ("set.txt", b"prompt\nhi\n", "Upload a .csv, .yaml or .yml file"),
        ("set.csv", b"prompt\n", "no rows"),
    ],
)
def test_bad_uploads_give_clear_messages_and_run_nothing(store, name, content, words):
    with pytest.raises(InputError) as caught:
        read_upload(name, content)
    assert words in caught.value.message, caught.value.message
    assert store.prompt_set_runs() == [] and store.runs().empty  # nothing was started, nothing recorded


def test_a_good_csv_upload_with_variables_and_every_check_column():
    content = (
        b"id,prompt,system,reference,contains,not_contains,regex,json,min_chars,max_chars,latency,cost,similar,"
        b"judge_model,judge_rubric,var:country\n"
        b"c1,What is the capital of {{country}}?,Be brief.,Paris,Paris,Berlin,\\bParis\\b,,1,200,30,0.01,0.5,"
        b"smollm2-135m,Names the right city.,France\n"
    )
    prompt_set = read_upload("capitals.csv", content)
    row = prompt_set.rows[0]
    assert prompt_set.name == "capitals" and row.text == "What is the capital of France?" and row.system == "Be brief."
    kinds = [c.kind for c in row.checks]
    assert kinds == ["contains", "not_contains", "regex", "latency", "cost", "similar", "length", "judge"]
    assert len(prompt_set.rows) <= MAX_ROWS


def test_every_built_in_set_is_valid_in_both_languages():
    keys = built_in_sets()
    for topic in ("quick", "facts", "instructions", "debate"):
        assert {f"{topic}-en", f"{topic}-zh"} <= set(keys)
    assert sum(len(load_built_in(k).rows) for k in keys if k.endswith("-en") and k != "quick-en") == 20
    assert len(load_built_in("debate-en").rows) == 5  # the five dimensions of the open-vs-closed debate
    with pytest.raises(InputError):
        load_built_in("../catalog")


# ---------------------------------------------------------------- runs


@pytest.mark.slow
def test_a_set_runs_on_two_local_models_and_every_cell_is_stored_and_recorded(playground, store):
    prompt_set = load_built_in("quick-en")
    run = start_prompt_set(
        playground, prompt_set, ["smollm2-135m", INT4], FAST, context=RunContext("prompt_sets", "s1")
    )
    assert run.wait(600), "the run did not finish"
    saved, cells = store.prompt_set_run(run.id), store.prompt_set_cells(run.id)
    assert saved["status"] == "done" and saved["session_id"] == "s1" and saved["models"] == ["smollm2-135m", INT4]
    assert len(cells) == 6 and {(c["row_index"], c["model_id"]) for c in cells} == {
        (i, m) for i in range(3) for m in ("smollm2-135m", INT4)
    }
    history = store.runs(pages=["prompt_sets"])
    assert len(history) == 6 and set(history["id"]) == {c["history_id"] for c in cells}  # each is a normal run
    capital = next(c for c in cells if c["row_index"] == 0 and c["model_id"] == "smollm2-135m")
    assert "Paris" in capital["answer"] and capital["checks"][0] == {
        "kind": "contains",
        "label": "contains “Paris”",
        "passed": True,
        "detail": "",
    }
    assert all(c["tokens_out"] and c["latency_s"] > 0 and c["cost_usd"] is not None for c in cells)
    assert run.progress().done == 6 and run.progress().eta_s is None
    scores = report.scores(saved, cells)
    assert [s.cells for s in scores] == [3, 3] and all(0 <= s.pass_rate <= 1 for s in scores)


@pytest.mark.slow
def test_a_local_judge_gives_a_verdict_with_its_reason(playground, store):
    prompt_set = one_row_set([{"judge": {"model": "smollm2-135m", "rubric": "The answer names the right city."}}])
    run = start_prompt_set(playground, prompt_set, [INT4], FAST)
    assert run.wait(600)
    (cell,) = store.prompt_set_cells(run.id)
    (judged,) = cell["checks"]
    assert judged["kind"] == "judge" and judged["detail"].strip(), judged  # the judge's reply is kept as the reason
    assert judged["passed"] in (True, False), judged  # SmolLM2 answers "... meets / does not meet the rubric"
    assert cell["verdict"] == ("pass" if judged["passed"] else "fail")
    judge_runs = store.runs(pages=["prompt_sets_judge"])
    assert len(judge_runs) == 1 and judge_runs["model_id"].iloc[0] == "smollm2-135m"
    assert judge_runs["output"].iloc[0].strip() == judged["detail"]


@pytest.mark.slow
def test_a_judge_that_fails_leaves_the_cell_not_judged_never_passed(playground, store, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # gpt-4o-mini cannot be called: its judge fails
    prompt_set = one_row_set([{"contains": "Paris"}, {"judge": "gpt-4o-mini"}])
    run = start_prompt_set(playground, prompt_set, [INT4], FAST)
    assert run.wait(600)
    (cell,) = store.prompt_set_cells(run.id)
    contains, judged = cell["checks"]
    assert contains["passed"] is True, cell["answer"]
    assert judged["passed"] is None and judged["detail"].startswith("the judge failed")
    assert cell["verdict"] == "not judged"


@pytest.mark.slow
def test_cancel_stops_the_run_and_keeps_the_cells_done(playground, store):
    rows = [{"id": f"r{i}", "prompt": f"Count from 1 to {i + 20}."} for i in range(12)]
    prompt_set = from_data({"name": "long", "rows": rows})
    run = start_prompt_set(playground, prompt_set, [INT4], GenParams(temperature=0.0, max_new_tokens=200))
    deadline = time.monotonic() + 300
    while not store.prompt_set_cells(run.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.cancel()
    assert run.wait(120)
    assert store.prompt_set_run(run.id)["status"] == "cancelled"
    assert 1 <= len(store.prompt_set_cells(run.id)) < 12


def test_bad_params_or_models_start_nothing(playground, store):
    prompt_set = load_built_in("quick-en")
    with pytest.raises(InputError):
        start_prompt_set(playground, prompt_set, [INT4], GenParams(temperature=9.0))
    with pytest.raises(InputError):
        start_prompt_set(playground, prompt_set, ["minilm-zero-shot"], FAST)  # it cannot generate
    with pytest.raises(InputError):
        start_prompt_set(playground, prompt_set, [], FAST)
    assert store.prompt_set_runs() == []


# ---------------------------------------------------------------- the report


def stored_run(store, rows, models, verdicts, run_id="a", answers=None):
    """A run written through the store with hand-made cells: {(row, model): verdict}."""
    prompt_set = from_data({"name": "hand", "rows": [{"id": r, "prompt": f"prompt {r}"} for r in rows]})
    store.create_prompt_set_run(run_id, prompt_set.as_data(), models, {"max_new_tokens": 8})
    for (row, model), v in verdicts.items():
        answer = (answers or {}).get((row, model), "an answer")
        store.record_cell(run_id, row, model, {"answer": answer, "checks": [], "verdict": v, "cost_usd": 0.001})
    return store.prompt_set_run(run_id), store.prompt_set_cells(run_id)


def test_filters_manual_verdicts_and_pass_rates(store):
    verdicts = {(0, "a"): "pass", (0, "b"): "pass", (1, "a"): "pass", (1, "b"): "fail", (2, "a"): "not judged"}
    run, cells = stored_run(store, ["x", "y", "z"], ["a", "b"], verdicts)
    assert report.failing_rows(cells) == {1} and report.disagreeing_rows(cells) == {1}
    store.mark_cell("a", 1, "b", "pass", "close enough")
    cells = store.prompt_set_cells("a")
    assert report.failing_rows(cells) == set() and report.disagreeing_rows(cells) == set()
    assert next(c for c in cells if c["row_index"] == 1 and c["model_id"] == "b")["comment"] == "close enough"
    a, b = report.scores(run, cells)
    assert (a.passed, a.not_judged, a.pass_rate) == (2, 1, 2 / 3) and (b.pass_rate, b.cost_usd) == (1.0, 0.002)
    with pytest.raises(InputError):
        store.mark_cell("a", 1, "b", "maybe", "")
    with pytest.raises(InputError):
        store.mark_cell("a", 9, "b", "pass", "")  # no such cell


def test_exports_escape_formulas_and_keep_every_cell(store):
    answers = {(0, "a"): '=HYPERLINK("http://x")', (0, "b"): "+1", (1, "a"): "-2", (1, "b"): "@SUM(A1)"}
    run, cells = stored_run(store, ["x", "y"], ["a", "b"], dict.fromkeys(answers, "pass"), answers=answers)
    rows = list(csv.DictReader(io.StringIO(report.to_csv(run, cells))))
    assert [r["answer"] for r in rows] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)"]
    assert report.csv_safe("\tx") == "'\tx" and report.csv_safe("\rx") == "'\rx" and report.csv_safe(1.5) == 1.5
    exported = json.loads(report.to_json(run, cells))
    assert exported["run"]["id"] == "a" and exported["cells"][0]["answer"] == answers[(0, "a")]  # JSON stays exact


def test_a_rerun_diffs_against_the_earlier_run_by_row_id(store):
    earlier = stored_run(store, ["x", "y"], ["a"], {(0, "a"): "pass", (1, "a"): "fail"}, run_id="old")
    later = stored_run(store, ["y", "x", "new"], ["a"], {(0, "a"): "pass", (1, "a"): "fail", (2, "a"): "pass"}, "new")
    changes = {(c.row_id, c.model_id): c.kind for c in report.diff(earlier, later)}
    assert changes == {("x", "a"): "broken", ("y", "a"): "fixed", ("new", "a"): "fixed"}
