"""What the budget costs a call on the server's key: reserve the worst case, then settle the real cost (run with
`python -m bench.budget`).

The call is a real `transformers serve` (SmolLM2) on loopback, declared as a priced provider (gpt-4o-mini's prices)
whose key the server holds, so each call passes the whole gate: settings read, rate limit, reservation in a locked
SQLite transaction, settlement. The reserve + settle pair is then timed on its own, many times, on the same store.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from playground import Credentials, GenParams, Playground, Request, Result, RunContext
from playground.budget import Gate
from playground.catalog import load_catalog
from playground.hardware import detect
from playground.models_cache import ensure_smollm2
from playground.store import Store
from tests.conftest import transformers_serve

CALLS = 3
PAIRS = 300
KEY_ENV = "BENCH_SERVED_KEY"
REQUEST = Request("generate", prompt="Name three primary colours.", params=GenParams(temperature=0, max_new_tokens=16))


def priced_catalog(folder: Path, base_url: str, model: str):
    extra = folder / "served.toml"
    extra.write_text(
        f'[providers.served]\nname = "Served"\nkind = "openai-compat"\nbase_url = "{base_url}"\n'
        f'key_env = "{KEY_ENV}"\nprice_provider = "openai"\n\n'
        f'[[models]]\nid = "served"\nname = "Served SmolLM2"\ntasks = ["generate"]\nopenness = "closed"\n'
        f'license = "Apache-2.0"\nprovider = "served"\nbackend = "openai-compat"\nsource = "{model}"\n'
        f'price_ref = "gpt-4o-mini"\n'
    )
    return load_catalog(extra)


def call_s(playground: Playground) -> tuple[float, Result]:
    playground.run_one("served", REQUEST, Credentials(), RunContext("bench", "warm-up"))
    samples, final = [], None
    for i in range(CALLS):
        started = time.perf_counter()
        final = playground.run_one("served", REQUEST, Credentials(), RunContext("bench", f"caller-{i}"))
        samples.append(time.perf_counter() - started)
        assert isinstance(final, Result) and final.cost.usd, final
    return statistics.median(samples), final


def reserve_settle_s(gate: Gate, catalog, final: Result) -> tuple[float, float]:
    """Median and 95th percentile of one admit (reserve) + settle, each from its own session."""
    spec, samples = catalog.get("served"), []
    for i in range(PAIRS):
        started = time.perf_counter()
        ticket = gate.admit(catalog, spec, REQUEST, Credentials(), RunContext("bench", f"pair-{i}"))
        gate.settle(ticket, final)
        samples.append(time.perf_counter() - started)
        assert ticket is not None and ticket.reservation is not None
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


if __name__ == "__main__":
    os.environ[KEY_ENV] = "bench-server-key"
    folder = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    (folder / "hf").mkdir()
    with transformers_serve(ensure_smollm2(), folder / "hf") as endpoint:
        catalog = priced_catalog(folder, endpoint.base_url, endpoint.model)
        store = Store(folder / "bench.sqlite")
        playground = Playground(catalog, store, Gate(store))
        call, final = call_s(playground)
        pair, pair_p95 = reserve_settle_s(playground.gate, catalog, final)
    print(
        f"one 16-token call to transformers serve on loopback (SmolLM2, {final.metrics.output_tokens} tokens, "
        f"budget included): median {call * 1000:.0f} ms; budget reserve + settle: median {pair * 1000:.2f} ms, "
        f"p95 {pair_p95 * 1000:.2f} ms (SQLite WAL, {PAIRS} pairs); {detect().name}"
    )
    print(
        f"budget reserve + settle per call / one 16-token call to transformers serve on loopback: {pair / call:.4f} (goal <= 0.01)"
    )
