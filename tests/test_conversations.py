"""Conversations on the engine: every turn re-sends the whole thread, trimming, stop, regenerate, totals.

Real models throughout: SmolLM2 fp32 (transformers continuous batching), its int4 ONNX Runtime GenAI build, and a
real `transformers serve` reached through the self-hosted provider. What a backend received is read from what it
reports: each run's input tokens are the prompt it was handed, counted by the model's own tokenizer (the local
backends) or by the server itself (the usage `transformers serve` returns).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from playground import Credentials, GenParams, Playground, Request, Result, RunContext, RunSettings
from playground.conversations import Asking, Conversation, export_json, export_markdown, fit_history, token_counter
from playground.events import chat_messages
from playground.store import Store

LOCAL = ["smollm2-135m", "smollm2-135m-int4"]
QUESTIONS = ["Name a fruit.", "What colour is it?", "Say that again in one word."]


def test_chat_messages_put_the_history_between_the_system_prompt_and_the_question():
    history = ({"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"})
    request = Request("generate", prompt="And now?", system="Be brief.", history=history)
    assert chat_messages(request) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]


def test_fit_history_leaves_out_the_oldest_whole_turns_and_says_how_many():
    def words(messages):
        return sum(len(m["content"].split()) for m in messages)

    history = []
    for n in range(1, 5):
        history += [{"role": "user", "content": f"question {n} " * 5}, {"role": "assistant", "content": "answer " * 10}]
    kept, trim = fit_history(history, "", "last question", limit=40, count=words)
    assert kept == history[-2:] and trim.dropped == 3 and trim.tokens == words(history) + 2 and trim.limit == 40
    assert "1-3" in trim.describe() and "82" in trim.describe() and "40" in trim.describe()
    assert fit_history(history, "", "q", limit=None, count=words) == (history, None)  # API models: the whole thread


@pytest.fixture
def engine(catalog, tmp_path):
    store = Store(tmp_path / "runs.sqlite")
    yield Playground(catalog, store)
    store.close()


def asking(engine, credentials=None, **params) -> Asking:
    params = GenParams(temperature=0.0, max_new_tokens=params.pop("max_new_tokens", 24), **params)
    models = [*LOCAL, "self-hosted"]
    return Asking(
        engine,
        credentials or Credentials(),
        RunContext("generate", session_id="s1"),
        RunSettings(hourly_usd=1.0),
        system="Answer briefly.",
        params={m: params for m in models},
    )


@pytest.mark.slow
def test_the_third_turn_carries_the_first_two_on_every_backend_and_totals_match_the_store(
    engine, catalog, serve_credentials
):
    models = [*LOCAL, "self-hosted"]
    conversation = Conversation(tuple(models))
    ask = asking(engine, serve_credentials)
    for question in QUESTIONS:
        conversation.send(question, ask)
        assert conversation.wait(300)
    counter = token_counter(catalog.get("smollm2-135m"))
    for model_id, thread in conversation.threads.items():
        assert [t.user for t in thread.turns] == QUESTIONS
        assert all(isinstance(t.final, Result) and t.answer for t in thread.turns), model_id
        third = thread.turns[2].final.metrics.input_tokens
        # the exact prompt of turn 3, with the first two turns (each with this model's own answers) in it
        whole = [{"role": "system", "content": "Answer briefly."}, *thread.history(2)]
        whole.append({"role": "user", "content": QUESTIONS[2]})
        assert third == counter(whole), (model_id, third, counter(whole))
        assert third > thread.turns[0].final.metrics.input_tokens + 2 * len(thread.turns[0].answer.split())
    runs = engine.store.runs(conversation_id=conversation.id)
    assert sorted(runs["turn"].tolist()) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert set(runs[runs["turn"] == 3]["input"]) == {
        f"[system] Answer briefly.\n[2 earlier turns re-sent]\n{QUESTIONS[2]}"
    }
    for model_id, thread in conversation.threads.items():
        mine, totals = runs[runs["model_id"] == model_id], thread.totals()
        assert totals.runs == len(mine) == 3
        assert totals.input_tokens == mine["tokens_in"].sum() and totals.output_tokens == mine["tokens_out"].sum()
        assert totals.seconds == pytest.approx(mine["total_s"].sum())
        if mine["cost_usd"].isna().any():  # the self-hosted server has no price: unpriced, never a silent $0
            assert totals.usd is None and model_id == "self-hosted"
        else:
            assert totals.usd == pytest.approx(mine["cost_usd"].sum()) and totals.usd > 0
    exported = json.loads(export_json(conversation))
    assert [len(c["turns"]) for c in exported["columns"]] == [3, 3, 3]
    assert (
        exported["columns"][0]["turns"][2]["input_tokens"]
        == conversation.threads[LOCAL[0]].turns[2].final.metrics.input_tokens
    )
    assert QUESTIONS[1] in export_markdown(conversation)


@pytest.mark.slow
def test_a_thread_past_the_prompt_limit_drops_its_oldest_turns_and_still_answers(engine, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_PROMPT_TOKENS", "120")
    conversation = Conversation(("smollm2-135m-int4",))
    ask = asking(engine, max_new_tokens=40, ignore_eos=True)
    for n in range(3):
        conversation.send(f"Tell me about fruit number {n}, in detail please.", ask)
        assert conversation.wait(120)
    turns = conversation.threads["smollm2-135m-int4"].turns
    assert turns[0].trim is None
    trimmed = [t for t in turns if t.trim is not None]
    assert trimmed and trimmed[-1].trim.dropped >= 1 and trimmed[-1].trim.limit == 120
    assert trimmed[-1].trim.tokens > 120 and "left out" in trimmed[-1].trim.describe()
    last = turns[-1].final
    assert isinstance(last, Result) and last.text and last.metrics.input_tokens <= 120


@pytest.mark.slow
def test_stop_ends_one_column_while_the_other_goes_on(engine):
    conversation = Conversation(tuple(LOCAL))
    conversation.send("Count slowly from one to a hundred.", asking(engine, max_new_tokens=160, ignore_eos=True))
    fp32, int4 = (conversation.threads[m].turns[-1] for m in LOCAL)
    deadline = time.monotonic() + 120
    while not (fp32.text and int4.text) and time.monotonic() < deadline:
        time.sleep(0.05)
    conversation.stop("smollm2-135m")
    assert fp32.done.wait(10)
    stopped_at = len(fp32.text)
    assert fp32.final.code == "cancelled" and fp32.final.partial_text
    assert conversation.wait(120)
    assert isinstance(int4.final, Result) and int4.final.metrics.output_tokens == 160
    assert len(fp32.answer) == stopped_at  # nothing more came after the stop
    runs = engine.store.runs(conversation_id=conversation.id)
    assert set(runs["error_code"].fillna("ok")) == {"cancelled", "ok"}


@pytest.mark.slow
def test_regenerate_replaces_only_that_columns_last_answer(engine):
    conversation = Conversation(tuple(LOCAL))
    ask = asking(engine, max_new_tokens=16)
    for question in QUESTIONS[:2]:
        conversation.send(question, ask)
        assert conversation.wait(120)
    fp32, int4 = (conversation.threads[m] for m in LOCAL)
    before = [t.final for t in fp32.turns], [t.final for t in int4.turns]
    sampled = replace(ask, params={m: GenParams(temperature=1.5, max_new_tokens=16) for m in LOCAL})
    conversation.regenerate("smollm2-135m-int4", sampled)
    assert conversation.wait(120)
    assert [t.final for t in fp32.turns] == before[0]  # the other column is untouched
    assert int4.turns[0].final is before[1][0] and int4.turns[1].final is not before[1][1]
    assert isinstance(int4.turns[1].final, Result) and int4.turns[1].user == QUESTIONS[1]
    assert int4.totals().runs == 3  # the replaced answer was paid for, and stays in history
    runs = engine.store.runs(conversation_id=conversation.id, models=["smollm2-135m-int4"])
    assert runs["turn"].tolist() == [1, 2, 2]


@pytest.mark.slow
def test_a_follow_up_sent_mid_answer_waits_for_that_answer_and_carries_it(engine, catalog):
    conversation = Conversation(("smollm2-135m-int4",))
    ask = asking(engine, max_new_tokens=48, ignore_eos=True)
    conversation.send(QUESTIONS[0], ask)
    conversation.send(QUESTIONS[1], ask)  # at once: the first answer has not even started
    assert conversation.wait(120)
    first, second = conversation.threads["smollm2-135m-int4"].turns
    assert isinstance(first.final, Result) and first.final.metrics.output_tokens == 48  # not cancelled by the second
    whole = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": QUESTIONS[0]}]
    whole += [{"role": "assistant", "content": first.answer}, {"role": "user", "content": QUESTIONS[1]}]
    assert second.final.metrics.input_tokens == token_counter(catalog.get("smollm2-135m-int4"))(whole)
    assert second.final.metrics.queue_s > 0  # its clock started when it was sent, before the first answer ended
