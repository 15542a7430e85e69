"""The int4 SmolLM2 on ONNX Runtime GenAI, built by `make setup` from the same weights: the generation contract."""

from __future__ import annotations

import re
import threading
import time

import pytest

from playground import models_cache
from playground.backends.local_pool import POOL
from playground.backends.ort_genai import OrtGenAIBackend
from playground.backends.registry import backend_for
from playground.catalog import CatalogError, ModelSpec, load_catalog
from playground.errors import BUSY, CANCELLED
from playground.events import Failure, GenParams, Notice, Request, Result, Token, Waiting
from playground.runner import run_side_by_side
from playground.serving import admission

INT4 = "smollm2-135m-int4"
FRANCE = Request(
    "generate", prompt="What is the capital of France?", params=GenParams(temperature=0, max_new_tokens=24)
)


@pytest.fixture(scope="module")
def int4(catalog) -> ModelSpec:
    spec = catalog.get(INT4)
    models_cache.ensure_onnx(spec)  # what `make setup` does; a no-op when it is built
    return spec


def run(spec: ModelSpec, request: Request) -> list:
    return list(OrtGenAIBackend().execute(spec, request, None))


def test_catalog_names_the_runtime_and_the_precision(catalog):
    fp32, int4 = catalog.get("smollm2-135m"), catalog.get(INT4)
    assert (fp32.runtime, fp32.precision) == ("transformers", "fp32")
    assert (int4.runtime, int4.precision) == ("onnxruntime-genai", "int4")
    assert fp32.source == int4.source, "the same weights, two runtimes"
    assert isinstance(backend_for(catalog, int4, "generate"), OrtGenAIBackend)
    assert backend_for(catalog, int4, "classify") is None


def test_an_unknown_runtime_is_a_catalog_error(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[[models]]\nid = "x"\nname = "X"\ntasks = ["generate"]\nopenness = "open"\nlicense = "MIT"\n'
        'provider = "local"\nbackend = "causal-lm"\nsource = "path:x"\nruntime = "llama.cpp"\n'
    )
    with pytest.raises(CatalogError, match=re.escape("runtime 'llama.cpp'")):
        load_catalog(extra)


def test_int4_answers_paris_streamed_with_counts_metrics_and_card_facts(int4, smollm2_folder):
    from transformers import AutoTokenizer

    events = list(run_side_by_side(load_catalog(), [INT4], FRANCE))
    result = events[-1]
    assert isinstance(result, Result), result
    assert "Paris" in result.text
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert len(tokens) >= 3 and "".join(tokens) == result.text
    tokenizer = AutoTokenizer.from_pretrained(smollm2_folder)  # the same weights' tokenizer and chat template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": FRANCE.prompt}], tokenize=True, add_generation_prompt=True, return_dict=True
    )
    m = result.metrics
    assert m.input_tokens == len(prompt["input_ids"])
    assert 3 <= m.output_tokens <= 24
    assert 0 < m.ttft_s <= m.total_s and m.queue_s + m.load_s <= m.ttft_s, "the wait and the load are inside TTFT"
    assert m.tokens_per_s and m.tokens_per_s > 1
    facts = result.extra
    assert (facts["runtime"], facts["precision"]) == ("onnxruntime-genai", "int4")
    assert 50e6 < facts["disk_bytes"] < 150e6, "the int4 build is about 86 MB of weights"
    assert facts["memory_bytes"] > 0, "loading the build grew the process"


def test_closing_the_stream_stops_generation_at_once(int4):
    long = Request(
        "generate", prompt="Write a long essay about Rome.", params=GenParams(temperature=0, max_new_tokens=400)
    )
    events = OrtGenAIBackend().execute(int4, long, None)
    received = 0
    for event in events:
        received += isinstance(event, Token)
        if received == 3:
            break
    events.close()
    worker = next(loaded.parts.worker for key, loaded in POOL._models.items() if key[0] == INT4)
    deadline = time.monotonic() + 5
    while worker.in_flight() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert worker.in_flight() == 0, "the cancelled request still holds a place in the batch"


def test_a_concurrent_batch_honours_each_request_and_says_a_seed_will_not_repeat_on_a_cpu(int4):
    """Six students at once: more than the engine's batch of 4, so some wait in the shared line and hear their place.
    A CPU engine takes no per-request seed, and the other way (og.Generator) freezes the process: the card says so."""
    prompt = "Tell me a story about a cat."
    params = {
        "greedy-a": GenParams(temperature=0, max_new_tokens=16),
        "greedy-b": GenParams(temperature=0, max_new_tokens=16),
        "seed1": GenParams(temperature=0.9, seed=1, max_new_tokens=16),
        "unseeded": GenParams(temperature=0.9, seed=None, max_new_tokens=16),
        "greedy-c": GenParams(temperature=0, max_new_tokens=16),
        "greedy-d": GenParams(temperature=0, max_new_tokens=16),
    }
    outcomes: dict[str, list] = {}

    def student(name: str) -> None:
        outcomes[name] = run(int4, Request("generate", prompt=prompt, params=params[name], owner=name))

    threads = [threading.Thread(target=student, args=(name,)) for name in params]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    finals = {name: events[-1] for name, events in outcomes.items()}
    assert all(isinstance(f, Result) for f in finals.values()), finals
    text = {name: final.text for name, final in finals.items()}
    assert text["greedy-a"] == text["greedy-b"] == text["greedy-c"] == text["greedy-d"]
    notices = {name: [e.message for e in events if isinstance(e, Notice)] for name, events in outcomes.items()}
    assert any("seed" in m for m in notices["seed1"]), notices["seed1"]
    assert not any("seed" in m for m in notices["unseeded"] + notices["greedy-a"]), notices
    waits = [e for events in outcomes.values() for e in events if isinstance(e, Waiting)]
    assert waits and all(w.position >= 1 and w.waiting >= w.position for w in waits)
    assert all(w.model_id == INT4 for w in waits)
    assert max(f.metrics.queue_s for f in finals.values()) > 0, "someone waited for a slot in the batch"


def test_a_missing_int4_build_says_how_to_make_it(int4, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    final = run(int4, FRANCE)[-1]
    assert isinstance(final, Failure)
    assert "not on this machine" in final.message
    assert "make setup" in final.hint


def test_prefetch_lists_the_onnx_build_a_folder_model_still_needs(tmp_path, smollm2_folder, monkeypatch):
    from playground.prefetch import describe, inspect

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))  # no build there yet

    spec = ModelSpec(
        id="folder-int4",
        name="SmolLM2 folder int4",
        tasks=("generate",),
        openness="open",
        license="Apache-2.0",
        provider="local",
        backend="causal-lm",
        source=f"path:{smollm2_folder}",
        runtime="onnxruntime-genai",
        precision="int4",
    )
    line = describe(inspect(spec))
    assert "local folder" in line and "int4 ONNX build made by `make prefetch`" in line


@pytest.fixture
def fresh_line(int4, monkeypatch):
    """A new line for the int4 model, created under this test's PLAYGROUND_MAX_QUEUE."""
    monkeypatch.setattr(admission, "_LINES", {})
    monkeypatch.setenv("PLAYGROUND_MAX_QUEUE", "1")


def test_the_int4_line_honours_max_queue_and_answers_busy_at_once(int4, fresh_line):
    params = GenParams(temperature=0, max_new_tokens=48)
    assert isinstance(run(int4, Request("generate", prompt="Hi.", params=params))[-1], Result)  # measures an ETA
    outcomes: dict[int, object] = {}

    def student(i: int) -> None:
        request = Request("generate", prompt=f"Count to twenty, student {i}.", params=params, owner=f"s{i}")
        outcomes[i] = run(int4, request)[-1]

    threads = [threading.Thread(target=student, args=(i,)) for i in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    busy = [f for f in outcomes.values() if isinstance(f, Failure)]
    assert len(busy) == 2, outcomes  # a batch of 4 works, 1 waits (PLAYGROUND_MAX_QUEUE=1), 2 are refused
    assert all(f.code == BUSY and f.retry_after_s > 0 for f in busy)
    assert sum(isinstance(f, Result) for f in outcomes.values()) == 5


def test_one_session_holds_one_place_on_the_int4_model(int4, fresh_line):
    """Ten presses of Run from one session: the newest run replaces the older ones, which stop."""
    params = GenParams(temperature=0, max_new_tokens=48)
    outcomes: dict[int, object] = {}

    def press(i: int) -> None:
        outcomes[i] = run(int4, Request("generate", prompt="Count to twenty.", params=params, owner="one-session"))[-1]

    threads = []
    for i in range(10):
        threads.append(threading.Thread(target=press, args=(i,)))
        threads[-1].start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=120)
    served = [i for i, f in outcomes.items() if isinstance(f, Result)]
    assert served == [9], outcomes
    assert all(f.code == CANCELLED for i, f in outcomes.items() if i != 9)


def test_ignore_eos_runs_to_max_new_tokens_greedy_and_sampled(int4):
    """Benchmarks need every answer the same length; "Name one colour." alone stops after about 25 tokens."""
    for params in (
        GenParams(temperature=0, max_new_tokens=40, ignore_eos=True),
        GenParams(temperature=0.9, seed=3, max_new_tokens=40, ignore_eos=True),
    ):
        final = run(int4, Request("generate", prompt="Name one colour.", params=params))[-1]
        assert isinstance(final, Result) and final.metrics.output_tokens == 40, final
    short = run(
        int4, Request("generate", prompt="Name one colour.", params=GenParams(temperature=0, max_new_tokens=40))
    )[-1]
    assert short.metrics.output_tokens < 40
