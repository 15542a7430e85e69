"""The fault table: every way a provider breaks, side by side with a real local model.

Each fault model of ``tests/fake_openai.py`` (a fake server: no real one fails like this on demand) generates beside
the embedded MiniLM classifier, in one run of the runner (each model with its own request; MiniLM is the cheapest
real local model on this 2-core machine). For each we check the message and code, the partial text, the time it
took, that MiniLM still finished, and that history records a failure, never a success.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from playground import errors
from playground.backends.openai_compat import TIMEOUT_SETTING, OpenAIChatBackend
from playground.catalog import load_catalog
from playground.events import Credentials, Failure, GenParams, Notice, Request, Result, Token
from playground.runner import run_side_by_side
from playground.store import Store
from tests.fake_openai import HANG_S, WORDS, fault_server, provider_toml

API_TIMEOUT_S = 2.0
LOCAL = "minilm-zero-shot"
ALL = "".join(WORDS)
PROMPT = Request("generate", prompt="Say hi.", params=GenParams(temperature=0, max_new_tokens=3))
REVIEW = Request("classify", prompt="A wonderful, warm film.", labels=("positive", "negative"))

# model, code, words in the message, partial text, (min s, max s)
FAULTS = [
    ("auth-401", errors.AUTH, "rejected (401)", "", (0, 10)),
    ("forbidden-403", errors.AUTH, "(403)", "", (0, 10)),
    ("missing-404", errors.INPUT, "'missing-404' was not found", "", (0, 10)),
    ("rate-limited", errors.RATE_LIMIT, "Retry in 30 s", "", (0, 10)),
    ("server-500", errors.SERVER_ERROR, "failed (500)", "", (0, 10)),
    ("unavailable-503", errors.SERVER_ERROR, "failed (503)", "", (0, 10)),
    ("html-200", errors.BAD_RESPONSE, "not an event stream", "", (0, 10)),
    ("hang-first-byte", errors.TIMEOUT, "No answer within 2 s", "", (API_TIMEOUT_S, HANG_S - 0.5)),
    ("hang-mid-stream", errors.TIMEOUT, "went quiet for 2 s after 3 tokens", ALL, (API_TIMEOUT_S, HANG_S - 0.5)),
    ("drop-mid-stream", errors.INCOMPLETE, "connection broke after 3 tokens", ALL, (0, 10)),
    ("malformed-chunk", errors.BAD_RESPONSE, "malformed reply after 1 tokens", WORDS[0], (0, 10)),
    ("no-finish", errors.INCOMPLETE, "without a finish reason", ALL, (0, 10)),
]


@pytest.fixture(scope="module")
def server():
    with fault_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def fault_catalog(server, tmp_path_factory):
    extra = tmp_path_factory.mktemp("faults") / "faulty.toml"
    models = [f[0] for f in FAULTS] + ["no-usage", "rate-limited-once"]
    extra.write_text(provider_toml(server.base_url, models))
    return load_catalog(extra)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("fault_history") / "runs.sqlite")
    yield store
    store.close()


@pytest.fixture(autouse=True)
def short_api_timeout(monkeypatch):
    monkeypatch.setenv(TIMEOUT_SETTING, str(API_TIMEOUT_S))


def side_by_side(catalog, history, model_id):
    """Run the fault model beside MiniLM; return its final, its tokens, its notices, its seconds, and MiniLM's final."""
    request = Request(PROMPT.task, prompt=PROMPT.prompt, params=PROMPT.params)  # arrives now
    requests = {model_id: request, LOCAL: REVIEW}
    finals, tokens, notices, seconds = {}, [], [], None
    for event in run_side_by_side(catalog, [LOCAL, model_id], requests, timeout_s=60):
        if isinstance(event, (Result, Failure)):
            finals[event.model_id] = event
            history.record("generate", catalog.get(event.model_id), requests[event.model_id], event, None)
            if event.model_id == model_id:
                seconds = time.perf_counter() - request.arrived
        elif event.model_id == model_id and isinstance(event, Token):
            tokens.append(event.text)
        elif event.model_id == model_id and isinstance(event, Notice):
            notices.append(event)
    return finals[model_id], tokens, notices, seconds, finals[LOCAL]


def last_row(history, model_id):
    return history.runs(models=[model_id]).iloc[-1]


@pytest.mark.parametrize(("model_id", "code", "words", "partial", "bounds"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault(fault_catalog, history, model_id, code, words, partial, bounds):
    final, tokens, _, seconds, local = side_by_side(fault_catalog, history, model_id)
    assert isinstance(final, Failure), final
    assert final.code == code and words in final.message, (final.code, final.message)
    assert final.hint, "every failure says how to fix it"
    assert final.partial_text == partial == "".join(tokens)
    assert bounds[0] <= seconds <= bounds[1], f"{model_id} took {seconds:.1f} s"
    assert isinstance(local, Result) and local.label == "positive", "the local column finished"
    row = last_row(history, model_id)
    assert row["error"] and words in row["error"], "history shows a failure"
    assert (row["output"] or "") == partial


def test_rate_limit_carries_its_wait(fault_catalog, history):
    final, *_ = side_by_side(fault_catalog, history, "rate-limited")
    assert final.retry_after_s == 30.0


def test_short_retry_after_is_retried_once(fault_catalog, history, server):
    """A 429 asking for 1 s is waited out once, with a notice; the second call succeeds."""
    final, _tokens, notices, seconds, local = side_by_side(fault_catalog, history, "rate-limited-once")
    assert isinstance(final, Result) and final.text == ALL
    assert server.calls["rate-limited-once"] == 2
    assert any(n.progress and "retrying" in n.message for n in notices)
    assert 1.0 <= seconds <= 10
    assert isinstance(local, Result)
    assert last_row(history, "rate-limited-once")["error"] is None


def test_missing_usage_is_a_result_with_unknown_counts(fault_catalog, history):
    """No usage is not a failure: the answer is whole. Token counts stay unknown and the card says so."""
    final, _, notices, _, _local = side_by_side(fault_catalog, history, "no-usage")
    assert isinstance(final, Result) and final.text == ALL
    assert final.metrics.output_tokens is None and final.metrics.tokens_per_s is None
    assert any("no token usage" in n.message for n in notices)
    row = last_row(history, "no-usage")
    assert row["error"] is None and pd.isna(row["tokens_out"])


@pytest.mark.parametrize(("model_id", "code"), [("html-200", errors.BAD_RESPONSE), ("server-500", errors.SERVER_ERROR)])
def test_non_streamed_faults(fault_catalog, model_id, code):
    """Without streaming, an HTML page with status 200 used to raise AttributeError."""
    backend = OpenAIChatBackend(fault_catalog.providers, stream=False)
    final = list(backend.execute(fault_catalog.get(model_id), PROMPT, Credentials()))[-1]
    assert isinstance(final, Failure) and final.code == code, final
