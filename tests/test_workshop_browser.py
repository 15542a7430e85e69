"""A workshop in miniature: six students press Run on one `streamlit run` server at the same moment.

The server's batch is capped at two requests, so some students must wait in line: their cards show their place,
live, and every one of them still gets an answer.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import open_page, streamlit_app, wait_idle

STUDENTS = 6


@pytest.fixture(scope="module")
def workshop_url(tmp_path_factory):
    with streamlit_app(tmp_path_factory.mktemp("workshop"), PLAYGROUND_MAX_BATCH="2") as url:
        yield url


def test_six_students_at_once_all_finish_and_a_waiting_one_sees_its_place(browser, workshop_url, artifacts):
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(STUDENTS)]
    pages = [context.new_page() for context in contexts]
    try:
        for n, page in enumerate(pages):
            page.set_default_timeout(120_000)
            open_page(page, f"{workshop_url}/generate?models=smollm2-135m")
            page.get_by_label("Prompt", exact=True).fill(f"Student {n}: name {n + 2} colours of the rainbow.")
            tokens = page.get_by_label("Max new tokens", exact=True)
            tokens.fill("40")
            tokens.press("Tab")
            wait_idle(page)
        for page in pages:  # as close to "at once" as one driver gets: six clicks in a row
            page.get_by_role("button", name="Run", exact=True).click()
        queued = None
        for _ in range(240):  # look for a place in line while the first answers are being written
            queued = next((p for p in pages if p.get_by_text("in line").count()), None)
            if queued is not None:
                break
            pages[0].wait_for_timeout(250)
        assert queued is not None, "with a batch of two, some of six students must wait and see their place"
        queued.screenshot(path=str(artifacts / "generate-queued.png"), full_page=True)
        for page in pages:
            expect(page.get_by_text("tokens out")).to_have_count(1, timeout=300_000)
            wait_idle(page)
        waited = [p for p in pages if p.get_by_text("in line").count()]  # the card says how long it waited
        assert waited, "a student who waited has 'waited … s in line' in the card's metrics"
    finally:
        for context in contexts:
            context.close()
