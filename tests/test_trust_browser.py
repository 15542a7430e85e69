"""Two strangers on one server, in two Chromium contexts on one `streamlit run`: B never sees A's prompt (dashboard,
both exports, the room), cannot change a server-wide setting, and a wrong admin password is refused; once B signs in
as admin, the dashboard holds both visitors' runs.

The model both visitors run is ``tests/fake_openai.py`` declared as a provider: fake because this test is about who
sees what, not about a model, and a real one would only add minutes. Everything else is real: the pages, the store,
the exports as the browser downloads them.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import open_page, streamlit_app, wait_idle
from tests.fake_openai import fault_server, provider_toml

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"
SECRET_A = "A-private-question-7Q2X"
SECRET_B = "B-own-question-4K9M"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def trust_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("trust_app")
    with fault_server() as server:
        catalog = home / "echo.toml"
        catalog.write_text(provider_toml(server.base_url, ["echo"]))
        with streamlit_app(home, PLAYGROUND_CATALOG=str(catalog), PLAYGROUND_ADMIN_PASSWORD=PASSWORD) as url:
            yield url


def run_generate(page, url: str, prompt: str) -> None:
    open_page(page, f"{url}/generate?models=echo&prompt={urllib.parse.quote(prompt)}")
    page.get_by_role("button", name="Run", exact=True).click()
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_selector('[data-testid="stStatusWidget"]', timeout=10_000)
    wait_idle(page)
    page.get_by_text("Hello there friend").first.wait_for()


def nav(page, title: str) -> None:
    """Go to another page inside the app: a new URL would start a new session (and a stranger's history)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.wait_for_timeout(500)
    wait_idle(page)


def downloaded(page, button: str) -> str:
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def test_two_visitors_never_see_each_others_runs_until_the_admin_signs_in(browser, trust_url):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True) for _ in range(2)]
    a, b = (context.new_page() for context in contexts)
    for page in (a, b):
        page.set_default_timeout(120_000)
    try:
        run_generate(a, trust_url, SECRET_A)
        run_generate(b, trust_url, SECRET_B)

        # A opens a room; B joins it as a student and sees aggregates only
        nav(a, "Room")
        a.get_by_role("textbox", name="Instructor PIN").fill("2468")
        a.get_by_role("button", name="Create").click()
        a.get_by_text("Save the exercise").wait_for()
        wait_idle(a)
        code = urllib.parse.parse_qs(urllib.parse.urlparse(a.url).query)["room"][0]
        nav(b, "Room")
        b.get_by_role("textbox", name="Room code").fill(code)
        b.get_by_role("button", name="Join", exact=True).click()
        b.get_by_role("textbox", name="Your name (as the class will see it)").fill("Bea")
        b.get_by_role("button", name="Join the room").click()
        b.get_by_text("Joined as Bea.").wait_for()
        wait_idle(b)
        assert SECRET_A not in b.content()

        # B's dashboard and both of B's exports hold B's run, never A's
        nav(b, "Latency & cost")
        assert b.get_by_text("Your runs in this browser, reloads included.").count() == 1
        for button in ("Export CSV", "Export JSON"):
            exported = downloaded(b, button)
            assert SECRET_B in exported and SECRET_A not in exported, button
        assert SECRET_A not in b.content()

        # the server-wide settings: B reads them, has no form, and a wrong password is refused
        b.get_by_text("Server-wide settings (admin)").click()
        b.get_by_text("Set by the server's admin for everyone").wait_for()
        assert b.get_by_role("button", name="Save for everyone").count() == 0
        b.get_by_label("Admin password").fill("guess")
        b.get_by_role("button", name="Sign in").click()
        b.get_by_text("Wrong password.").wait_for()
        assert b.get_by_role("button", name="Save for everyone").count() == 0

        # with the right password B is the admin: the dashboard shows both visitors' runs, with a filter
        b.get_by_label("Admin password").fill(PASSWORD)
        b.get_by_role("button", name="Sign in").click()
        b.get_by_role("button", name="Save for everyone").wait_for()
        wait_idle(b)
        nav(b, "Latency & cost")
        b.get_by_text("Whose runs (admin)").wait_for()
        exported = downloaded(b, "Export CSV")
        assert SECRET_A in exported and SECRET_B in exported
        SCREENSHOTS.mkdir(exist_ok=True)
        b.screenshot(path=str(SCREENSHOTS / "dashboard-admin.png"), full_page=True)

        # A, the room's instructor, sees their own run and the room's; B's private run is in neither
        nav(a, "Latency & cost")
        exported = downloaded(a, "Export CSV")
        assert SECRET_A in exported and SECRET_B not in exported
    finally:
        for context in contexts:
            context.close()
