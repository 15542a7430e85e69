"""Run history on a real SQLite file: round trip, export, the don't-store setting, concurrent writers, no keys."""

from __future__ import annotations

import io
import json
import threading

import pandas as pd
import pytest

from playground.backends.base import Credentials, Failure, GenParams, Request, Result
from playground.catalog import load_catalog
from playground.history import STORE_IO, History, default_path, measured_speeds, to_csv, to_json
from playground.metrics import CallMetrics
from playground.pricing import Cost, cost_of
from playground.runner import run_one

HELLO = Request("generate", prompt="Say hello.", system="Be brief.", params=GenParams(temperature=0, max_new_tokens=6))


@pytest.fixture
def history(tmp_path):
    store = History(tmp_path / "runs.sqlite")
    yield store
    store.close()


@pytest.fixture(scope="module")
def smollm_result(catalog) -> Result:
    final = run_one(catalog, "smollm2-135m", HELLO)
    assert isinstance(final, Result), final
    return final


def test_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DB", str(tmp_path / "elsewhere.sqlite"))
    assert default_path() == tmp_path / "elsewhere.sqlite"
    store = History()
    assert store.path.exists()
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_round_trip_of_a_real_run_and_a_failure(history, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    cost = cost_of(spec, catalog.provider_of(spec), smollm_result.metrics, hourly_usd=0.35)
    history.record("generate", spec, HELLO, smollm_result, cost)
    gpt = catalog.get("gpt-4o")
    history.record("classify", gpt, HELLO, Failure("gpt-4o", "The API key was rejected (401).", hint="Check the key."), None)

    runs = history.runs()
    assert list(runs["model_id"]) == ["smollm2-135m", "gpt-4o"]
    ok, failed = runs.iloc[0], runs.iloc[1]
    m = smollm_result.metrics
    assert ok["page"] == "generate" and ok["openness"] == "open" and ok["model_name"] == spec.name
    assert ok["input"] == "[system] Be brief.\nSay hello." and ok["output"] == smollm_result.text
    assert (ok["tokens_in"], ok["tokens_out"]) == (m.input_tokens, m.output_tokens)
    assert ok["ttft_s"] == pytest.approx(m.ttft_s) and ok["total_s"] == pytest.approx(m.total_s)
    assert ok["tokens_per_s"] == pytest.approx(m.tokens_per_s)
    assert ok["cost_usd"] == pytest.approx(cost.usd) and ok["cost_source"] == cost.source
    assert bool(ok["cold"]) == m.cold and pd.isna(ok["error"])
    assert json.loads(ok["params"]) == {"task": "generate", "temperature": 0, "top_p": 0.95, "max_new_tokens": 6, "seed": 0}
    assert failed["page"] == "classify" and failed["openness"] == "closed"
    assert failed["error"] == "The API key was rejected (401). Check the key."
    assert pd.isna(failed["cost_usd"]) and pd.isna(failed["total_s"])

    assert list(history.runs(pages=["classify"])["model_id"]) == ["gpt-4o"]
    assert list(history.runs(models=["smollm2-135m"])["page"]) == ["generate"]
    assert history.runs(since=ok["ts"] + 3600).empty


def test_unpriced_stays_null_not_zero(history, catalog):
    spec = catalog.get("ernie-4.5-turbo")
    metrics = CallMetrics(0.3, 1.0, input_tokens=10, output_tokens=5)
    history.record("generate", spec, HELLO, Result(spec.id, "hi", metrics), cost_of(spec, catalog.provider_of(spec), metrics))
    row = history.runs().iloc[0]
    assert pd.isna(row["cost_usd"]) and "no price_ref" in row["cost_source"]


def test_exports_round_trip(history, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    for page in ("generate", "caption"):
        history.record(page, spec, HELLO, smollm_result, Cost(0.0012, "test rate"))
    runs = history.runs()
    from_csv = pd.read_csv(io.StringIO(to_csv(runs)))
    from_json = json.loads(to_json(runs))
    assert list(from_csv["page"]) == ["generate", "caption"] == [r["page"] for r in from_json]
    assert list(from_csv["output"]) == [smollm_result.text] * 2
    assert [r["tokens_out"] for r in from_json] == [smollm_result.metrics.output_tokens] * 2
    assert from_json[0]["cost_usd"] == pytest.approx(0.0012)
    assert from_json[0]["time"].startswith(str(runs["time"].iloc[0].year))


def test_dont_store_inputs_and_outputs_keeps_only_metrics(tmp_path, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    store = History(tmp_path / "runs.sqlite")
    store.set_setting(STORE_IO, False)
    store.close()
    store = History(tmp_path / "runs.sqlite")  # the setting survives a restart
    assert store.get_setting(STORE_IO) is False
    store.record("generate", spec, Request("generate", prompt="my secret diary"), smollm_result, None)
    row = store.runs().iloc[0]
    assert row["input"] is None and row["output"] is None
    assert row["tokens_out"] == smollm_result.metrics.output_tokens and row["total_s"] > 0
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"my secret diary" not in raw and smollm_result.text.encode() not in raw


def test_concurrent_writers_on_one_file(tmp_path, catalog):
    """Eight threads over two History objects (as two server processes would be) write at once; nothing is lost."""
    path = tmp_path / "runs.sqlite"
    stores = [History(path), History(path)]
    spec = catalog.get("smollm2-135m")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(worker: int) -> None:
        try:
            start.wait()
            for i in range(50):
                metrics = CallMetrics(0.1, 0.2 + i / 1000, input_tokens=worker, output_tokens=i)
                stores[worker % 2].record(f"page-{worker}", spec, HELLO, Result(spec.id, f"{worker}:{i}", metrics), None)
                if i % 10 == 0:
                    stores[(worker + 1) % 2].runs(pages=[f"page-{worker}"])  # readers meanwhile
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    runs = History(path).runs()
    assert len(runs) == 400 and runs["id"].is_unique
    assert sorted(runs["output"]) == sorted(f"{w}:{i}" for w in range(8) for i in range(50))
    for store in stores:
        store.close()


def test_no_key_reaches_the_database_or_the_exports(tmp_path, serve_endpoint):
    """A priced API model pointed at the real `transformers serve`, called with a distinctive key: the run is stored
    and priced, and neither the DB files (main, WAL, shared memory) nor the exports contain the key."""
    key = "sk-FAKE-playground-7c1e9b2f0d4a"
    self_hosted_key = "shk-ALSO-FAKE-5e8d2a91"
    extra = tmp_path / "api.toml"
    extra.write_text(
        f"""
[providers.pretend-openai]
name = "Pretend OpenAI"
kind = "openai-compat"
base_url = "{serve_endpoint.base_url}"
key_env = "PRETEND_OPENAI_KEY"
price_provider = "openai"

[[models]]
id = "pretend-gpt-4o-mini"
name = "Pretend GPT-4o mini"
tasks = ["generate"]
openness = "closed"
license = "test"
provider = "pretend-openai"
backend = "openai-compat"
source = "{serve_endpoint.model}"
price_ref = "gpt-4o-mini"
"""
    )
    catalog = load_catalog(extra)
    credentials = Credentials(
        api_keys={"pretend-openai": key},
        self_hosted=type(serve_endpoint)(serve_endpoint.base_url, serve_endpoint.model, self_hosted_key),
    )
    request = Request("generate", prompt=f"Repeat this string: {key}", params=GenParams(temperature=0, max_new_tokens=24))
    store = History(tmp_path / "db" / "runs.sqlite")
    for model_id in ("pretend-gpt-4o-mini", "self-hosted"):
        final = run_one(catalog, model_id, request, credentials)
        assert isinstance(final, Result), final
        spec = catalog.get(model_id)
        cost = cost_of(spec, catalog.provider_of(spec), final.metrics)
        store.record("generate", spec, request, final, cost, secrets=[key, self_hosted_key])
    runs = store.runs()
    priced = runs.iloc[0]
    assert priced["cost_usd"] > 0 and priced["tokens_in"] > 10 and "genai-prices" in priced["cost_source"]
    assert "[redacted]" in priced["input"]
    (tmp_path / "db" / "runs.csv").write_text(to_csv(runs))
    (tmp_path / "db" / "runs.json").write_text(to_json(runs))
    files = list((tmp_path / "db").iterdir())
    assert {p.name for p in files} >= {"runs.sqlite", "runs.sqlite-wal", "runs.csv", "runs.json"}
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data and self_hosted_key.encode() not in data, path.name
        assert b"7c1e9b2f0d4a" not in data and b"5e8d2a91" not in data, path.name
    store.close()


def test_measured_speeds_use_warm_successful_open_runs(history, catalog):
    smol, gpt = catalog.get("smollm2-135m"), catalog.get("gpt-4o")
    for total, cold in ((1.0, False), (2.0, False), (9.0, True)):
        metrics = CallMetrics(0.2, total, input_tokens=5, output_tokens=9, cold=cold, load_s=3.0 if cold else 0.0)
        history.record("generate", smol, HELLO, Result(smol.id, "x", metrics), None)
    history.record("generate", smol, HELLO, Failure(smol.id, "boom", metrics=CallMetrics(0.1, 0.2)), None)
    history.record("generate", gpt, HELLO, Result(gpt.id, "x", CallMetrics(0.1, 1.0, input_tokens=5, output_tokens=9)), None)
    speeds = measured_speeds(history.runs())
    assert list(speeds["model_id"]) == ["smollm2-135m"]
    row = speeds.iloc[0]
    assert row["runs"] == 2 and row["ttft_s"] == pytest.approx(0.2)
    assert row["tokens_per_s"] == pytest.approx((8 / 0.8 + 8 / 1.8) / 2)
