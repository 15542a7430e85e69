"""What a 30-student room costs the server: memory per open session (RSS of a `streamlit run` server with N room
sessions open against 1) and the store's writes for a burst where all 30 join, run a blind exercise and vote."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import all_at_once
from playground import CallMetrics, Request, Result, load_catalog, rooms
from playground.store import Store

STUDENTS = 30
WRITES_PER_STUDENT = 6  # join, battle, two runs, vote, battle revealed


def simulated_burst(folder: Path) -> tuple[float, int]:
    """30 threads, each one student's writes through the real Store (SQLite WAL). Returns (seconds, writes)."""
    store = Store(folder / "burst.sqlite")
    catalog = load_catalog()
    spec = catalog.get("smollm2-135m")
    code = rooms.new_code()
    store.create_room(code, "burst", rooms.hash_pin("2468"))
    request = Request("generate", prompt="Name one colour.")

    def student(i: int) -> None:
        from playground.context import RunContext

        sid = f"student-{i}"
        store.join_room(code, sid, f"S{i}")
        store.create_battle(f"b{i}", sid, code, "generate", "smollm2-135m", "smollm2-135m", request.prompt)
        for _ in range(2):
            final = Result(
                "smollm2-135m",
                text="Blue.",
                metrics=CallMetrics(ttft_s=0.3, total_s=1.0, input_tokens=30, output_tokens=3),
            )
            store.record(RunContext("room", sid, code, f"b{i}"), spec, request, final, None)
        store.record_vote(f"b{i}", sid, code, "a", True)
        store.mark_battle_shown(f"b{i}")

    elapsed = all_at_once(STUDENTS, student)
    assert len(store.votes(code)) == STUDENTS and len(store.runs(room=code)) == 2 * STUDENTS
    return elapsed, STUDENTS * WRITES_PER_STUDENT


def session_memory(folder: Path, sessions: int) -> tuple[float, float]:
    """RSS (MiB) of a fresh server with 1 and with ``sessions`` browser sessions on a room's student page."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_app

    store = Store(folder / "history.sqlite")
    store.create_room("ABCDEFGH", "memory", rooms.hash_pin("2468"))
    store.set_exercise("ABCDEFGH", rooms.Exercise("generate", ("smollm2-135m",), prompt="Hi").to_dict())
    with streamlit_app(folder) as url, sync_playwright() as playwright:
        server = next(p for p in psutil.Process().children(recursive=True) if "streamlit" in " ".join(p.cmdline()))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []

        def open_one() -> None:
            page = browser.new_context().new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/room?room=ABCDEFGH")
            page.get_by_text("Join the room").wait_for()
            pages.append(page)

        open_one()
        time.sleep(3)
        one = server.memory_info().rss / 2**20
        for _ in range(sessions - 1):
            open_one()
        time.sleep(3)
        many = server.memory_info().rss / 2**20
        browser.close()
    return one, many


def main() -> None:
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp:
        folder = Path(tmp)
        elapsed, writes = simulated_burst(folder)
        one, many = session_memory(folder, sessions)
    per_session = (many - one) / (sessions - 1)
    print(
        f"hardware: {os.cpu_count()} CPU cores, {platform.machine()}, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    )
    print(
        f"burst of {STUDENTS} students x {WRITES_PER_STUDENT} writes: {writes} writes in {elapsed:.2f} s ({writes / elapsed:.0f} writes/s, SQLite WAL)"
    )
    print(f"server RSS: 1 session {one:.0f} MiB, {sessions} sessions {many:.0f} MiB: {per_session:.1f} MiB per session")
    print(f"a {STUDENTS}-student room: ~{one + per_session * (STUDENTS - 1):.0f} MiB server RSS before any model loads")
    print(
        f"writes per minute, room of {STUDENTS}, one blind exercise each per 2 min: {STUDENTS * (WRITES_PER_STUDENT - 1) / 2:.0f} (+{STUDENTS} joins once)"
    )
    print(f"burst time / a minute of writes at that pace: {elapsed / 60:.4f} (goal <= 0.05)")


if __name__ == "__main__":
    main()
