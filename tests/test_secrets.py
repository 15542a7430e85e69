"""Secrets on a shared server: keys of every form stay with their owner and out of storage, logs, exports and pages.

The provider is the fake server of ``tests/fake_openai.py`` (it echoes part of the key in its errors, as OpenAI
does, and sets a cookie: real providers do not do that on demand). The app is the real `streamlit run`, driven by
two Chromium contexts, with a real SQLite history.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from playground.backends.openai_compat import _HTTP, OpenAIChatBackend
from playground.catalog import load_catalog
from playground.credentials import SELF_HOSTED_URL
from playground.events import Credentials, Endpoint, GenParams, Request, Result
from playground.redact import REDACTED, scrub
from playground.store import Store, to_csv, to_json
from tests.browser import streamlit_app, wait_idle
from tests.conftest import ARTIFACTS
from tests.fake_openai import fault_server, masked, provider_toml

SAY_HI = Request("generate", prompt="Say hi.", params=GenParams(max_new_tokens=3))
INSTRUCTOR_KEY = "instructor-5TgH7jK9wQ2e"


@pytest.fixture(scope="module")
def server():
    with fault_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_catalog_file(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("secrets") / "faulty.toml"
    path.write_text(provider_toml(server.base_url, ["echo", "server-500", "auth-401", "set-cookie", "image-answer"]))
    return path


# ---------------------------------------------------------------------------------------------- the engine alone
def test_a_cookie_from_one_call_is_never_sent_on_another(server, fake_catalog_file):
    catalog = load_catalog(fake_catalog_file)
    backend = OpenAIChatBackend(catalog.providers)
    before = len(server.cookies_seen)
    for _ in range(2):  # the first answer sets a cookie; the second call must not carry it
        assert isinstance(list(backend.execute(catalog.get("set-cookie"), SAY_HI, Credentials()))[-1], Result)
    assert server.cookies_seen[before:] == [None, None]
    assert len(_HTTP.cookies) == 0


@pytest.mark.parametrize("configured_here", [False, True])
def test_the_servers_self_hosted_key_goes_only_to_its_own_url(server, monkeypatch, catalog, configured_here):
    """A student who types another base URL must not send the instructor's key there."""
    monkeypatch.setenv(SELF_HOSTED_URL, server.base_url + "/" if configured_here else "http://127.0.0.1:9/v1")
    monkeypatch.setenv("PLAYGROUND_SELF_HOSTED_KEY", INSTRUCTOR_KEY)
    before = len(server.requests_seen)
    typed = Credentials(self_hosted=Endpoint(server.base_url, "echo", ""))
    assert isinstance(
        list(OpenAIChatBackend(catalog.providers).execute(catalog.get("self-hosted"), SAY_HI, typed))[-1], Result
    )
    sent = "\n".join(server.requests_seen[before:])
    assert (INSTRUCTOR_KEY in sent) is configured_here


@pytest.mark.parametrize(
    ("text", "secrets", "gone"),
    [
        ("key sk-Q7xZ9mV2pL4rT8kW1nB6 in text", ["sk-Q7xZ9mV2pL4rT8kW1nB6"], "Q7xZ9m"),
        ("short Zq7Wx3 key", ["Zq7Wx3"], "Zq7Wx3"),
        ("tiny k9 key, k9!", ["k9"], "k9"),
        ("at https://alice:pwA-7QzX9mK2@host/v1 failed", [], "pwA-7QzX9mK2"),
        ("GET /v1/models?api_key=qkA-4MnB8vC1xP&x=1", [], "qkA-4MnB8vC1xP"),
        ("Incorrect API key provided: sk-Q7x****yC3.", [], "sk-Q7x"),
        ("the provider said: ...2pL4rT8kW1...", ["sk-Q7xZ9mV2pL4rT8kW1nB6"], "2pL4rT8kW1"),
    ],
    ids=["long", "short", "tiny", "url-credentials", "query-key", "masked-echo", "partial-echo"],
)
def test_scrub_removes_every_form_of_key(text, secrets, gone):
    scrubbed = scrub(text, secrets)
    assert gone not in scrubbed and REDACTED in scrubbed


def test_scrub_leaves_ordinary_text_alone():
    text = "A **bold** claim, ***very*** bold, costs $3 at https://example.com/docs?page=2 (k9 is not a key here)"
    assert scrub(text, ["sk-Q7xZ9mV2pL4rT8kW1nB6"]) == text


# ---------------------------------------------------------------------------------------------- two browsers, one app
@dataclass
class Student:
    name: str
    api_key: str  # for the fake provider, typed in the sidebar
    self_hosted_key: str  # typed too; empty: none
    user: str
    password: str  # written into the self-hosted URL
    query_key: str  # ?api_key= in the self-hosted URL

    def url(self, base_url: str) -> str:
        credentials = f"{self.user}:{self.password}@" if self.password else ""
        return base_url.replace("http://", f"http://{credentials}") + f"?api_key={self.query_key}"

    def secrets(self) -> list[str]:
        return [s for s in (self.api_key, self.self_hosted_key, self.password, self.query_key) if s]


ALICE = Student("alice", "sk-Q7xZ9mV2pL4rT8kW1nB6", "Zq7Wx3", "aliceUsr9", "pwA-7QzX9mK2", "qkA-4MnB8vC1xP")
# Bob types no self-hosted key and no URL credentials (httpx would send those as Basic auth): his call shows which
# key goes to a URL a student typed when the server has its own self-hosted key for another URL
BOB = Student("bob", "Hy4Kp2", "", "", "", "qkB-9TfR2wE6yU")


@pytest.fixture(scope="module")
def shared_app(fake_catalog_file, tmp_path_factory):
    home = tmp_path_factory.mktemp("shared_app")
    secrets = home / "secrets.toml"
    secrets.write_text(
        f'PLAYGROUND_SELF_HOSTED_URL = "http://127.0.0.1:9/v1"\nPLAYGROUND_SELF_HOSTED_KEY = "{INSTRUCTOR_KEY}"\n'
    )
    with streamlit_app(home, PLAYGROUND_CATALOG=str(fake_catalog_file), STREAMLIT_SECRETS_FILES=str(secrets)) as url:
        yield url, home


@pytest.fixture
def chromium(browser):
    """The suite's one Chromium (tests/browser.py): a second Playwright in the same process is refused."""
    return browser


def type_into(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


def run_as(page, app_url: str, student: Student, base_url: str) -> str:
    """Type every key into the sidebar, run four models, and return the page's HTML once they are done."""
    page.goto(f"{app_url}/generate?models=echo,server-500,auth-401")
    page.get_by_text("API keys (closed models)").click()
    type_into(page, "Faulty", student.api_key)
    expect(page.get_by_text("Faulty: key set for this browser session")).to_be_visible()
    page.get_by_text("Self-hosted endpoint (open models)").click()
    type_into(page, "Base URL", student.url(base_url))
    type_into(page, "Model name", "echo")
    if student.self_hosted_key:
        type_into(page, "API key (optional)", student.self_hosted_key)
    # picked after the endpoint is set: the picker drops a model whose status label changes under it
    picker = page.get_by_test_id("stMultiSelect").get_by_role("combobox")  # not the sidebar's language box
    picker.click()
    picker.fill("Self-hosted")
    picker.press("Enter")
    wait_idle(page)
    page.keyboard.press("Escape")
    wait_idle(page)  # closing the picker may rerun the page: Run goes to the rerun with all four models
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("The API key was rejected (401).")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("The server failed (500)", exact=False)).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.screenshot(path=ARTIFACTS / f"secrets-{student.name}.png", full_page=True)
    return page.content()


def test_two_students_keys_stay_out_of_storage_logs_exports_and_pages(shared_app, chromium, server):
    app_url, home = shared_app
    before = len(server.requests_seen)
    pages = {}
    for student in (ALICE, BOB):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        pages[student.name] = run_as(page, app_url, student, server.base_url)
        context.close()

    history = Store(home / "history.sqlite")
    try:
        runs = history.runs()
        exports = {"csv": to_csv(runs), "json": to_json(runs)}
    finally:
        history.close()
    assert len(runs) >= 8 and runs["error"].notna().sum() >= 4, runs[["model_id", "error"]]
    assert (runs["output"] == "Hello there friend").sum() >= 2, "the echo model answered both students"

    stored = {p.name: p.read_bytes().decode("latin-1") for p in home.glob("history.sqlite*")}
    logs = {"streamlit.log": (home / "streamlit.log").read_text()}
    where = {**stored, **exports, **logs}
    for student in (ALICE, BOB):
        echo = [masked(f"Bearer {student.api_key}")] if len(student.api_key) > 10 else []  # a short one: "****"
        keys = [*student.secrets(), INSTRUCTOR_KEY, *echo]
        for name, text in {**where, **{f"{other}'s page": html for other, html in pages.items()}}.items():
            if name == f"{student.name}'s page":  # the Base URL box shows what its owner typed into it, and only that
                text = text.replace(student.url(server.base_url).replace("&", "&amp;"), "", 1)
            for key in keys:
                assert key not in text, f"{student.name}'s {key!r} is in {name}"
    sent = "\n".join(server.requests_seen[before:])
    assert INSTRUCTOR_KEY not in sent, "the server's self-hosted key went to a URL a student typed"
    assert "bearer not-needed" in sent.lower()  # Bob's self-hosted call: the server's key would have gone here


def test_an_answer_with_an_image_loads_nothing(shared_app, chromium, server):
    """Markdown images in an answer would make every viewer's browser fetch from the answer's host."""
    app_url, _ = shared_app
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(app_url) else None)
    gets_before = len(server.gets)
    try:
        page.goto(f"{app_url}/generate?models=image-answer")
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text("done.", exact=False)).to_be_visible(timeout=120_000)
        wait_idle(page)
        link = page.get_by_role("link", name="🖼 a pixel")
        expect(link).to_have_count(1)  # the image became a link, fetched only if someone clicks it
        assert page.locator("img[src*='pixel.png']").count() == 0
    finally:
        context.close()
    # nothing leaves the page: not the answer's image, and not a favicon (app.py serves its own icon)
    assert outside == [] and server.gets[gets_before:] == []
