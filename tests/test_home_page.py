"""The home page: the catalog grouped open vs closed, with what each model needs to run."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_catalog_tables_say_what_each_model_needs(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [s.value for s in at.subheader][:2] == ["Open models", "Closed models"]
    open_table, closed_table = (t.value.set_index("Model") for t in at.dataframe[:2])
    assert open_table.loc["SmolLM2-135M-Instruct", "Status"] == "ready"
    assert open_table.loc["all-MiniLM-L6-v2 (zero-shot)", "Status"] == "ready"
    assert "make prefetch" in open_table.loc["Qwen2.5-0.5B-Instruct", "Status"]
    assert closed_table.loc["GPT-4o", "Status"] == "needs OPENAI_API_KEY"
    assert set(closed_table["License"]) >= {"OpenAI terms", "Anthropic terms"}


def test_a_key_set_in_the_environment_makes_the_model_ready(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    at = AppTest.from_file(APP, default_timeout=60).run()
    closed_table = at.dataframe[1].value.set_index("Model")
    assert closed_table.loc["GPT-4o", "Status"] == "ready"
    assert "sk-from-env" not in closed_table.to_string()


def test_browser_home_lists_open_and_closed_models(page, app_url, artifacts):
    from tests.browser import open_page

    open_page(page, app_url)
    assert page.get_by_role("heading", name="Open models").is_visible()
    assert page.get_by_role("heading", name="Closed models").is_visible()
    page.locator('[data-testid="stDataFrame"]').first.hover()  # the grid paints its canvas lazily
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)
