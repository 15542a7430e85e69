"""Chromium: the built-in English set on two local models; the tab closed mid-run and reopened from its link finds
the run still progressing; failures filtered; the CSV export; a rerun with its diff; the matrix in 简体中文."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import time

import pytest

from tests.browser import REPO, open_page, screenshot_whole_page, streamlit_app, wait_idle

SCREENSHOTS = REPO / "docs" / "screenshots"
RUN_LINK = re.compile(r"[?&]run=([0-9a-f]{32})")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home = tmp_path_factory.mktemp("prompt_sets_app")
    with streamlit_app(home) as url:
        yield url, home / "history.sqlite"


def cells_done(database, run_id: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM prompt_set_cells WHERE run_id = ?", (run_id,)).fetchone()[0]


def status(database, run_id: str) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT status FROM prompt_set_runs WHERE id = ?", (run_id,)).fetchone()[0]


def row_details(page) -> int:
    """The expanders that open one prompt's answers (titled "<row id>: <prompt>")."""
    titles = page.locator("[data-testid='stExpander'] summary").all_inner_texts()
    return sum(bool(re.search(r"\b(capital-france|json-person|sky-colour): ", t)) for t in titles)


def rows_settle_at(page, expected: int, seconds: float = 30) -> int:
    """How many rows the matrix shows once it shows ``expected`` or ``seconds`` pass: a toggle's rerun can end after
    the status widget was last looked for, leaving the old rows on the page a moment longer."""
    deadline = time.monotonic() + seconds
    while (shown := row_details(page)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    return shown


def start_run(page, max_tokens: int, button: str) -> str:
    tokens = page.get_by_label(re.compile("Max new tokens|最大新词元数"))
    tokens.fill(str(max_tokens))
    tokens.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(RUN_LINK)
    return RUN_LINK.search(page.url).group(1)


def wait_done(page, database, run_id: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while status(database, run_id) == "running":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(1)
    page.get_by_role("button", name=re.compile("Export CSV|导出 CSV")).wait_for(timeout=60_000)
    wait_idle(page)


@pytest.mark.slow
def test_run_close_the_tab_reopen_filter_export_rerun_and_diff(browser, app, artifacts):
    url, database = app
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    open_page(page, f"{url}/prompt_sets")
    run_id = start_run(page, 64, "Run the set")
    link = page.url
    page.get_by_text(re.compile(r"\d of 6 cells")).wait_for()
    page.close()  # the tab goes away mid-run

    assert status(database, run_id) == "running"
    before = cells_done(database, run_id)
    page = context.new_page()
    page.set_default_timeout(120_000)
    open_page(page, link)
    if status(database, run_id) == "running":  # reopened while it runs: the page follows it
        page.get_by_text(re.compile(r"\d of 6 cells")).wait_for()
    wait_done(page, database, run_id)
    assert status(database, run_id) == "done" and cells_done(database, run_id) == 6 > before

    page.get_by_text("Pass rate against latency").wait_for()
    assert row_details(page) == 3
    with sqlite3.connect(database) as db:
        failing = {
            row for (row,) in db.execute(
                "SELECT DISTINCT row_index FROM prompt_set_cells WHERE run_id = ? AND verdict IN ('fail', 'error')",
                (run_id,),
            )
        }  # fmt: skip
    page.get_by_text("Failures only").click()
    wait_idle(page)
    assert rows_settle_at(page, len(failing)) == len(failing)
    screenshot_whole_page(page, artifacts / "prompt-sets-failures.png")
    page.get_by_text("Failures only").click()
    wait_idle(page)
    assert rows_settle_at(page, 3) == 3

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert len(exported) == 6 and {r["model"] for r in exported} == {"smollm2-135m", "smollm2-135m-int4"}
    page.locator("[data-testid='stExpander'] summary", has_text="capital-france: ").click()  # one row's answers
    screenshot_whole_page(page, SCREENSHOTS / "prompt-sets.png")

    page.get_by_role("button", name="Run again and compare").click()
    page.wait_for_url(lambda u: RUN_LINK.search(u) is not None and RUN_LINK.search(u).group(1) != run_id)
    rerun_id = RUN_LINK.search(page.url).group(1)
    wait_done(page, database, rerun_id)
    page.get_by_text("Compare with an earlier run").wait_for()
    page.get_by_text(re.compile(r"of 6 cells changed verdict")).wait_for()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT rerun_of FROM prompt_set_runs WHERE id = ?", (rerun_id,)).fetchone()[0] == run_id
    context.close()


@pytest.mark.slow
def test_the_matrix_in_chinese(browser, app):
    url, database = app
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(120_000)
    open_page(page, f"{url}/prompt_sets?lang=zh")
    run_id = start_run(page, 32, "运行提示词集")
    wait_done(page, database, run_id)
    page.get_by_text("通过率与延迟").wait_for()
    page.locator("[data-testid='stExpander'] summary", has_text="法国的首都是哪座城市").click()
    screenshot_whole_page(page, SCREENSHOTS / "prompt-sets-zh.png")
    context.close()
