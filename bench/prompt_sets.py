"""Prompt sets: the engine's run against the same calls one at a time, and what storing each cell costs.

1. Wall time of the 20 built-in English prompts (facts, instructions, the five dimensions) on two local models
   (SmolLM2 fp32 on transformers' continuous batching, and its int4 build on ONNX Runtime GenAI), run by
   ``start_prompt_set`` (rows batched per model, both models at once, every answer checked and stored), against the
   same 40 generations one call at a time (``Playground.run_one``, recorded, no checks).
2. Seconds spent writing to the store per cell (the history row and the cell row, one transaction) over one cell's
   generation.

Every call generates exactly ``TOKENS`` tokens (``ignore_eos``), so both sides do the same work. On a 2-core machine
loaded by other jobs, batched steps on two torch threads ran far slower than on one (OMP_NUM_THREADS=1): the first
line printed 1.12 with two and 0.22 (16 rows in flight) or 0.44 (8) with one, in runs a few minutes apart.
"""

from __future__ import annotations

import os
import statistics
import time

import torch

from bench import throwaway_playground
from playground import GenParams, Request, Result, load_built_in, load_catalog, start_prompt_set
from playground.hardware import detect
from playground.prompt_set_runs import minilm_similarity
from playground.prompt_sets import PromptSet

MODELS = ["smollm2-135m", "smollm2-135m-int4"]
TOKENS = 16
PARAMS = GenParams(temperature=0.0, max_new_tokens=TOKENS, ignore_eos=True)
THREADS = torch.get_num_threads()  # before any model step changes it


def twenty_prompts() -> PromptSet:
    rows = [row for key in ("facts-en", "instructions-en", "debate-en") for row in load_built_in(key).rows]
    assert len(rows) == 20
    return PromptSet("bench", tuple(rows))


class Timed:
    """Wraps a store method and adds up the seconds spent in it."""

    def __init__(self, method) -> None:
        self.method, self.seconds, self.calls = method, 0.0, 0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.method(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


def main() -> None:
    playground = throwaway_playground(load_catalog())
    prompt_set = twenty_prompts()
    for model_id in MODELS:  # load both models (and their batching services) before any clock starts
        assert isinstance(playground.run_one(model_id, Request("generate", prompt="Hi", params=PARAMS)), Result)
    minilm_similarity(playground.catalog)("warm", "up")  # the similarity checks' model, too

    started = time.perf_counter()
    one_call: list[float] = []
    for model_id in MODELS:
        for row in prompt_set.rows:
            call_started = time.perf_counter()
            final = playground.run_one(model_id, Request("generate", prompt=row.text, system=row.system, params=PARAMS))
            assert isinstance(final, Result), final
            one_call.append(time.perf_counter() - call_started)
    serial_s = time.perf_counter() - started

    store = playground.store
    store.record = Timed(store.record)  # a cell's history row and cell row, together
    started = time.perf_counter()
    run = start_prompt_set(playground, prompt_set, MODELS, PARAMS)
    assert run.wait(600) and run.status == "done"
    batched_s = time.perf_counter() - started
    cells = store.prompt_set_cells(run.id)
    assert len(cells) == 40 and all(c["verdict"] != "error" for c in cells)
    assert store.record.calls == len(cells) and all(c["history_id"] is not None for c in cells)
    writes_s = store.record.seconds / len(cells)
    generation_s = statistics.median(one_call)

    print(
        f"hardware: {detect().name}, torch threads per step up to {THREADS} (OMP_NUM_THREADS); {TOKENS} tokens per "
        f"answer, greedy; load average {os.getloadavg()[0]:.1f} (a machine shared with other work)"
    )
    print(
        f"wall for 20 prompts x 2 local models / the same run one call at a time: {batched_s / serial_s:.3f} "
        f"(goal <= 0.35)  [{batched_s:.1f} s batched, checks and cells included; {serial_s:.1f} s one at a time]"
    )
    print(
        f"store writes per cell / one cell's generation: {writes_s / generation_s:.4f} (goal <= 0.01)  "
        f"[{writes_s * 1000:.1f} ms of writes per cell ({store.record.calls} history rows, each in one transaction "
        f"with its cell); median generation alone {generation_s:.2f} s]"
    )


if __name__ == "__main__":
    main()
