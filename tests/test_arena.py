"""The blind arena's rules and statistics: pairs, vote integrity, the non-anonymous rule, Bradley-Terry."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from playground import arena
from playground.arena import Battle
from playground.errors import InputError

TRUTH = {"m0": 1150.0, "m1": 1050.0, "m2": 950.0, "m3": 850.0}  # Elo scale, centred on 1000


def simulate(seed: int, n: int = 300, tie_rate: float = 0.1) -> pd.DataFrame:
    """Votes drawn from the Bradley-Terry model with the TRUTH strengths; some ties, split evenly."""
    rng = np.random.default_rng(seed)
    models = list(TRUTH)
    rows = []
    for _ in range(n):
        a, b = rng.choice(models, 2, replace=False)
        if rng.random() < tie_rate:
            rows.append((a, b, "tie"))
            continue
        p_a = 1 / (1 + 10 ** ((TRUTH[b] - TRUTH[a]) / 400))
        rows.append((a, b, "a" if rng.random() < p_a else "b"))
    return pd.DataFrame(rows, columns=["model_a", "model_b", "choice"])


def test_bradley_terry_recovers_known_strengths_and_its_intervals_cover_them():
    covered = total = ordered = 0
    for seed in range(50):
        table = arena.bradley_terry(simulate(seed), rounds=100, seed=seed).set_index("model_id")
        ordered += list(table.index) == list(TRUTH)
        for model, truth in TRUTH.items():
            total += 1
            covered += table.loc[model, "lower"] <= truth <= table.loc[model, "upper"]
    assert ordered >= 45, f"order recovered in only {ordered}/50 seeds"
    assert covered / total >= 0.88, f"95% intervals covered the truth {covered}/{total} times"


def test_ratings_count_battles_and_narrow_with_more_votes():
    few = arena.bradley_terry(simulate(1, n=30), rounds=100).set_index("model_id")
    many = arena.bradley_terry(simulate(1, n=600), rounds=100).set_index("model_id")
    assert few["battles"].sum() == 60 and many["battles"].sum() == 1200  # two sides per battle
    assert (few["wins"] + few["ties"] + few["losses"] == few["battles"]).all()
    assert (few["upper"] - few["lower"]).mean() > 2 * (many["upper"] - many["lower"]).mean()


def test_one_sided_votes_still_fit_and_empty_votes_give_an_empty_table():
    votes = pd.DataFrame([("x", "y", "a")] * 5, columns=["model_a", "model_b", "choice"])
    table = arena.bradley_terry(votes, rounds=100).set_index("model_id")
    assert table.loc["x", "rating"] > table.loc["y", "rating"]
    assert arena.bradley_terry(votes.iloc[:0]).empty


def test_win_rate_matrix_counts_ties_as_half():
    votes = pd.DataFrame(
        [("x", "y", "a"), ("y", "x", "a"), ("x", "y", "tie"), ("x", "z", "both_bad")],
        columns=["model_a", "model_b", "choice"],
    )
    rates, played = arena.win_rates(votes)
    assert rates.loc["x", "y"] == pytest.approx(0.5) and rates.loc["y", "x"] == pytest.approx(0.5)
    assert rates.loc["x", "z"] == pytest.approx(0.5) and played.loc["x", "y"] == 3
    assert np.isnan(rates.loc["y", "z"]) and played.loc["y", "z"] == 0


def test_open_vs_closed_win_rate_has_an_interval():
    openness = {"o": "open", "c": "closed", "o2": "open"}
    votes = pd.DataFrame(
        [("o", "c", "a")] * 6 + [("c", "o", "a")] * 2 + [("o", "c", "tie")] * 2 + [("o", "o2", "a")] * 5,
        columns=["model_a", "model_b", "choice"],
    )
    share = arena.open_vs_closed(votes, openness)
    assert share.battles == 10 and share.rate == pytest.approx(0.7)
    assert share.lower < 0.7 < share.upper
    assert arena.open_vs_closed(votes[votes["model_b"] == "o2"], openness) is None


# ---------------------------------------------------------------- pairs


def test_pairs_favour_open_against_closed(catalog):
    specs = [catalog.get(m) for m in ("smollm2-135m", "qwen2.5-0.5b", "gpt-4o-mini", "claude-haiku")]
    rng = random.Random(3)
    pairs = [arena.draw_pair(specs, rng) for _ in range(200)]
    kinds = [{catalog.get(a).openness, catalog.get(b).openness} for a, b in pairs]
    assert all(k == {"open", "closed"} for k in kinds)
    assert 60 < sum(catalog.get(a).openness == "open" for a, _ in pairs) < 140  # sides swapped at random


def test_offline_any_two_local_models_meet(catalog):
    specs = [catalog.get("smollm2-135m"), replace(catalog.get("smollm2-135m"), id="smollm2-twin")]
    a, b = arena.draw_pair(specs, random.Random(0))
    assert {a, b} == {"smollm2-135m", "smollm2-twin"}
    with pytest.raises(InputError):
        arena.draw_pair(specs[:1] * 2)
    battle = arena.new_battle("generate", specs)
    assert len(battle.id) >= 16 and battle.model_a != battle.model_b


# ---------------------------------------------------------------- votes


def test_vote_rules():
    assert arena.vote_refusal("s1", "s1", "a", votes_cast=0) is None
    assert arena.vote_refusal("s1", "s2", "a", votes_cast=0) == "not_shown"  # a battle shown to someone else
    assert arena.vote_refusal(None, "s1", "a", votes_cast=0) == "not_shown"  # no such battle
    assert arena.vote_refusal("s1", "s1", "maybe", votes_cast=0) == "unknown_choice"
    assert arena.vote_refusal("s1", "s1", "tie", votes_cast=arena.VOTE_CAP) == "cap"


# ---------------------------------------------------------------- anonymity


def test_an_answer_naming_its_own_model_or_vendor_is_not_anonymous(catalog):
    battle = Battle("b1", "generate", "gpt-4o-mini", "smollm2-135m")
    assert arena.is_anonymous(catalog, battle, "Paris is the capital.", "It is Paris.")
    assert not arena.is_anonymous(catalog, battle, "As a model trained by OpenAI, I think Paris.", "Paris.")
    assert not arena.is_anonymous(catalog, battle, "Paris.", "I am SmolLM, a small model.")
    assert not arena.is_anonymous(catalog, battle, "I'm GPT-4o mini.", "Paris.")
    # naming any assistant or vendor tells the voter something (SmolLM says "I'm ChatGPT"): Arena drops those too
    assert not arena.is_anonymous(catalog, battle, "Paris.", "Unlike OpenAI models, I run locally.")
    assert arena.is_anonymous(catalog, battle, "Paris.", "I run locally, on this machine.")
    # a local machine is no vendor: "local" in an answer names nothing
    assert "Local" not in arena.identity_words(catalog, catalog.get("smollm2-135m"))
    assert "Claude" in arena.identity_words(catalog, catalog.get("claude-haiku"))


def test_rated_votes_leave_out_non_anonymous_ones():
    votes = pd.DataFrame(
        {"model_a": ["x", "x"], "model_b": ["y", "y"], "choice": ["a", "b"], "anonymous": [True, False]}
    )
    assert list(arena.rated_votes(votes)["choice"]) == ["a"]


def test_a_battle_with_a_local_side_is_revealed_together():
    """Speed would name the model: int4 finishes about five times sooner than fp32 on a CPU."""
    from playground import load_catalog

    catalog = load_catalog()
    assert arena.reveal_together(catalog, Battle("x", "generate", "smollm2-135m", "smollm2-135m-int4"))
    assert arena.reveal_together(catalog, Battle("x", "generate", "gpt-4o-mini", "smollm2-135m"))
    assert not arena.reveal_together(catalog, Battle("x", "generate", "gpt-4o-mini", "claude-haiku"))
