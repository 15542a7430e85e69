"""A conversation in history: the dashboard's cost-over-turns chart, and the leaderboard's style control toggle,
both in AppTest over a store seeded through the engine's own recording path."""

from __future__ import annotations

import json

import pytest

from playground import CallMetrics, Credentials, Playground, Request, Result, RunContext, RunSettings, load_catalog
from playground.store import Store
from tests.apptest import app_page
from tests.test_chat_arena import _length_only_votes
from tests.test_dashboard_page import _decoded as values


def _settle(store: Store, model_id: str, context: RunContext, text: str, tokens_in: int, seconds: float) -> None:
    final = Result(
        model_id, text=text, metrics=CallMetrics(ttft_s=0.1, total_s=seconds, input_tokens=tokens_in, output_tokens=20)
    )
    Playground(load_catalog(), store).settle(
        final, Request("generate", prompt="q"), Credentials(), context, RunSettings(hourly_usd=3.6)
    )


def test_the_dashboard_draws_the_latest_conversations_cost_over_turns(monkeypatch, tmp_path):
    db = tmp_path / "runs.sqlite"
    store = Store(db)
    for turn in (1, 2, 3):
        context = RunContext("generate", session_id="s", conversation_id="c1", turn=turn)
        for model_id in ("smollm2-135m", "smollm2-135m-int4"):
            _settle(store, model_id, context, "an answer", tokens_in=40 * turn, seconds=0.5 * turn)
    expected = store.runs(conversation_id="c1").groupby("model_id")["cost_usd"].sum()
    store.close()
    with app_page(monkeypatch, "dashboard", PLAYGROUND_DB=str(db)) as at:
        at.session_state["admin_signed_in"] = True  # the runs belong to session "s": history is private
        at.run()
        assert not at.exception
        figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
        chart = next(f for f in figures if "cost over its turns" in f["layout"]["title"]["text"])
        assert [values(t["x"]) for t in chart["data"]] == [[1, 2, 3]] * 2
        climbs = [values(t["y"]) for t in chart["data"]]
        assert sorted(y[-1] for y in climbs) == pytest.approx(sorted(expected))  # what the stored turns cost
        assert all(y == sorted(y) and y[-1] > y[0] for y in climbs)  # each turn adds to it


def test_the_leaderboard_shows_both_fits_when_style_control_is_on(monkeypatch, tmp_path):
    db = tmp_path / "votes.sqlite"
    store = Store(db)
    votes, answers = _length_only_votes(n=90)
    ids = {"long": "smollm2-135m", "mid": "smollm2-135m-int4", "short": "gpt-4o-mini"}
    for vote in votes.itertuples(index=False):
        a, b = ids[vote.model_a], ids[vote.model_b]
        store.create_battle(vote.battle_id, "s", None, "generate", a, b, "Hi")
        for side, model_id in ((vote.model_a, a), (vote.model_b, b)):
            context = RunContext("arena", session_id="s", battle_id=vote.battle_id)
            _settle(store, model_id, context, answers[(vote.battle_id, side)], 10, 0.2)
        store.record_vote(vote.battle_id, "s", None, vote.choice, anonymous=True)
    store.close()
    with app_page(monkeypatch, "leaderboard", PLAYGROUND_DB=str(db)) as at:
        assert not at.exception
        at.toggle(key="leaderboard_style").set_value(True).run()
        assert not at.exception
        titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
        assert "Plain ratings" in titles and "Style-controlled ratings" in titles, titles
        ratings = {
            t: {y: x for d in json.loads(c.proto.spec)["data"] for y, x in zip(values(d["y"]), values(d["x"]))}
            for t, c in zip(titles, at.get("plotly_chart"))
            if "ratings" in t
        }
        plain, styled = ratings["Plain ratings"], ratings["Style-controlled ratings"]
        long_name, short_name = "SmolLM2-135M-Instruct", "GPT-4o mini"
        long_key = next(k for k in plain if k.startswith(long_name) and "int4" not in k)
        short_key = next(k for k in plain if k.startswith(short_name))
        assert abs(styled[long_key] - styled[short_key]) < plain[long_key] - plain[short_key]
        assert any("90 rated battles" in c.value for c in at.caption)
