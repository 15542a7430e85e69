"""The tokenizer lens and energy accounting, as ratios measured in one run::

    python -m bench.tokens_energy

1. The lens over 10 catalog models on a 2,000-character text (English and Chinese) against the lens of one model
   (SmolLM2), tokenizers loaded: the goal is that ten models cost at most three times one.
2. What energy accounting adds to a call (the ledger's open and close, the estimate, for a local and an API model)
   against one local 16-token generation (SmolLM2 int4): the goal is at most 1 %.
"""

from __future__ import annotations

import platform
import statistics
import time

from bench import throwaway_playground
from playground.catalog import load_catalog
from playground.energy import LEDGER, account
from playground.events import GenParams, Request, Result
from playground.hardware import detect
from playground.metrics import CallMetrics
from playground.tokens import SAMPLES, lens_models, look, look_all

REPEATS = 15


def median_s(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def lens_ratio(catalog) -> tuple[float, float, list[str], int]:
    text = ((SAMPLES["en"] + " " + SAMPLES["zh"] + " ") * 8)[:2000]
    ids = [m.id for m in lens_models(catalog)][:10]
    counted = sum(lens.count is not None for lens in look_all(catalog, ids, text))  # loads every tokenizer once
    many, one = [], []
    for _ in range(REPEATS * 2):  # interleaved, so a burst of load from other work hits both sides alike
        many.append(median_s(lambda: look_all(catalog, ids, text), 1))
        one.append(median_s(lambda: look(catalog, catalog.get("smollm2-135m"), text), 1))
    return statistics.median(many), statistics.median(one), ids, counted


def accounting_ratio(catalog) -> tuple[float, float, float]:
    playground = throwaway_playground(catalog)
    request = Request("generate", prompt="What is a token?", params=GenParams(max_new_tokens=16, ignore_eos=True))
    playground.run_one("smollm2-135m-int4", request)  # load the model first
    generation = median_s(lambda: playground.run_one("smollm2-135m-int4", Request(**_fields(request))), 5)
    local_spec, api_spec = catalog.get("smollm2-135m-int4"), catalog.get("gpt-4o-mini")
    local = Result(local_spec.id, metrics=CallMetrics(ttft_s=0.05, total_s=0.2, output_tokens=16))
    api = Result(api_spec.id, metrics=CallMetrics(ttft_s=0.3, total_s=1.2, output_tokens=16))

    def local_accounting():
        account(local_spec, local, LEDGER.close(LEDGER.open()), playground.store)

    return (
        median_s(local_accounting, 200),
        median_s(lambda: account(api_spec, api, None, playground.store), 200),
        generation,
    )


def _fields(request: Request) -> dict:
    return {"task": request.task, "prompt": request.prompt, "params": request.params}


def main() -> None:
    catalog = load_catalog()
    machine = detect()
    print(f"hardware: {machine.name} ({platform.machine()}), shared with other work while measured")
    many, one, ids, counted = lens_ratio(catalog)
    print(f"tokenizer lens, 10 models on a 2,000-character text / one model: {many / one:.2f} (goal <= 3)")
    print(f"  10 models {many * 1000:.1f} ms, SmolLM2 alone {one * 1000:.1f} ms; models: {', '.join(ids)}")
    print(f"  {counted} of the 10 have a tokenizer here; the others say why not (hub models not prefetched)")
    local, api, generation = accounting_ratio(catalog)
    worst = max(local, api)
    print(f"energy accounting per call / one local 16-token generation: {worst / generation:.5f} (goal <= 0.01)")
    print(
        f"  local accounting {local * 1e6:.0f} µs, API (EcoLogits) {api * 1e6:.0f} µs, "
        f"SmolLM2 int4 16 tokens {generation * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
