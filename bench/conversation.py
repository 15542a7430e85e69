"""Follow-ups on local models: does the 5th turn of a conversation start about as soon as the 1st?

Every turn re-sends the whole thread, so the 5th turn's prompt is several times the 1st's. A runtime that keeps
the KV pages of earlier prompts (transformers continuous batching, OpenVINO GenAI's scheduler with
``enable_prefix_caching``) reads only what is new; one that cannot (ONNX Runtime GenAI's engine on CPU) reads the
whole thread again. Five turns of about 60 tokens
each, answers of exactly 60 tokens (greedy), through the playground's own Conversation and Playground (the path the
page takes), one runtime after the other, each warmed up first. A last request sends the 5th turn's thread with a
one-off system prompt, so no page of it is cached: the TTFT the cache saved.

    python -m bench.conversation
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.runtimes import hardware
from playground import Credentials, GenParams, Playground, Request, RunContext, RunSettings, load_catalog
from playground.backends.openvino_genai import SCHEDULER
from playground.conversations import Asking, Conversation, token_counter
from playground.store import Store

MESSAGES = [
    "I am planning a small vegetable garden on a sunny balcony in a city with hot summers and mild winters. "
    "I have six large pots, a little shade in the late afternoon, and about twenty minutes a day for it. "
    "Which five vegetables would you grow first, and why those ones rather than others?",
    "Thanks. For the first two vegetables on your list, tell me how deep the pots should be, how often to water "
    "them in July when it is very hot, what kind of soil to buy at the shop, and whether they need any support "
    "such as sticks or strings while they grow.",
    "My neighbour says coffee grounds and crushed eggshells make good fertiliser for a balcony garden, and that "
    "banana peels help flowers and fruit. Is that true for the vegetables you chose, how much of each should I "
    "add to a pot, and how often should I add it?",
    "Some leaves on my tomato plant now have yellow edges and small brown spots, and the lowest leaves are "
    "curling. What are the three most likely causes, and what should I check first, in which order, before I buy "
    "anything in a shop to treat it?",
    "Please summarise everything you told me so far as a short weekly checklist that I can stick on the fridge, "
    "with one line for each task, the day of the week it should be done, and a note on what to change in the "
    "hottest weeks of the summer.",
]
ANSWER_TOKENS = 30  # short answers keep the bench short; the thread still grows by about 90 tokens a turn
SYSTEM = "You are a patient gardening teacher."
OPENVINO_CACHES = SCHEDULER["enable_prefix_caching"]
RUNTIMES = {
    "smollm2-135m": ("SmolLM2 fp32 with prefix caching", 1.5),  # transformers CB keeps completed KV pages
    "smollm2-135m-int4": ("SmolLM2 int4 on ONNX Runtime GenAI (no prefix cache across requests)", None),
    "smollm2-135m-ov-int4": (
        f"SmolLM2 int4 on OpenVINO GenAI, prefix caching {'on' if OPENVINO_CACHES else 'off'}",
        1.5 if OPENVINO_CACHES else None,
    ),
}


def measure(engine: Playground, model_id: str) -> dict:
    params = GenParams(temperature=0.0, max_new_tokens=ANSWER_TOKENS, ignore_eos=True)
    ask = Asking(
        engine, Credentials(), RunContext("bench", session_id="bench"), RunSettings(), SYSTEM, {model_id: params}
    )
    warm = Conversation((model_id,))
    warm.send("Say hello.", replace(ask, system=""))  # load the model; share nothing but the template
    warm.wait(300)
    conversation = Conversation((model_id,))
    for message in MESSAGES:
        conversation.send(message, ask)
        conversation.wait(300)
    turns = conversation.threads[model_id].turns
    metrics = [t.final.metrics for t in turns]
    fresh = Request(
        "generate",
        prompt=MESSAGES[-1],
        system=f"{SYSTEM} (run {secrets.token_hex(4)})",  # a new first line: no cached page matches
        params=params,
        history=tuple(conversation.threads[model_id].history(len(turns) - 1)),
    )
    uncached = engine.run_one(model_id, fresh, context=RunContext("bench", session_id="bench"))
    count = token_counter(engine.catalog.get(model_id))
    return {
        "ttft": [m.ttft_s for m in metrics],
        "prompt_tokens": [m.input_tokens for m in metrics],
        "message_tokens": [_tokens_of(count, m) for m in MESSAGES] if count else [],
        "uncached_ttft": uncached.metrics.ttft_s,
    }


def _tokens_of(count, text: str) -> int:
    """A message's own tokens: its chat prompt less the same prompt around an empty message."""
    return count([{"role": "user", "content": text}]) - count([{"role": "user", "content": ""}])


def main() -> int:
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "bench.sqlite")
        engine = Playground(load_catalog(), store)
        print(f"Hardware: {hardware()} (a shared machine: other work may run at the same time)")
        for model_id, (label, goal) in RUNTIMES.items():
            r = measure(engine, model_id)
            ratio = r["ttft"][-1] / r["ttft"][0]
            target = f"goal <= {goal}" if goal else "a figure: this runtime reads the whole thread every turn"
            print(
                f"TTFT of the 5th turn / TTFT of the 1st turn, {label}, 5 turns of about 60 tokens each: "
                f"{ratio:.2f} ({target})"
            )
            print(f"  TTFT per turn (s): {', '.join(f'{t:.3f}' for t in r['ttft'])}")
            print(f"  prompt tokens per turn: {', '.join(map(str, r['prompt_tokens']))}")
            if r["message_tokens"]:
                print(f"  tokens per message: {', '.join(map(str, r['message_tokens']))}; answers {ANSWER_TOKENS}")
            print(f"  the 5th turn's thread with nothing cached: TTFT {r['uncached_ttft']:.3f} s")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
