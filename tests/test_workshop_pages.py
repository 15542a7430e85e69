"""What the first real workshop found on the pages (issue 22), checked in AppTest: the seed draws anew unless fixed,
deep links that repeat a model or carry a book of a prompt, offline defaults that can run."""

from __future__ import annotations

import json

import pytest

from playground import Credentials, availability, load_catalog
from playground.store import Store
from tests.apptest import app_page


def open_with(at, page: str, **params: str):
    """Open ``page`` as a link would, with its query parameters (they are read on the page's first run)."""
    for name, value in params.items():
        at.query_params[name] = value
    return at.switch_page(f"pages/{page}.py").run()


def test_generate_draws_a_fresh_seed_unless_the_user_fixes_it(monkeypatch, tmp_path):
    db = str(tmp_path / "runs.sqlite")
    with app_page(monkeypatch, "generate", PLAYGROUND_DB=db) as at:
        assert not at.checkbox(key="generate_fix_seed").value
        assert not [n for n in at.number_input if n.key == "generate_seed"]
        at.multiselect(key="generate_models").set_value(["smollm2-135m"]).run()
        at.number_input(key="generate_max_tokens").set_value(2).run()
        at.button(key="generate_run").click().run()
        at.checkbox(key="generate_fix_seed").check().run()
        at.number_input(key="generate_seed").set_value(7).run()
        at.button(key="generate_run").click().run()
        assert not at.exception
        seeds = [json.loads(p)["seed"] for p in Store(db).runs().sort_values("ts")["params"]]
        assert seeds == [None, 7]


def test_a_model_named_twice_in_a_link_is_picked_once(monkeypatch):
    with app_page(monkeypatch, "home") as at:
        open_with(at, "generate", models="smollm2-135m,smollm2-135m")
        assert not at.exception
        assert at.multiselect(key="generate_models").value == ["smollm2-135m"]


def test_a_100_kb_prompt_in_a_link_is_cut_with_a_notice(monkeypatch):
    with app_page(monkeypatch, "home") as at:
        open_with(at, "generate", prompt="a" * 100_000)
        assert not at.exception
        assert len(at.text_area(key="generate_prompt").value) == 4000
        assert any("100,000 characters" in c.value for c in at.caption)


def _runnable(model_ids) -> bool:
    catalog = load_catalog()
    return all(availability(catalog, catalog.get(m), Credentials()).ready for m in model_ids)


def test_classify_starts_on_models_that_can_run_here(monkeypatch):
    for provider in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "QIANFAN_API_KEY"):
        monkeypatch.delenv(provider, raising=False)
    with app_page(monkeypatch, "classify") as at:
        chosen = at.multiselect(key="classify_models").value
        assert len(chosen) >= 2 and _runnable(chosen), chosen


@pytest.mark.parametrize("lesson", ["privacy", "community"])
def test_learns_try_it_opens_a_run_whose_models_can_run(monkeypatch, lesson):
    for provider in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "QIANFAN_API_KEY"):
        monkeypatch.delenv(provider, raising=False)
    with app_page(monkeypatch, "learn") as at:
        at.button(key=f"try_{lesson}").click().run()
        picker = next(m for m in at.multiselect if m.key and m.key.endswith("_models"))
        assert len(picker.value) >= 2 and _runnable(picker.value), picker.value


def test_home_says_where_to_start_and_links_the_workshop_pages(monkeypatch):
    with app_page(monkeypatch, "home") as at:
        links = [link.proto.page for link in at.get("page_link")]
        assert {"room", "arena", "leaderboard", "generate"} <= set(links), links
        assert "Where to start" in at.markdown[0].value


def test_the_runs_table_never_prints_none_and_names_its_time_zone(monkeypatch, tmp_path):
    from playground import GenParams, Playground, Request

    db = str(tmp_path / "runs.sqlite")
    request = Request("generate", prompt="Say hi.", params=GenParams(max_new_tokens=2))
    list(Playground(load_catalog(), Store(db)).run(["smollm2-135m"], request))
    with app_page(monkeypatch, "dashboard", PLAYGROUND_DB=db) as at:
        at.session_state["admin_signed_in"] = True  # the run above belongs to no visitor: only the admin sees it
        table = at.run().dataframe[-1].value
        assert "time (UTC)" in table.columns  # AppTest sends no browser time zone: said plainly
        text = table.select_dtypes(include=["object", "str"])
        assert not text.isna().any().any(), text
