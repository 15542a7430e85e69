"""The store on a real SQLite file and a real PostgreSQL (pgserver), every test on both: runs (round trip, exports,
the don't-store setting, concurrent writers, no keys), settings, rooms, battles and votes, and the migrations,
including a history file written by the code before the store had migrations."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from playground.catalog import load_catalog
from playground.context import RunContext
from playground.errors import InputError
from playground.events import Credentials, Failure, GenParams, Request, Result
from playground.hardware import detect
from playground.metrics import CallMetrics
from playground.pricing import Cost, cost_of
from playground.retention import Retention
from playground.runner import final_of
from playground.store import (
    STORE_IO,
    Cell,
    Store,
    default_path,
    default_url,
    measured_speeds,
    to_csv,
    to_json,
)
from playground.store.engine import MIGRATIONS
from playground.store.frames import json_rows
from playground.store.schema import metadata

HELLO = Request("generate", prompt="Say hello.", system="Be brief.", params=GenParams(temperature=0, max_new_tokens=6))
# Files written by playground/history.py (before the store had migrations) at the commit in their name: the
# first schema, and the one with queue_s added. Each holds 3 runs (a warm answer, a failure, a cold answer), 2 settings.
FIXTURES = Path(__file__).with_name("fixtures")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def smollm_result(catalog) -> Result:
    final = final_of(catalog, "smollm2-135m", HELLO)
    assert isinstance(final, Result), final
    return final


def stored_files(store: Store, request) -> list[Path]:
    """Every file the database keeps on disk: the SQLite file and its WAL, or PostgreSQL's data folder."""
    if store.path is not None:
        return [p for p in store.path.parent.iterdir() if p.name.startswith(store.path.name)]
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")  # flush shared buffers to the table files; the WAL has them already
    return [p for p in Path(request.getfixturevalue("postgres_server").pgdata).rglob("*") if p.is_file()]


def read_unless_gone(path: Path) -> bytes:
    """A file's bytes; none when PostgreSQL removed it meanwhile (pg_internal.init, a temporary file): it holds
    nothing at rest any more."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def test_the_database_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_DB_URL", raising=False)
    monkeypatch.setenv("PLAYGROUND_DB", str(tmp_path / "elsewhere.sqlite"))
    assert default_path() == tmp_path / "elsewhere.sqlite"
    assert default_url() == f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    store = Store()
    assert store.path == tmp_path / "elsewhere.sqlite" and store.path.exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()
    monkeypatch.setenv("PLAYGROUND_DB_URL", "postgresql+psycopg://app@db.example/playground")
    assert default_url() == "postgresql+psycopg://app@db.example/playground"


def test_round_trip_of_a_real_run_and_a_failure(store, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    cost = cost_of(spec, catalog.provider_of(spec), smollm_result.metrics, hourly_usd=0.35)
    context = RunContext("arena", session_id="s-1", room="ROOM42", battle_id="b-1")
    store.record(context, spec, HELLO, smollm_result, cost)
    gpt = catalog.get("gpt-4o")
    failure = Failure("gpt-4o", "The stream broke.", hint="Try again.", code="incomplete", partial_text="Hel",
                      metrics=CallMetrics(0.4, 0.9, queue_s=0.1))  # fmt: skip
    store.record("classify", gpt, HELLO, failure, None)

    runs = store.runs()
    assert list(runs["model_id"]) == ["smollm2-135m", "gpt-4o"]
    ok, failed = runs.iloc[0], runs.iloc[1]
    m = smollm_result.metrics
    assert ok["page"] == "arena" and ok["openness"] == "open" and ok["model_name"] == spec.name
    assert (ok["session_id"], ok["room"], ok["battle_id"]) == ("s-1", "ROOM42", "b-1")
    assert ok["input"] == "[system] Be brief.\nSay hello." and ok["output"] == smollm_result.text
    assert (ok["tokens_in"], ok["tokens_out"]) == (m.input_tokens, m.output_tokens)
    assert ok["ttft_s"] == pytest.approx(m.ttft_s) and ok["total_s"] == pytest.approx(m.total_s)
    assert ok["queue_s"] == pytest.approx(m.queue_s) and ok["decode_s"] == pytest.approx(m.decode_s)
    assert ok["tokens_per_s"] == pytest.approx(m.tokens_per_s)
    assert ok["cost_usd"] == pytest.approx(cost.usd) and ok["cost_source"] == cost.source
    assert ok["cold"] == m.cold and pd.isna(ok["error"]) and pd.isna(ok["error_code"]) and not ok["partial"]
    assert ok["hardware"] == detect().name and pd.isna(ok["endpoint"])
    assert json.loads(ok["params"]) == {
        "task": "generate",
        "temperature": 0,
        "top_p": 0.95,
        "max_new_tokens": 6,
        "seed": None,
        "ignore_eos": False,
    }
    assert failed["page"] == "classify" and failed["openness"] == "closed" and pd.isna(failed["session_id"])
    assert failed["error"] == "The stream broke. Try again." and failed["error_code"] == "incomplete"
    assert failed["partial"] and failed["output"] == "Hel" and pd.isna(failed["hardware"])
    assert pd.isna(failed["cost_usd"]) and failed["queue_s"] == pytest.approx(0.1)

    assert list(store.runs(pages=["classify"])["model_id"]) == ["gpt-4o"]
    assert list(store.runs(models=["smollm2-135m"])["page"]) == ["arena"]
    assert list(store.runs(room="ROOM42")["model_id"]) == ["smollm2-135m"]
    assert store.runs(since=ok["ts"] + 3600).empty
    store.clear_runs()
    assert store.runs().empty


def test_the_endpoint_that_answered_is_kept(store, catalog):
    spec = catalog.get("self-hosted")
    final = Result(spec.id, "hi", CallMetrics(0.1, 0.3), extra={"endpoint": "http://10.0.0.7:8000/v1"})
    store.record("generate", spec, HELLO, final, None)
    assert store.runs().iloc[0]["endpoint"] == "http://10.0.0.7:8000/v1"


def test_unpriced_stays_null_not_zero(store, catalog):
    spec = catalog.get("ernie-4.5-turbo")
    metrics = CallMetrics(0.3, 1.0, input_tokens=10, output_tokens=5)
    store.record(
        "generate", spec, HELLO, Result(spec.id, "hi", metrics), cost_of(spec, catalog.provider_of(spec), metrics)
    )
    row = store.runs().iloc[0]
    assert pd.isna(row["cost_usd"]) and "no price_ref" in row["cost_source"]


def test_exports_round_trip(store, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    for page in ("generate", "caption"):
        store.record(page, spec, HELLO, smollm_result, Cost(0.0012, "test rate"))
    runs = store.runs()
    from_csv = pd.read_csv(io.StringIO(to_csv(runs)))
    from_json = json.loads(to_json(runs))
    assert list(from_csv["page"]) == ["generate", "caption"] == [r["page"] for r in from_json]
    assert list(from_csv["output"]) == [smollm_result.text] * 2
    assert [r["tokens_out"] for r in from_json] == [smollm_result.metrics.output_tokens] * 2
    assert from_json[0]["cost_usd"] == pytest.approx(0.0012)
    assert from_json[0]["time"].startswith(str(runs["time"].iloc[0].year))


def test_dont_store_inputs_and_outputs_keeps_only_metrics(db_url, request, catalog, smollm_result):
    spec = catalog.get("smollm2-135m")
    store = Store(db_url)
    store.set_setting(STORE_IO, False)
    store.close()
    store = Store(db_url)  # the setting survives a restart
    assert store.get_setting(STORE_IO) is False
    store.record("generate", spec, Request("generate", prompt="my secret diary 5a1d"), smollm_result, None)
    row = store.runs().iloc[0]
    assert row["input"] is None and row["output"] is None
    assert row["tokens_out"] == smollm_result.metrics.output_tokens and row["total_s"] > 0
    raw = b"".join(read_unless_gone(p) for p in stored_files(store, request))
    assert b"my secret diary 5a1d" not in raw
    store.close()


def test_settings_round_trip_json_values(store):
    assert store.get_setting("hardware_usd_per_hour", 0.15) == 0.15
    store.set_setting("hardware_usd_per_hour", 0.42)
    store.set_setting("hardware_usd_per_hour", 0.5)  # overwritten, not duplicated
    store.set_setting("labels", ["a", "b"])
    assert store.get_setting("hardware_usd_per_hour") == 0.5 and store.get_setting("labels") == ["a", "b"]


def test_concurrent_writers_on_one_database(db_url, catalog):
    """Eight threads over two Store objects (as two server processes would be) write at once; nothing is lost."""
    stores = [Store(db_url), Store(db_url)]
    spec = catalog.get("smollm2-135m")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(worker: int) -> None:
        try:
            start.wait()
            for i in range(50):
                metrics = CallMetrics(0.1, 0.2 + i / 1000, input_tokens=worker, output_tokens=i)
                stores[worker % 2].record(
                    f"page-{worker}", spec, HELLO, Result(spec.id, f"{worker}:{i}", metrics), None
                )
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
    runs = stores[0].runs()
    assert len(runs) == 400 and runs["id"].is_unique
    assert sorted(runs["output"]) == sorted(f"{w}:{i}" for w in range(8) for i in range(50))
    for store in stores:
        store.close()


def test_a_cell_and_its_history_row_land_together_or_not_at_all(db_url, catalog):
    """A prompt-set cell and its generation's run are one transaction: the cell points at its run, and a cell that
    cannot be written (its (run, row, model) is already taken) takes the run down with it. Pruning keeps the newest
    runs on either engine."""
    store = Store(db_url, Retention(max_runs=2))
    spec = catalog.get("smollm2-135m")
    store.create_prompt_set_run("set1", {"name": "s", "rows": []}, [spec.id], {})

    def answer(row: int, text: str) -> int:
        cell = Cell("set1", row, spec.id, {"answer": text, "checks": [], "verdict": "pass"})
        return store.record("prompt_sets", spec, HELLO, Result(spec.id, text, CallMetrics(0.1, 0.2)), None, cell=cell)

    try:
        first = answer(0, "Paris")
        (cell,) = store.prompt_set_cells("set1")
        assert cell["history_id"] == first and store.runs()["id"].tolist() == [first]
        with pytest.raises(sa.exc.IntegrityError):
            answer(0, "Lyon")  # the same cell twice: the UNIQUE constraint fails after the run's INSERT
        assert store.runs()["output"].tolist() == ["Paris"], "the failed cell's run was kept without it"
        assert [c["answer"] for c in store.prompt_set_cells("set1")] == ["Paris"]
        later = [answer(row, f"answer {row}") for row in (1, 2)]
        assert store.runs()["id"].tolist() == later  # at most two runs: the oldest went
        assert len(store.prompt_set_cells("set1")) == 3  # cells stay (history_id may outlive its pruned run)
    finally:
        store.close()


def test_runs_that_wait_are_committed_together_each_with_its_own_id_and_a_bad_one_fails_alone(db_url, catalog):
    """Group commit: while a commit is under way (here: the writer's turn held), ten runs with cells queue up; the
    next commit writes them together, each caller gets its own run's id, and the one whose cell is already stored
    fails alone, its run not kept."""
    store = Store(db_url)
    spec = catalog.get("smollm2-135m")
    store.create_prompt_set_run("set1", {"name": "s", "rows": []}, [spec.id], {})
    store.record_cell("set1", 3, spec.id, {"answer": "stored before", "checks": [], "verdict": "pass"})
    outcomes: dict[int, int | BaseException] = {}

    def answer(row: int) -> None:
        cell = Cell("set1", row, spec.id, {"answer": f"answer {row}", "checks": [], "verdict": "pass"})
        try:
            final = Result(spec.id, f"answer {row}", CallMetrics(0.1, 0.2))
            outcomes[row] = store.record("prompt_sets", spec, HELLO, final, None, cell=cell)
        except BaseException as exc:
            outcomes[row] = exc

    try:
        with store._run_writer._turn:
            threads = [threading.Thread(target=answer, args=(row,)) for row in range(10)]
            for thread in threads:
                thread.start()
            while len(store._run_writer._pending) < 10:
                time.sleep(0.01)
        for thread in threads:
            thread.join()
        assert isinstance(outcomes.pop(3), sa.exc.IntegrityError)
        runs = store.runs().set_index("id")
        assert sorted(outcomes) == [r for r in range(10) if r != 3] and len(runs) == 9
        assert all(runs.loc[run_id, "output"] == f"answer {row}" for row, run_id in outcomes.items())
        cells = {c["row_index"]: c for c in store.prompt_set_cells("set1")}
        assert cells[3]["answer"] == "stored before" and cells[3]["history_id"] is None
        assert all(cells[row]["history_id"] == run_id for row, run_id in outcomes.items())
    finally:
        store.close()


def test_no_key_reaches_the_database_or_the_exports(db_url, request, tmp_path, serve_endpoint):
    """A priced API model pointed at the real `transformers serve`, called with a distinctive key: the run is stored
    and priced, and neither the database's files (SQLite's main file and WAL, or PostgreSQL's whole data folder,
    WAL included) nor the exports contain the key."""
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
    request_ = Request(
        "generate", prompt=f"Repeat this string: {key}", params=GenParams(temperature=0, max_new_tokens=24)
    )
    store = Store(db_url)
    for model_id in ("pretend-gpt-4o-mini", "self-hosted"):
        final = final_of(catalog, model_id, request_, credentials)
        assert isinstance(final, Result), final
        spec = catalog.get(model_id)
        cost = cost_of(spec, catalog.provider_of(spec), final.metrics)
        store.record("generate", spec, request_, final, cost, secrets=[key, self_hosted_key])
    runs = store.runs()
    priced = runs.iloc[0]
    assert priced["cost_usd"] > 0 and priced["tokens_in"] > 10 and "genai-prices" in priced["cost_source"]
    assert "[redacted]" in priced["input"] and priced["endpoint"] == serve_endpoint.base_url
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "runs.csv").write_text(to_csv(runs))
    (exports / "runs.json").write_text(to_json(runs))
    files = stored_files(store, request) + list(exports.iterdir())
    if store.path is not None:
        assert {p.name for p in files} >= {"store.sqlite", "store.sqlite-wal", "runs.csv", "runs.json"}
    for path in files:
        data = read_unless_gone(path)
        assert key.encode() not in data and self_hosted_key.encode() not in data, path
        assert b"7c1e9b2f0d4a" not in data and b"5e8d2a91" not in data, path
    store.close()


def test_measured_speeds_use_warm_successful_open_runs(store, catalog):
    smol, gpt = catalog.get("smollm2-135m"), catalog.get("gpt-4o")
    for total, cold in ((1.0, False), (2.0, False), (9.0, True)):
        metrics = CallMetrics(0.2, total, input_tokens=5, output_tokens=9, cold=cold, load_s=3.0 if cold else 0.0)
        store.record("generate", smol, HELLO, Result(smol.id, "x", metrics), None)
    store.record("generate", smol, HELLO, Failure(smol.id, "boom", metrics=CallMetrics(0.1, 0.2)), None)
    store.record(
        "generate", gpt, HELLO, Result(gpt.id, "x", CallMetrics(0.1, 1.0, input_tokens=5, output_tokens=9)), None
    )
    speeds = measured_speeds(store.runs())
    assert list(speeds["model_id"]) == ["smollm2-135m"]
    row = speeds.iloc[0]
    assert row["runs"] == 2 and row["ttft_s"] == pytest.approx(0.2)
    assert row["tokens_per_s"] == pytest.approx((8 / 0.8 + 8 / 1.8) / 2)


# ---------------------------------------------------------------- rooms, battles, votes
def test_a_room_with_members_an_exercise_and_an_export(store, catalog):
    store.create_room("K7Q2", "Open vs closed, week 3", "pbkdf2$abc")
    with pytest.raises(InputError):
        store.create_room("K7Q2", "again", "x")
    assert store.get_room("nope") is None
    store.set_exercise("K7Q2", {"prompt": "Summarise this.", "models": ["smollm2-135m", "gpt-4o-mini"]})
    store.join_room("K7Q2", "s-ann", "Ann")
    store.join_room("K7Q2", "s-bo", "Bo")
    store.join_room("K7Q2", "s-ann", "Ann L.")  # the same session again: renamed, not a second member
    with pytest.raises(InputError):
        store.join_room("NOPE", "s-x", "X")
    room = store.get_room("K7Q2")
    assert room["title"] == "Open vs closed, week 3" and room["pin_hash"] == "pbkdf2$abc" and room["closed_at"] is None
    assert room["exercise"] == {"prompt": "Summarise this.", "models": ["smollm2-135m", "gpt-4o-mini"]}
    assert [(m["session_id"], m["display_name"]) for m in store.room_members("K7Q2")] == [
        ("s-ann", "Ann L."),
        ("s-bo", "Bo"),
    ]

    spec = catalog.get("smollm2-135m")
    store.record(
        RunContext("room", "s-ann", room="K7Q2"), spec, HELLO, Result(spec.id, "hi", CallMetrics(0.1, 0.4)), None
    )
    store.record(
        RunContext("generate", "s-zed"), spec, HELLO, Result(spec.id, "elsewhere", CallMetrics(0.1, 0.4)), None
    )
    store.create_battle("b-1", "s-bo", "K7Q2", "generate", "smollm2-135m", "gpt-4o-mini", "Say hello.")
    assert store.record_vote("b-1", "s-bo", "K7Q2", "tie", anonymous=True)
    store.close_room("K7Q2")

    exported = json.loads(json.dumps(store.export_room("K7Q2")))  # JSON-ready as it is
    assert exported["room"]["code"] == "K7Q2" and exported["room"]["closed_at"] > exported["room"]["created_at"]
    assert "pin_hash" not in exported["room"]
    assert [m["display_name"] for m in exported["members"]] == ["Ann L.", "Bo"]
    assert [r["output"] for r in exported["runs"]] == ["hi"] and exported["runs"][0]["cost_usd"] is None
    assert [b["id"] for b in exported["battles"]] == ["b-1"]
    assert [(v["choice"], v["anonymous"], v["model_a"]) for v in exported["votes"]] == [("tie", True, "smollm2-135m")]
    with pytest.raises(InputError):
        store.export_room("NOPE")


def test_a_battle_counts_one_vote_even_when_two_race(db_url):
    """Two Store objects (two replicas) vote on the same battle at the same moment (the session it was shown to,
    clicking in two tabs): exactly one vote counts."""
    stores = [Store(db_url), Store(db_url)]
    stores[0].create_battle("b-race", "s-1", None, "generate", "m-a", "m-b", "Hi")
    assert stores[1].get_battle("b-race")["model_b"] == "m-b" and stores[1].get_battle("b-race")["shown_at"] is None
    stores[1].mark_battle_shown("b-race")
    shown = stores[0].get_battle("b-race")["shown_at"]
    stores[0].mark_battle_shown("b-race")  # the first reveal is kept
    assert shown is not None and stores[0].get_battle("b-race")["shown_at"] == shown

    outcomes: list[bool] = []
    start = threading.Barrier(4)

    def vote(worker: int) -> None:
        start.wait()
        outcomes.append(stores[worker % 2].record_vote("b-race", "s-1", None, "ab"[worker % 2], anonymous=False))

    threads = [threading.Thread(target=vote, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False, False, False, True]
    assert len(stores[0].votes()) == 1 and stores[1].votes().iloc[0]["task"] == "generate"
    for store in stores:
        store.close()


def test_votes_are_checked_and_filtered_by_room(store):
    store.create_room("R1", "one", "h")
    store.create_battle("b-1", "s-1", "R1", "generate", "m-a", "m-b", "Hi")
    store.create_battle("b-2", "s-2", None, "classify", "m-c", "m-d", "Great film")
    with pytest.raises(InputError):
        store.record_vote("b-1", "s-1", "R1", "both", anonymous=False)
    with pytest.raises(InputError):
        store.record_vote("b-unknown", "s-1", "R1", "a", anonymous=False)
    assert store.record_vote("b-1", "s-1", "R1", "both_bad", anonymous=False)
    assert store.record_vote("b-2", "s-2", None, "b", anonymous=True)
    assert list(store.votes(room="R1")["choice"]) == ["both_bad"]
    assert list(store.votes()["battle_id"]) == ["b-1", "b-2"] and list(store.votes()["anonymous"]) == [False, True]
    assert store.get_battle("b-unknown") is None


# ---------------------------------------------------------------- migrations
def migrations_head() -> str:
    """The newest revision in the migrations folder (one head: the chain has no fork)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_build_exactly_the_schema_the_code_uses(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == migrations_head()


@pytest.mark.parametrize("legacy", sorted(FIXTURES.glob("history-*.sqlite")), ids=lambda p: p.stem)
def test_a_history_file_from_before_the_store_upgrades_in_place(legacy, tmp_path):
    path = tmp_path / "playground.sqlite"
    shutil.copy(legacy, path)
    with sqlite3.connect(path) as old:
        old.row_factory = sqlite3.Row
        before = [dict(row) for row in old.execute("SELECT * FROM runs ORDER BY id")]
        old_settings = dict(old.execute("SELECT name, value FROM settings").fetchall())
    assert len(before) == 3 and old_settings == {"hardware_usd_per_hour": "0.42", "store_inputs_outputs": "true"}

    store = Store(path)
    runs = store.runs()
    after = json_rows(runs)
    for old_row, new_row in zip(before, after, strict=True):
        for name, value in old_row.items():
            assert new_row[name] == (bool(value) if name == "cold" else value), (legacy.name, name)
    assert list(runs["model_id"]) == ["smollm2-135m", "gpt-4o-mini", "smollm2-135m"]
    assert list(runs["cold"]) == [False, False, True] and list(runs["partial"]) == [False] * 3
    assert runs["room"].isna().all() and runs["endpoint"].isna().all()
    assert store.get_setting("hardware_usd_per_hour") == 0.42 and store.get_setting(STORE_IO) is True
    spec = load_catalog().get("smollm2-135m")
    final = Result(spec.id, "new", CallMetrics(0.1, 0.2, queue_s=0.05))
    assert store.record(RunContext("generate", "s-new"), spec, HELLO, final, None) == 4
    assert store.runs().iloc[-1]["queue_s"] == pytest.approx(0.05)
    store.close()
    assert Store(path).get_setting("hardware_usd_per_hour") == 0.42  # a second start finds nothing left to do


@pytest.mark.slow  # starts a server process of its own
def test_replicas_starting_together_migrate_once(db_url):
    """Three processes open the same empty database at once (replicas starting together): all come up, one schema."""
    code = "import sys; from playground.store import Store; Store(sys.argv[1]).close()"
    starts = [
        subprocess.Popen([sys.executable, "-c", code, db_url], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(3)
    ]
    for process in starts:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()[-2000:]
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
