"""Two app replicas share one real PostgreSQL (pgserver): what one writes, the other sees.

- Two `streamlit run app.py` processes with the same ``PLAYGROUND_DB_URL``, driven by two browser contexts: a run
  made on Generate through one appears on the other's dashboard.
- Rooms, members, battles, votes and settings made by one process are read by another, and two processes racing to
  vote on one battle count it once.
- Two processes writing runs as fast as they can: nothing is lost; the writes per second one PostgreSQL took is
  printed and saved to test-artifacts/replicas.txt.
"""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa
from playwright.sync_api import expect

from playground.store import Store
from tests.browser import REPO, open_page, streamlit_app, wait_idle

WRITERS = 2  # processes, like two replicas
THREADS = 4  # sessions writing at once in each
WRITES = 150  # runs per thread

_RECORD = """
import sys, threading, time
from playground import CallMetrics, Request, Result, RunContext, load_catalog
from playground.store import Store
url, name, threads, writes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store, spec = Store(url), load_catalog().get("smollm2-135m")
def write(t):
    for i in range(writes):
        final = Result(spec.id, f"{name}:{t}:{i}", CallMetrics(0.1, 0.3, input_tokens=5, output_tokens=9))
        store.record(RunContext("generate", f"{name}-{t}"), spec, Request("generate", prompt="hi"), final, None, store_io=True)
workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
started = time.time()
[w.start() for w in workers]
[w.join() for w in workers]
print(started, time.time())
"""


def _python(code: str, *args: str, timeout: float = 120) -> str:
    """Run ``code`` in a new Python process (another replica) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _commits(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.exec_driver_sql(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).scalar()
    engine.dispose()
    return count


ADMIN_PASSWORD = "replica admin"


def test_a_run_made_through_one_replica_shows_on_the_other(postgres_url, browser, tmp_path):
    homes = [tmp_path / "one", tmp_path / "two"]
    for home in homes:
        home.mkdir()
    with (
        streamlit_app(homes[0], PLAYGROUND_DB_URL=postgres_url) as first,
        streamlit_app(homes[1], PLAYGROUND_DB_URL=postgres_url, PLAYGROUND_ADMIN_PASSWORD=ADMIN_PASSWORD) as second,
    ):
        student, teacher = browser.new_context(), browser.new_context()
        try:
            dashboard = teacher.new_page()
            dashboard.set_default_timeout(60_000)
            open_page(dashboard, f"{second}/dashboard")
            expect(dashboard.get_by_text("No finished runs to show yet", exact=False)).to_be_visible()
            # history is private: only the admin sees another visitor's runs
            dashboard.get_by_text("Server-wide settings (admin)").click()
            dashboard.get_by_label("Admin password").fill(ADMIN_PASSWORD)
            dashboard.get_by_role("button", name="Sign in").click()
            dashboard.get_by_role("button", name="Save for everyone").wait_for()

            generate = student.new_page()
            generate.set_default_timeout(60_000)
            open_page(generate, f"{first}/generate?models=smollm2-135m")
            generate.get_by_label("Prompt", exact=True).fill("Say hi to replica two.")
            max_tokens = generate.get_by_label("Max new tokens", exact=True)
            max_tokens.fill("4")
            max_tokens.press("Tab")
            wait_idle(generate)
            generate.get_by_role("button", name="Run", exact=True).click()
            expect(generate.get_by_text("tokens in")).to_have_count(1, timeout=240_000)  # the card's metrics line

            # a new script run of the other replica reads the store (in the same session: the admin's)
            dashboard.get_by_test_id("stSidebarNav").get_by_role("link", name="Latency & cost").click()
            wait_idle(dashboard)
            expect(dashboard.get_by_text("No finished runs to show yet", exact=False)).to_have_count(0)
            dashboard.locator(".js-plotly-plot").nth(3).wait_for()  # latency, tokens/s, cost per call, cumulative
        finally:
            student.close()
            teacher.close()
    runs = Store(postgres_url).runs()
    assert list(runs["input"]) == ["Say hi to replica two."] and runs.iloc[0]["session_id"]


def test_rooms_votes_and_settings_cross_processes(postgres_url):
    """One process opens a room and a battle; another joins, votes and saves a setting; a third reads it all."""
    _python(
        "import sys; from playground.store import Store; s = Store(sys.argv[1]); "
        "s.create_room('R7', 'Week 7', 'hash'); s.set_exercise('R7', {'prompt': 'Compare'}); "
        "s.create_battle('b-1', 'student-1', 'R7', 'generate', 'm-a', 'm-b', 'Compare')",
        postgres_url,
    )
    _python(
        "import sys; from playground.store import Store; s = Store(sys.argv[1]); "
        "s.join_room('R7', 'student-1', 'Ann'); assert s.record_vote('b-1', 'student-1', 'R7', 'a', True); "
        "s.set_setting('hardware_usd_per_hour', 0.9)",
        postgres_url,
    )
    race = (
        "import sys; from playground.store import Store; s = Store(sys.argv[1]); "
        "s.create_battle(sys.argv[2], 'x', 'R7', 'generate', 'm-a', 'm-b', 'p') if sys.argv[3] == '0' else None; "
        "import time; time.sleep(1.5); print(s.record_vote(sys.argv[2], 'x', 'R7', 'b', False))"
    )
    voters = [
        subprocess.Popen(
            [sys.executable, "-c", race, postgres_url, "b-race", str(i)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for i in range(2)
    ]
    outcomes = sorted(p.communicate(timeout=120)[0].strip() for p in voters)
    exported = json.loads(
        _python(
            "import sys, json; from playground.store import Store; s = Store(sys.argv[1]); "
            "print(json.dumps({'room': s.export_room('R7'), 'rate': s.get_setting('hardware_usd_per_hour')}))",
            postgres_url,
        )
    )
    assert outcomes == ["False", "True"]  # a battle is counted once, whichever replica the votes reach
    assert exported["rate"] == 0.9
    assert exported["room"]["room"]["exercise"] == {"prompt": "Compare"}
    assert [m["display_name"] for m in exported["room"]["members"]] == ["Ann"]
    assert sorted((v["battle_id"], v["choice"]) for v in exported["room"]["votes"]) == [("b-1", "a"), ("b-race", "b")]


def test_two_replicas_writing_at_once_lose_nothing(postgres_url, artifacts):
    Store(postgres_url).close()  # migrate first, so the measure is of writes only
    commits_before = _commits(postgres_url)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _RECORD, postgres_url, f"replica{r}", str(THREADS), str(WRITES)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(WRITERS)
    ]
    windows = []
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err[-3000:]
        windows.append([float(x) for x in out.split()])
    elapsed = max(end for _, end in windows) - min(start for start, _ in windows)  # first write to last, all replicas
    commits = _commits(postgres_url) - commits_before
    runs = Store(postgres_url).runs()
    expected = WRITERS * THREADS * WRITES
    assert len(runs) == expected and runs["id"].is_unique
    assert set(runs["output"]) == {
        f"replica{r}:{t}:{i}" for r in range(WRITERS) for t in range(THREADS) for i in range(WRITES)
    }
    line = (
        f"PostgreSQL writes from {WRITERS} replica processes x {THREADS} threads: {expected} runs in {elapsed:.1f} s "
        f"= {expected / elapsed:.0f} runs/s; {commits} commits counted by pg_stat_database (connection pings and "
        f"setting reads included) = {commits / elapsed:.0f} commits/s"
    )
    print(line)
    (artifacts / "replicas.txt").write_text(line + "\n")
    assert expected / elapsed > 5, line  # far below any real PostgreSQL: only a broken pool or lock gets here
