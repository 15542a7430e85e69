"""A real browser: the app served by `streamlit run`, driven by Playwright in Debian's chromium.

Registered as a pytest plugin by conftest.py. The server is started once per test session, with the real
`transformers serve` fixture configured as its self-hosted endpoint and a throwaway history database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def streamlit_app(home: Path, **env: str) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port with these environment settings; yields its URL."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PLAYGROUND_DB": str(home / "history.sqlite"), **env}
    with open(home / "streamlit.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/_stcore/health", process, 60)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def app_url(serve_endpoint, tmp_path_factory):
    with streamlit_app(
        tmp_path_factory.mktemp("browser_app"),
        PLAYGROUND_SELF_HOSTED_URL=serve_endpoint.base_url,
        PLAYGROUND_SELF_HOSTED_MODEL=serve_endpoint.model,
    ) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def open_page(page, url: str) -> None:
    """Go to a page of the app and wait until app.py's sidebar is drawn and the page script has finished."""
    page.goto(url)
    page.get_by_text("Language / 语言").wait_for()  # the sidebar's one label that reads the same in every language
    wait_idle(page)


def wait_idle(page, timeout_ms: int = 180_000) -> None:
    """Streamlit shows its status widget while a script runs; wait for it to go away."""
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def screenshot_whole_page(page, path) -> None:
    """The whole page in one image: Streamlit scrolls inside its main section, so the window is grown to fit it."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('section, [data-testid=stMain]')]"
        ".map(e => e.scrollHeight), 1000)"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 4000)})
    wait_idle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
