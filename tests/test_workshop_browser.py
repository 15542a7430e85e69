"""A workshop in miniature on one `streamlit run` server: six students press Run at the same moment, and one
student's very long prompt must not freeze anyone else.

The server's batch is capped at two requests, so some students must wait in line: their cards show their place,
live, and every one of them still gets an answer.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser import open_page, streamlit_app, wait_idle

STUDENTS = 6
OPENVINO = "smollm2-135m-ov-int4"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workshop_url(tmp_path_factory):
    with streamlit_app(tmp_path_factory.mktemp("workshop"), PLAYGROUND_MAX_BATCH="2") as url:
        yield url


def prepared(browser, url: str, model: str, prompt: str, tokens: int):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    open_page(page, f"{url}/generate?models={model}")
    page.get_by_label("Prompt", exact=True).fill(prompt)
    field = page.get_by_label("Max new tokens", exact=True)
    field.fill(str(tokens))
    field.press("Tab")
    wait_idle(page)
    return context, page


@pytest.mark.parametrize("model", ["smollm2-135m", OPENVINO])
def test_six_students_at_once_all_finish_and_a_waiting_one_sees_its_place(browser, workshop_url, artifacts, model):
    opened = [
        prepared(browser, workshop_url, model, f"Student {n}: name {n + 2} colours of the rainbow.", 40)
        for n in range(STUDENTS)
    ]
    pages = [page for _, page in opened]
    try:
        for page in pages:  # as close to "at once" as one driver gets: six clicks in a row
            page.get_by_role("button", name="Run", exact=True).click()
        queued = None
        for _ in range(240):  # look for a place in line while the first answers are being written
            queued = next((p for p in pages if p.get_by_text("in line").count()), None)
            if queued is not None:
                break
            pages[0].wait_for_timeout(250)
        assert queued is not None, "with a batch of two, some of six students must wait and see their place"
        if model == "smollm2-135m":
            queued.screenshot(path=str(artifacts / "generate-queued.png"), full_page=True)
        for page in pages:
            expect(page.get_by_text("tokens out")).to_have_count(1, timeout=300_000)
            wait_idle(page)
        waited = [p for p in pages if p.get_by_text("in line").count()]  # the card says how long it waited
        assert waited, "a student who waited has 'waited … s in line' in the card's metrics"
    finally:
        for context, _ in opened:
            context.close()


def test_a_long_prompt_freezes_nobody_and_the_other_students_ttft_is_honest(browser, workshop_url):
    """One session sends 20,000 characters (about 4,500 tokens; the server reads the last 2,048) to the OpenVINO
    model; meanwhile another session's card reports the TTFT its student saw, and the health check stays fast."""
    long_prompt = ("The river carries sand and stones down to the sea, year after year. " * 300)[:20_000]
    reader, long_page = prepared(browser, workshop_url, OPENVINO, long_prompt, 8)
    student, page = prepared(browser, workshop_url, OPENVINO, "Write a short poem about the sea.", 64)
    worst = [0.0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            urllib.request.urlopen(f"{workshop_url}/_stcore/health", timeout=30).read()
            worst[0] = max(worst[0], time.perf_counter() - started)
            stop.wait(0.05)

    try:
        page.get_by_role("button", name="Run", exact=True).click()  # the model's load: not this test's subject
        expect(page.get_by_text("tokens out")).to_have_count(1, timeout=120_000)
        wait_idle(page)
        poller = threading.Thread(target=poll)
        poller.start()
        long_page.get_by_role("button", name="Run", exact=True).click()
        expect(long_page.get_by_text(re.compile("Reading the prompt|Prompt truncated"))).not_to_have_count(
            0, timeout=60_000
        )
        run = page.get_by_role("button", name="Run", exact=True)
        run.wait_for()
        clicked = time.perf_counter()  # what the student waited: from the click to the first streamed token
        run.click()
        page.get_by_text("▌").first.wait_for(state="attached", timeout=120_000)  # Playwright looks every frame
        observed_s = time.perf_counter() - clicked
        wait_idle(page)
        expect(long_page.get_by_text("tokens out")).to_have_count(1, timeout=300_000)
        stop.set()
        poller.join()
        reported_s = float(re.search(r"TTFT ([\d.]+) s from arrival", page.inner_text("body")).group(1))
        print(
            f"second student: TTFT observed {observed_s:.2f} s, reported {reported_s:.2f} s; health <= {worst[0]:.3f} s"
        )
        # The card's clock runs from the rerun's start in app.py to the engine's first token; the student also waits
        # for the click to reach the server (55 ms, logged) and for the page to draw the token and Playwright to see
        # it (0.18-0.23 s logged on a quiet machine; 0.62 and 0.67 s seen in clean-clone CI runs, where the long
        # prompt's prefill holds both cores). The card must count the wait behind the long prompt (the bug was
        # 0.32 s reported after 20 s waited) and never claim more than the student saw.
        page_side_s = max(0.2 * observed_s, 1.0)
        assert observed_s - page_side_s <= reported_s <= observed_s + 0.02, (reported_s, observed_s)
        assert worst[0] < 1.0, f"the health check took {worst[0]:.2f} s while the long prompt was read"
        expect(long_page.get_by_text("models beside it may have answered a longer one")).to_have_count(1)
    finally:
        stop.set()
        reader.close()
        student.close()
