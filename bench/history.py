"""What recording a run costs, against the call it records (run with `make bench`).

The write is what the run view does after every finished model: price it (genai-prices or hardware time) and
insert its row into a real WAL-mode SQLite file, keys scrubbed. The call is a short warm SmolLM2 generation,
so the ratio errs on the high side: longer answers only make the write look cheaper.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from playground.catalog import load_catalog
from playground.events import GenParams, Request, Result
from playground.pricing import cost_of
from playground.runner import final_of
from playground.store import Store

CALLS = 5
WRITES = 300
REQUEST = Request("generate", prompt="Name three primary colours.", params=GenParams(temperature=0, max_new_tokens=16))


def generation_call_s(catalog) -> tuple[float, Result]:
    final_of(catalog, "smollm2-135m", REQUEST)  # warm: load the shared model first
    samples, final = [], None
    for _ in range(CALLS):
        started = time.perf_counter()
        final = final_of(catalog, "smollm2-135m", REQUEST)
        samples.append(time.perf_counter() - started)
        assert isinstance(final, Result), final
    return statistics.median(samples), final


def history_write_s(catalog, final: Result) -> tuple[float, float]:
    """Median and 95th percentile of one write (the tail catches WAL checkpoints)."""
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        history = Store(Path(tmp) / "bench.sqlite")
        for model_id in ("smollm2-135m", "gpt-4o-mini") * (WRITES // 2):  # hardware and genai-prices paths alike
            spec = catalog.get(model_id)
            started = time.perf_counter()
            cost = cost_of(spec, catalog.provider_of(spec), final.metrics, hourly_usd=0.15)
            history.record("generate", spec, REQUEST, final, cost, secrets=["sk-bench-not-a-real-key"])
            samples.append(time.perf_counter() - started)
        history.close()
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


if __name__ == "__main__":
    catalog = load_catalog()
    call, final = generation_call_s(catalog)
    write, write_p95 = history_write_s(catalog, final)
    print(
        f"bare generation call (SmolLM2, warm, {final.metrics.output_tokens} tokens): {call * 1000:.0f} ms; "
        f"history write: median {write * 1000:.2f} ms, p95 {write_p95 * 1000:.2f} ms"
    )
    print(f"history write per run / a bare generation call on the embedded model: {write / call:.6f} (goal <= 0.02)")
