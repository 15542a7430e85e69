"""The prompt-sets page in AppTest on a stored run (no model needed): the matrix, the filters, a person's verdict
saved from the page, the pass rates and charts, exports, and the same run in Chinese."""

from __future__ import annotations

import json
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from playground.prompt_sets import load_built_in
from playground.store import Store, default_url
from tests.apptest import APP

MODELS = ["smollm2-135m", "smollm2-135m-int4"]
VERDICTS = {(0, MODELS[0]): "pass", (0, MODELS[1]): "pass", (1, MODELS[0]): "pass", (1, MODELS[1]): "fail"}


@pytest.fixture
def stored_run(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = Store(default_url())
    run_id = uuid.uuid4().hex
    store.create_prompt_set_run(run_id, load_built_in("quick-en").as_data(), MODELS, {"max_new_tokens": 16})
    for (row, model), verdict in VERDICTS.items():
        check = {"kind": "contains", "label": "contains “Paris”", "passed": verdict == "pass", "detail": ""}
        cell = {"answer": f"answer {row} of {model}", "checks": [check], "verdict": verdict}
        store.record_cell(run_id, row, model, cell | {"latency_s": 1.5, "tokens_out": 9, "cost_usd": 0.0001})
    store.finish_prompt_set_run(run_id, "done")
    return store, run_id


def open_run(run_id: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/prompt_sets.py")
    at.query_params["run"] = run_id
    return at.run()


def row_titles(at: AppTest) -> list[str]:
    return [e.label for e in at.expander if ": " in e.label]


def test_the_matrix_filters_and_a_manual_verdict(stored_run):
    store, run_id = stored_run
    at = open_run(run_id)
    assert not at.exception, [e.message for e in at.exception]
    scores, matrix = at.dataframe[0].value, at.dataframe[1].value
    assert list(scores["Pass rate"]) == [1.0, 0.5]  # the unanswered third row counts for neither model
    assert len(matrix) == 3 and matrix.iloc[1, 2].startswith("✗ fail")
    assert [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")] == [
        "Pass rate against latency",
        "Pass rate against cost of the run",
    ]
    assert len(row_titles(at)) == 3
    at.toggle(key="prompt_sets_failures").set_value(True).run()
    assert row_titles(at) == ["json-person: " + load_built_in("quick-en").rows[1].prompt]

    at.toggle(key="prompt_sets_failures").set_value(False).run()
    at.toggle(key="prompt_sets_disagree").set_value(True).run()
    assert len(row_titles(at)) == 1
    form = f"prompt_sets_cell_1_{MODELS[1]}"
    radio = next(r for r in at.radio if r.label == "Your verdict" and form in str(r.form_id))
    radio.set_value("pass")
    next(t for t in at.text_input if form in str(t.form_id)).set_value("a fair answer")
    next(b for b in at.button if form in str(b.form_id)).click().run()
    cell = next(c for c in store.prompt_set_cells(run_id) if c["row_index"] == 1 and c["model_id"] == MODELS[1])
    assert (cell["manual_verdict"], cell["comment"]) == ("pass", "a fair answer")
    assert row_titles(at) == [] and at.dataframe[0].value["Pass rate"].tolist() == [1.0, 1.0]


def test_the_run_in_chinese(stored_run):
    _store, run_id = stored_run
    at = open_run(run_id, "zh")
    assert not at.exception, [e.message for e in at.exception]
    assert "通过率" in at.dataframe[0].value.columns and at.dataframe[1].value.iloc[0, 1].startswith("✓ 通过")
    assert [b.label for b in at.button if b.label.startswith("再运行")] == ["再运行一次并对比"]


def test_an_unknown_run_link_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = open_run("0" * 32)
    assert [w.value for w in at.warning] == ["There is no prompt-set run with this link."]
