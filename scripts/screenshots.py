"""Screenshot every page in English and in Chinese, as a person first sees it, for the README.

    .venv/bin/python -m scripts.screenshots   # writes docs/screenshots/pages/<page>-<lang>.png

It starts `streamlit run` on a loopback port with a throwaway history, opens each page in Debian's Chromium,
waits until the script has finished, and saves the whole page. Look at the pictures: a user sees pixels.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, screenshot_whole_page, streamlit_app, wait_idle

PAGES = (
    "",
    "generate",
    "classify",
    "prompt_sets",
    "caption",
    "dashboard",
    "tokens",
    "arena",
    "leaderboard",
    "room",
    "learn",
)
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "pages"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with streamlit_app(Path(tempfile.mkdtemp(prefix="screenshots-"))) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang in ("en", "zh"):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            for name in PAGES:
                page.goto(f"{url}/{name}?lang={lang}")
                page.get_by_text("Language / 语言").first.wait_for()
                wait_idle(page)
                path = OUT / f"{name or 'home'}-{lang}.png"
                screenshot_whole_page(page, path)
                print(path)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
