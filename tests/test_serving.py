"""Serving many sessions at once, against the real embedded SmolLM2 and MiniLM: the line, batching, cancels, times."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
import torch

from playground import hardware
from playground.backends.local_classify import EmbeddingZeroShot
from playground.backends.local_generate import CausalLMBackend
from playground.backends.local_pool import POOL
from playground.errors import BUSY, CANCELLED, ProviderError
from playground.events import (
    Credentials,
    Failure,
    GenParams,
    Notice,
    Request,
    Result,
    Token,
    Waiting,
)
from playground.models_cache import converted_smollm2, resolve
from playground.serving import batched_lm, limits
from playground.serving.admission import ModelLine

BACKEND = CausalLMBackend()


def run(spec, request) -> tuple[list, Result | Failure]:
    events = list(BACKEND.execute(spec, request, Credentials()))
    return events, events[-1]


def greedy(prompt: str, tokens: int, **params) -> Request:
    return Request(
        "generate", prompt=prompt, params=GenParams(temperature=0, max_new_tokens=tokens, ignore_eos=True, **params)
    )


# --- the line, alone -------------------------------------------------------------------------------------------


def test_a_full_line_refuses_at_once_and_a_session_holds_one_place():
    line = ModelLine("m", slots=1, max_waiting=2)
    working, abandoned, second = line.enter("a"), line.enter("b"), line.enter("c")
    with pytest.raises(ProviderError) as full:
        line.enter("d")
    assert full.value.code == BUSY and "2 requests are waiting" in full.value.message
    waiter = line.wait_turn(abandoned)
    assert next(waiter).position == 1
    first = line.enter("b")  # a double click: Streamlit reruns the page, so the newer run is the one shown
    assert line.counts() == (1, 2)  # it took the older one's place, and did not queue twice
    with pytest.raises(ProviderError) as replaced:
        next(waiter)
    assert replaced.value.code == CANCELLED
    line.leave(working, completed=True)
    assert first.admitted is not None and second.admitted is None
    line.enter("b")  # while its run works: the run is told to stop, the new one waits its turn
    assert first.superseded and line.counts() == (1, 2)
    with pytest.raises(ProviderError) as with_eta:  # now that a run was timed, the refusal says when to retry
        line.enter("e"), line.enter("f")
    assert with_eta.value.retry_after_s is not None


def test_waiting_positions_count_down_and_leaving_the_line_frees_the_place():
    line = ModelLine("m", slots=1, max_waiting=5)
    working = line.enter()
    ahead, mine = line.enter(), line.enter()
    seen: list[Waiting] = []
    waiter = line.wait_turn(mine)
    seen.append(next(waiter))
    line.leave(working, completed=True)  # `ahead` starts: we move up
    seen.append(next(waiter))
    line.leave(ahead, completed=True)
    assert list(waiter) == []  # admitted: the generator ends
    assert [w.position for w in seen] == [2, 1] and seen[0].waiting == 2
    assert seen[1].eta_s is not None  # measured from the finished run
    gone = line.enter()
    left = line.wait_turn(line.enter())
    next(left)
    left.close()  # a closed tab
    assert line.counts() == (1, 1)  # `mine` works, `gone` waits; the closed one is gone
    line.leave(mine), line.leave(gone)
    assert line.counts() == (0, 0)


# --- batched generation on the real SmolLM2 ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2(catalog):
    return catalog.get("smollm2-135m")


def engine_of(spec) -> batched_lm.BatchedLM:
    loaded, _ = POOL.get((spec.id, str(converted_smollm2())), lambda: pytest.fail("the model should be loaded"))
    return loaded.services["batched"]


def test_each_request_keeps_its_own_parameters_inside_a_batch(smollm2):
    requests = [
        greedy("Name three fruits.", 5),
        Request(
            "generate",
            prompt="Write a word.",
            params=GenParams(temperature=0.9, top_p=0.9, max_new_tokens=9, seed=7, ignore_eos=True),
        ),
        Request(
            "generate",
            prompt="Write a word.",
            params=GenParams(temperature=0.9, top_p=0.9, max_new_tokens=7, seed=8, ignore_eos=True),
        ),
    ]
    alone = [run(smollm2, r)[1] for r in requests]
    together: list = [None] * len(requests)

    def one(i):
        together[i] = run(smollm2, dataclasses.replace(requests[i], arrived=time.perf_counter()))[1]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(isinstance(r, Result) for r in alone + together), alone + together
    assert [r.metrics.output_tokens for r in together] == [5, 9, 7]
    assert [r.text for r in together] == [r.text for r in alone]  # greedy and seeded answers do not depend on company
    assert alone[1].text != alone[2].text or alone[1].metrics.output_tokens != alone[2].metrics.output_tokens
    assert alone[0].extra["hardware"] == hardware.detect().name


def test_a_shared_system_prompt_is_prefilled_once_and_answers_do_not_change(smollm2, monkeypatch):
    from transformers.generation.continuous_batching.cache import PagedAttentionCache

    reused: list[int] = []
    search = PagedAttentionCache.search_prefix_match

    def spy(self, request_id, prompt_ids):
        reused.append(search(self, request_id, prompt_ids))
        return reused[-1]

    monkeypatch.setattr(PagedAttentionCache, "search_prefix_match", spy)
    _, first = run(smollm2, greedy("Name a colour.", 6))
    _, second = run(smollm2, greedy("Name a colour.", 6))
    assert reused and reused[-1] >= batched_lm.PAGE_SIZE  # at least the system prompt's first page came from cache
    assert isinstance(second, Result) and second.text == first.text

    tokenizer, model = POOL.get((smollm2.id, str(converted_smollm2())), lambda: None)[0].parts
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name a colour."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    plain = model.generate(**ids, max_new_tokens=6, do_sample=False)  # no batching, no cache sharing
    assert second.text == tokenizer.decode(plain[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def test_a_small_step_runs_on_one_thread_and_a_big_one_on_all():
    most = torch.get_num_threads()
    fit = batched_lm._threads_for_step(most)
    seen = {}

    def step(tokens: int) -> None:  # on its own thread, as CB's steps are
        fit(None, (), {"input_ids": torch.zeros(1, tokens, dtype=torch.long)})
        seen[tokens] = torch.get_num_threads()

    for tokens in (1, 256):
        worker = threading.Thread(target=step, args=(tokens,))
        worker.start(), worker.join()
    assert seen == {1: 1, 256: most}
    assert torch.get_num_threads() == most  # other threads keep theirs


def test_a_sessions_newer_run_stops_its_older_one(smollm2):
    older_events: list = []
    started = threading.Event()

    def older():
        for event in BACKEND.execute(
            smollm2, dataclasses.replace(greedy("Count to a hundred.", 200), owner="s1"), Credentials()
        ):
            older_events.append(event)
            started.set()

    worker = threading.Thread(target=older)
    worker.start()
    assert started.wait(120)
    _, newer = run(smollm2, dataclasses.replace(greedy("Say hi.", 3), owner="s1"))  # Run pressed again: a rerun
    worker.join(60)
    assert isinstance(newer, Result) and newer.metrics.output_tokens == 3
    assert not worker.is_alive()
    assert isinstance(older_events[-1], Failure) and older_events[-1].code == CANCELLED
    assert sum(isinstance(e, Token) for e in older_events) < 200


def test_cancel_during_prefill_removes_the_request_from_the_batch(smollm2, monkeypatch):
    run(smollm2, greedy("Hi", 1))  # warm: the engine exists
    monkeypatch.setattr(batched_lm, "HEARTBEAT_S", 0.02)  # wake up often while the long prompt is read
    long_prompt = greedy("word " * 1900 + "\nHow many words?", 50)
    events = BACKEND.execute(smollm2, long_prompt, Credentials())
    for event in events:
        assert not isinstance(event, (Token, Result, Failure)), event  # the prompt is still being read
        if isinstance(event, Notice) and event.progress and "Reading" in event.message:
            break
    assert engine_of(smollm2).in_flight() == 1
    events.close()  # what the runner does on Stop, a timeout or a closed tab
    deadline = time.monotonic() + 120  # one step of 256 prompt tokens: well under a second on a quiet CPU
    while engine_of(smollm2).in_flight() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine_of(smollm2).in_flight() == 0
    _, after = run(smollm2, greedy("Say yes.", 3))
    assert isinstance(after, Result) and after.metrics.output_tokens == 3


def test_a_queued_request_waits_in_line_and_reports_its_wait(smollm2, monkeypatch):
    """A model that runs one request at a time (batch of 1), a line of 1: the third request is refused."""
    monkeypatch.setenv("PLAYGROUND_MAX_BATCH", "1")
    monkeypatch.setenv("PLAYGROUND_MAX_QUEUE", "1")
    one_slot = dataclasses.replace(smollm2, id="smollm2-one-slot")
    first_events: list = []
    started = threading.Event()

    def first():
        for event in BACKEND.execute(one_slot, greedy("Count to twenty.", 24), Credentials()):
            first_events.append(event)
            if isinstance(event, Token):
                started.set()

    runner = threading.Thread(target=first)
    runner.start()
    assert started.wait(120), first_events
    second = greedy("Say hello.", 4, seed=1)
    seen, first_token_at = [], None
    refused = None
    for event in BACKEND.execute(one_slot, second, Credentials()):
        seen.append(event)
        if isinstance(event, Waiting) and refused is None:
            refused = run(one_slot, greedy("A third one.", 2))[1]
        if isinstance(event, Token) and first_token_at is None:
            first_token_at = time.perf_counter()
    runner.join()
    assert isinstance(refused, Failure) and refused.code == BUSY and "1 requests are waiting" in refused.message
    waits = [e for e in seen if isinstance(e, Waiting)]
    assert waits and waits[0].position == 1 and waits[0].waiting == 1
    result = seen[-1]
    assert isinstance(result, Result), result
    m = result.metrics
    assert m.queue_s > 0.1 and m.load_s == 0 and m.ttft_s > m.queue_s
    observed = first_token_at - second.arrived
    assert abs(m.ttft_s - observed) <= 0.05 * observed + 0.01  # what the card says is what the caller saw


def test_prompts_are_capped_by_the_server_setting_and_the_notice_says_so(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_PROMPT_TOKENS", "2048")
    kept, notice = limits.cap_prompt(3000, 8000, "m")
    assert kept == 2048 and "PLAYGROUND_MAX_PROMPT_TOKENS" in notice.message and "beside it" in notice.message
    kept, notice = limits.cap_prompt(3000, 1000, "m")
    assert kept == 1000 and "context window" in notice.message
    assert limits.cap_prompt(2000, 4000, "m") == (2000, None)


# --- micro-batched classification -------------------------------------------------------------------------------


def test_single_classifications_from_many_sessions_share_forward_passes(catalog):
    spec = catalog.get("minilm-zero-shot")
    texts = [f"The match ended {i} to nil and the fans cheered." for i in range(6)] + ["Stocks fell sharply today."] * 2
    labels = ("sports", "business")
    backend = EmbeddingZeroShot()
    alone = list(backend.execute(spec, Request("classify", prompt=texts[0], labels=labels), Credentials()))[-1]
    loaded, _ = POOL.get((spec.id, resolve(spec).location), lambda: pytest.fail("the model should be loaded"))
    batcher = next(service for name, service in loaded.services.items() if name.startswith("micro-batch"))
    passes_before = batcher.passes  # the shared batcher has served earlier tests in this process too
    finals: list = [None] * len(texts)

    def one(i):
        finals[i] = list(backend.execute(spec, Request("classify", prompt=texts[i], labels=labels), Credentials()))[-1]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert [r.label for r in finals] == ["sports"] * 6 + ["business"] * 2
    assert finals[0].scores == pytest.approx(alone.scores, abs=1e-4)
    assert batcher.passes - passes_before < len(texts)  # gathered: fewer forward passes than requests
    assert all(r.metrics.queue_s <= r.metrics.ttft_s == r.metrics.total_s for r in finals)


# --- hardware ----------------------------------------------------------------------------------------------------


def test_hardware_is_named_and_priced_with_a_source(monkeypatch):
    found = hardware.detect()
    assert found.device in ("cuda", "mps", "cpu") and found.cores >= 1 and found.name
    assert found.default_usd_per_hour > 0 and found.rate_source and found.rate_date
    monkeypatch.setenv("PLAYGROUND_DEVICE", "cpu")
    assert hardware.pick_device() == "cpu"
    assert all(rate.source and rate.date for rate in hardware.RATES.values())
