"""The generate page, in AppTest and in a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from tests.browser import open_page, wait_idle

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def generate_page(monkeypatch, endpoint=None) -> AppTest:
    if endpoint:
        monkeypatch.setenv("PLAYGROUND_SELF_HOSTED_URL", endpoint.base_url)
        monkeypatch.setenv("PLAYGROUND_SELF_HOSTED_MODEL", endpoint.model)
    at = AppTest.from_file(APP, default_timeout=180).run()
    return at.switch_page("pages/generate.py").run()


def test_embedded_and_self_hosted_side_by_side(monkeypatch, serve_endpoint):
    at = generate_page(monkeypatch, serve_endpoint)
    at.multiselect(key="generate_models").set_value(["smollm2-135m", "self-hosted"]).run()
    at.text_area(key="generate_prompt").input("What is the capital of France?").run()
    at.slider[0].set_value(0.0).run()  # greedy: the answer is stable
    at.button(key="generate_run").click().run()
    assert not at.exception
    answers = [m.value for m in at.markdown if "Paris" in m.value]
    assert len(answers) == 2, [m.value for m in at.markdown]
    metric_lines = [c.value for c in at.caption if "tokens out" in c.value]
    assert len(metric_lines) == 2 and all("TTFT" in line and "tok/s" in line for line in metric_lines)
    assert not at.error


def test_empty_prompt_is_refused_without_a_call(monkeypatch):
    at = generate_page(monkeypatch)
    at.text_area(key="generate_prompt").input("   ").run()
    at.button(key="generate_run").click().run()
    assert "Write a prompt first" in at.warning[0].value
    assert not [c for c in at.caption if "tokens out" in c.value]


def test_keyless_api_model_shows_how_to_add_the_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = generate_page(monkeypatch)
    at.multiselect(key="generate_models").set_value(["gpt-4o-mini"]).run()
    at.button(key="generate_run").click().run()
    assert "unavailable" in at.error[0].value
    assert any("OPENAI_API_KEY" in c.value for c in at.caption)


def test_dead_self_hosted_url_fails_in_its_own_column(monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("PLAYGROUND_SELF_HOSTED_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("PLAYGROUND_SELF_HOSTED_MODEL", "anything")
    at = generate_page(monkeypatch)
    at.multiselect(key="generate_models").set_value(["smollm2-135m", "self-hosted"]).run()
    at.button(key="generate_run").click().run()
    assert len(at.error) == 1 and "Cannot reach" in at.error[0].value
    assert [c for c in at.caption if "tokens out" in c.value], "the embedded model should still answer"


def test_browser_runs_two_models_and_both_columns_fill(page, app_url, artifacts):
    open_page(page, f"{app_url}/generate?models=smollm2-135m,self-hosted")  # a deep link still gets app.py's sidebar
    page.get_by_label("Prompt", exact=True).fill("What is the capital of France?")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("tokens out")).to_have_count(2, timeout=180_000)
    wait_idle(page)
    assert page.get_by_text("Paris").count() >= 1  # sampled at temperature 0.7: both answer, most often both say it
    page.screenshot(path=str(artifacts / "generate.png"), full_page=True)


def test_browser_pressing_run_again_mid_answer_ends_with_the_newer_answer(page, app_url):
    """Streamlit reruns the page on the second click; the older run must give way, not refuse the newer one."""
    open_page(page, f"{app_url}/generate?models=smollm2-135m")
    page.get_by_label("Max new tokens").first.fill("200")
    page.get_by_label("Max new tokens").first.press("Enter")
    wait_idle(page)
    run = page.get_by_role("button", name="Run", exact=True)
    run.click()
    page.get_by_text("▌").first.wait_for(timeout=180_000)  # the first answer is streaming
    run.click()
    expect(page.get_by_text("tokens out")).to_have_count(1, timeout=180_000)
    wait_idle(page)
    assert page.get_by_text("already have a run going").count() == 0
    assert page.get_by_text("Stopped: you started a newer run").count() == 0  # the older card is gone with its page


def test_broken_catalog_entry_is_named_on_the_page(monkeypatch, tmp_path):
    from components.session import get_catalog

    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[models]]\nid = "gpt-5-typo"\nname = "T"\ntasks = ["generate"]\nopenness = "open"\n'
        'license = "x"\nprovider = "openia"\nbackend = "openai-compat"\n'
    )
    monkeypatch.setenv("PLAYGROUND_CATALOG", str(bad))
    get_catalog.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception
        assert "gpt-5-typo" in at.error[0].value and "openia" in at.error[0].value
    finally:
        get_catalog.clear()


def test_a_typed_key_never_reaches_the_page_html(page, app_url):
    key = "sk-test-DO-NOT-RENDER-8c1f"
    open_page(page, f"{app_url}/")
    page.get_by_text("API keys (closed models)").click()
    field = page.get_by_label("OpenAI", exact=True)
    field.fill(key)
    field.press("Enter")
    expect(page.get_by_text("OpenAI: key set for this browser session")).to_be_visible()
    expect(page.get_by_label("OpenAI", exact=True)).to_have_count(0)  # the typed field is gone, not just hidden
    wait_idle(page)
    html = page.content()
    where = html.find(key)
    assert where == -1, html[max(0, where - 400) : where + 60]


def test_same_weights_three_runtimes_is_one_click(monkeypatch):
    at = generate_page(monkeypatch)
    assert at.multiselect(key="generate_models").value[0] == "smollm2-135m-ov-int4", "OpenVINO int4 is the default"
    at.button(key="generate_three_runtimes").click().run()
    assert at.multiselect(key="generate_models").value == ["smollm2-135m", "smollm2-135m-int4", "smollm2-135m-ov-int4"]
    at.text_area(key="generate_prompt").input("What is the capital of France?").run()
    at.slider(key="generate_temperature").set_value(0.0).run()
    at.number_input(key="generate_max_tokens").set_value(12).run()
    at.button(key="generate_run").click().run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any("transformers fp32" in c for c in captions) and any("onnxruntime-genai int4" in c for c in captions)
    assert any("openvino int4" in c for c in captions)
    assert len([c for c in captions if "on disk" in c]) == 3, captions
    assert len([m.value for m in at.markdown if "Paris" in m.value]) == 3
