"""The one run path (``Playground``): every run is priced and recorded, failures and timeouts included."""

from __future__ import annotations

import pytest

from playground import (
    Credentials,
    Failure,
    GenParams,
    Playground,
    Request,
    Result,
    RunContext,
    RunSettings,
    Token,
    load_sample,
)
from playground.classify import PRESETS
from playground.metrics import Stopwatch
from playground.store import Store

GREEDY = GenParams(temperature=0, max_new_tokens=8)


@pytest.fixture
def store(tmp_path):
    history = Store(tmp_path / "runs.sqlite")
    yield history
    history.close()


@pytest.fixture
def playground(catalog, store):
    return Playground(catalog, store)


def test_a_run_is_priced_recorded_and_tagged_with_its_context(playground, store):
    request = Request("generate", prompt="What is the capital of France?", params=GREEDY)
    context = RunContext("generate", session_id="s-1")
    events = list(
        playground.run(["smollm2-135m", "gpt-4o"], request, Credentials(), context, RunSettings(hourly_usd=3.6))
    )
    finals = {e.model_id: e for e in events if isinstance(e, (Result, Failure))}
    answer = finals["smollm2-135m"]
    assert isinstance(answer, Result) and answer.cost is not None and answer.cost.usd > 0
    assert isinstance(finals["gpt-4o"], Failure) and finals["gpt-4o"].code == "auth"  # no key in this test
    runs = store.runs()
    assert sorted(runs["model_id"]) == ["gpt-4o", "smollm2-135m"]
    smol = runs.set_index("model_id").loc["smollm2-135m"]
    assert (
        smol["page"] == "generate"
        and smol["output"] == answer.text
        and smol["cost_usd"] == pytest.approx(answer.cost.usd)
    )
    assert runs.set_index("model_id").loc["gpt-4o", "error"]


def test_times_are_counted_from_arrival(playground):
    request = Request("generate", prompt="Say hi.", params=GREEDY)
    final = playground.run_one("smollm2-135m", request)  # warm the model first
    request = Request("generate", prompt="Say hi.", params=GREEDY)
    watch = Stopwatch(request.arrived)
    seen_first = None
    for event in playground.run(["smollm2-135m"], request):
        if isinstance(event, Token) and seen_first is None:
            seen_first = watch.arrived and __import__("time").perf_counter()
        if isinstance(event, Result):
            final = event
    observed_ttft = seen_first - request.arrived
    m = final.metrics
    assert m.ttft_s is not None and 0 < m.ttft_s <= observed_ttft + 0.05
    assert m.total_s >= m.ttft_s and m.decode_s == pytest.approx(m.total_s - m.ttft_s)
    assert m.first_token_after_start_s <= m.ttft_s


def test_a_timed_out_run_reaches_history_as_a_failure_with_its_partial_output(playground, store):
    playground.run_one("smollm2-135m", Request("generate", prompt="Hi", params=GREEDY))  # load outside the deadline
    slow = Request(
        "generate",
        prompt="Count from one to a thousand.",
        params=GenParams(temperature=0, max_new_tokens=2000, ignore_eos=True),
    )
    events = list(playground.run(["smollm2-135m"], slow, settings=RunSettings(timeout_s=20.0)))
    final = events[-1]
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert isinstance(final, Failure) and final.code == "timeout"
    assert streamed and final.partial_text == streamed
    assert final.metrics is not None and final.metrics.total_s >= 20.0 and final.metrics.ttft_s < final.metrics.total_s
    row = store.runs().iloc[-1]
    assert row["error"].startswith("No answer within") and row["output"] == streamed and row["total_s"] >= 20.0


def test_a_batch_evaluation_reaches_history_with_its_metrics(playground, store):
    data = load_sample("sentiment")
    evaluations = playground.evaluate(
        ["minilm-zero-shot"], data, PRESETS["sentiment"].labels, settings=RunSettings(hourly_usd=1.0)
    )
    ev = evaluations["minilm-zero-shot"]
    assert ev.metrics is not None and ev.metrics.accuracy > 0.7 and ev.cost.usd > 0
    row = store.runs().iloc[-1]
    assert row["page"] == "evaluate" and row["model_id"] == "minilm-zero-shot"
    assert row["tokens_in"] == ev.total_tokens("input") and row["total_s"] == pytest.approx(ev.wall_s + ev.load_s)
    assert f"on {len(data.texts)} texts" in row["output"] and row["error"] is None
    assert ev.share is not None and ev.share.cpu_s > 0  # the pass's own CPU time...
    assert row["energy_wh"] > 0 and row["energy_source"] in ("cpu-time", "rapl", "nvml")  # ...is its energy


def test_a_store_that_cannot_write_does_not_break_the_run(catalog, tmp_path):
    broken = Store(tmp_path / "gone.sqlite")
    broken.close()  # every write now raises
    events = list(
        Playground(catalog, broken).run(
            ["minilm-zero-shot"], Request("classify", prompt="Great!", labels=("positive", "negative"))
        )
    )
    assert isinstance(events[-1], Result) and events[-1].label == "positive"
    assert any("not saved to history" in getattr(e, "message", "") for e in events)


def test_keys_are_scrubbed_from_what_is_recorded(playground, store):
    secret = "sk-test-" + "x" * 24
    request = Request("generate", prompt=f"my key is {secret}", params=GREEDY)
    list(playground.run(["gpt-4o"], request, Credentials(api_keys={"openai": secret})))
    row = store.runs().iloc[-1]
    assert secret not in str(row.to_dict()) and "[redacted]" in row["input"]
