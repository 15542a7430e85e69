"""Multi-turn blind battles: follow-ups before the vote, blind in every turn, and the vote records the turns."""

from __future__ import annotations

import pytest

from playground.store import Store
from tests.apptest import app_page
from tests.test_classroom_pages import LOCAL_GENERATORS, NAMES, texts, twin_catalog  # noqa: F401 (a fixture)


@pytest.mark.slow
def test_a_three_turn_battle_stays_blind_until_the_vote(monkeypatch, twin_catalog, tmp_path):  # noqa: F811
    db = str(tmp_path / "arena.sqlite")
    with app_page(monkeypatch, "arena", twin_catalog, PLAYGROUND_DB=db) as at:
        at.text_area(key="arena_prompt").input("Name one colour.").run()
        at.slider(key="arena_max_tokens").set_value(8).run()
        at.button[0].click().run()  # New battle
        for follow_up in ("Why that one?", "Name another."):
            at.chat_input(key="arena_follow_up").set_value(follow_up).run()
            assert not at.exception, at.exception
            page = texts(at)
            assert follow_up in page and not [n for n in NAMES if n in page], page
        assert [m.value for m in at.markdown if m.value.startswith("**You:**")] == [
            "**You:** Why that one?",
            "**You:** Name another.",
        ]
        at.button(key="vote_a").click().run()
        votes = Store(db).votes()
        assert list(votes["turns"]) == [3]
        pair = {votes["model_a"][0], votes["model_b"][0]}
        assert all(LOCAL_GENERATORS[m] in texts(at) for m in pair)  # revealed after the vote
        runs = Store(db).runs()
        assert sorted(runs["turn"]) == [1, 1, 2, 2, 3, 3] and set(runs["conversation_id"]) == set(votes["battle_id"])
        for model_id in pair:
            mine = runs[runs["model_id"] == model_id].sort_values("turn")
            assert (
                list(mine["tokens_in"]) == sorted(mine["tokens_in"])
                and mine["tokens_in"].iloc[2] > mine["tokens_in"].iloc[0] + 10
            )


def _length_only_votes(n: int = 600, seed: int = 1):
    """Three models of equal substance; "long" writes longer answers and voters reward length alone."""
    import math

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    mean_length = {"long": 900, "mid": 550, "short": 300}
    votes, answers = [], {}
    for i in range(n):
        a, b = rng.choice(list(mean_length), 2, replace=False)
        la, lb = (int(max(30, rng.normal(mean_length[m], 250))) for m in (a, b))
        answers[(f"b{i}", a)], answers[(f"b{i}", b)] = "x" * la, "y" * lb
        a_wins = rng.random() < 1 / (1 + math.exp(-5 * (la - lb) / (la + lb)))
        votes.append({"battle_id": f"b{i}", "model_a": a, "model_b": b, "choice": "a" if a_wins else "b"})
    return pd.DataFrame(votes), answers


def test_style_control_takes_away_what_length_alone_won():
    from playground import arena

    votes, answers = _length_only_votes()
    plain = arena.bradley_terry(votes, rounds=60).set_index("model_id")
    styled, coefficients = arena.bradley_terry_style(arena.with_style(votes, answers), rounds=60)
    styled = styled.set_index("model_id")
    plain_gap = plain.loc["long", "rating"] - plain.loc["short", "rating"]
    styled_gap = styled.loc["long", "rating"] - styled.loc["short", "rating"]
    assert plain_gap > 100 and plain.loc["long", "lower"] > plain.loc["short", "upper"]  # length looks like quality
    assert abs(styled_gap) < plain_gap / 4, (plain_gap, styled_gap)  # ...until it is a covariate
    assert styled.loc["long", "lower"] < styled.loc["short", "upper"]  # the intervals now overlap
    assert coefficients["length"] > 50 and abs(coefficients["bold"]) < 1e-6  # no Markdown in these answers


@pytest.fixture(scope="module")
def local_app_url(tmp_path_factory):
    """The app with its bundled local models only: the arena draws SmolLM2 fp32 against its int4 build."""
    from tests.browser import streamlit_app

    with streamlit_app(tmp_path_factory.mktemp("arena_app")) as url:
        yield url


@pytest.mark.slow
def test_browser_every_turn_of_a_battle_keeps_the_names_out_of_the_html(page, local_app_url):
    from playwright.sync_api import expect

    from tests.browser import open_page, wait_idle

    open_page(page, f"{local_app_url}/arena")
    page.get_by_label("Prompt", exact=True).fill("Name one colour.")
    page.get_by_role("button", name="New battle").click()
    page.get_by_role("button", name="A is better").wait_for(timeout=240_000)
    for turn, follow_up in enumerate(("Why that one?", "Name another."), 2):
        wait_idle(page)
        box = page.locator("[data-testid=stChatInputTextArea]")
        box.fill(follow_up)
        box.press("Enter")
        expect(page.get_by_text(follow_up)).to_have_count(1, timeout=60_000)
        page.get_by_role("button", name="A is better").wait_for(timeout=240_000)
        wait_idle(page)
        html = page.content()
        assert not [name for name in NAMES if name in html], f"a model name reached the page in turn {turn}"
    page.get_by_role("button", name="A is better").click()
    page.get_by_text("Vote counted").wait_for()
    assert "SmolLM2" in page.content()  # revealed after the vote
