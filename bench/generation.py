"""Generation overheads, as ratios measured in one run (run with `make bench`).

1. The engine (runner + backend + streamer) against a bare model.generate on the same model, prompt and params.
2. A side-by-side fan-out over three streaming endpoints against the slowest of them alone.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from bench import _slow_server, throwaway_playground
from playground.catalog import load_catalog
from playground.events import Credentials, GenParams, Request, Result
from playground.models_cache import ensure_smollm2

REPEATS = 5
PROMPT = "Write a short paragraph about why open-weight language models matter."
GREEDY = GenParams(temperature=0, max_new_tokens=64)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def engine_vs_raw() -> tuple[float, float]:
    """Engine time over raw generate on the main thread, and over raw generate on a worker thread.

    The engine necessarily generates on a worker thread (the streamer is read on another). On a loaded machine
    torch's main thread ran up to 3x slower than a worker thread here, so both baselines are reported.
    """
    folder = ensure_smollm2()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32").eval()
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )

    def raw():
        with torch.inference_mode():
            model.generate(**inputs, max_new_tokens=GREEDY.max_new_tokens, do_sample=False)

    def raw_on_thread():
        thread = threading.Thread(target=raw)
        thread.start()
        thread.join()

    playground = throwaway_playground(load_catalog())

    def engine():  # a fresh request each time: the clock starts at its arrival
        assert isinstance(playground.run_one("smollm2-135m", Request("generate", prompt=PROMPT, params=GREEDY)), Result)

    raw(), engine()  # warm both: the engine loads its shared copy here
    times: dict = {raw: [], raw_on_thread: [], engine: []}
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits all alike
        for fn, samples in times.items():
            samples.append(timed(fn))
    median = {fn: statistics.median(samples) for fn, samples in times.items()}
    return median[engine] / median[raw], median[engine] / median[raw_on_thread]


def fan_out_vs_slowest() -> float:
    base_url = _slow_server.start()
    delays = (0.02, 0.03, 0.05)
    entries = "".join(
        f'[[models]]\nid = "bench-{d}"\nname = "bench {d}"\ntasks = ["generate"]\nopenness = "open"\n'
        f'license = "n/a"\nprovider = "bench"\nbackend = "openai-compat"\nsource = "delay-{d}"\n\n'
        for d in delays
    )
    provider = (
        f'[providers.bench]\nname = "bench"\nkind = "openai-compat"\nbase_url = "{base_url}"\nkey_optional = true\n\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp) / "bench.toml"
        extra.write_text(provider + entries)
        playground = throwaway_playground(load_catalog(extra))
    request = Request("generate", prompt="go", params=GREEDY)
    ids = [f"bench-{d}" for d in delays]

    def all_three():
        finals = [e for e in playground.run(ids, request, Credentials()) if isinstance(e, Result)]
        assert len(finals) == 3

    slowest_alone = statistics.median(timed(lambda: playground.run_one(ids[-1], request)) for _ in range(REPEATS))
    together = statistics.median(timed(all_three) for _ in range(REPEATS))
    return together / slowest_alone


if __name__ == "__main__":
    main_thread, worker_thread = engine_vs_raw()
    print(f"engine generation time / raw model.generate (SmolLM2, greedy, 64 tokens): {main_thread:.3f} (goal <= 1.05)")
    print(f"engine generation time / raw model.generate on a worker thread: {worker_thread:.3f} (goal <= 1.05)")
    print(f"fan-out wall for 3 OpenAI-compatible models / the slowest alone: {fan_out_vs_slowest():.3f} (goal <= 1.15)")
