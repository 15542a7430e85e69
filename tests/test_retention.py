"""History's growth is bounded: each text field is clipped with a marker, and the oldest runs beyond a count go."""

from __future__ import annotations

from playground.catalog import load_catalog
from playground.events import GenParams, Request, Result
from playground.metrics import CallMetrics
from playground.retention import MAX_RUNS_SETTING, Retention
from playground.store import Store


def test_clip_keeps_short_text_and_marks_a_cut():
    retention = Retention(max_chars=100)
    assert retention.clip("short") == "short" and retention.clip(None) is None
    clipped = retention.clip("x" * 1000)
    assert len(clipped) <= 100 and clipped.startswith("x" * 50)
    assert clipped.endswith(f"{1000 - clipped.count('x')} more characters not stored]")


def test_settings(monkeypatch):
    monkeypatch.setenv(MAX_RUNS_SETTING, "7")
    assert Retention.from_env().max_runs == 7
    monkeypatch.setenv(MAX_RUNS_SETTING, "-1")  # nonsense falls back to the default, never to "keep nothing"
    assert Retention.from_env().max_runs == Retention().max_runs


def test_a_real_history_stays_bounded(tmp_path):
    """30 runs with 100k-character prompts and answers into a history bounded to 10 runs of 20k characters."""
    spec = load_catalog().get("smollm2-135m")
    history = Store(tmp_path / "runs.sqlite", Retention(max_chars=20_000, max_runs=10))
    try:
        for index in range(30):
            request = Request("generate", prompt=f"{index} " + "p" * 100_000, params=GenParams())
            history.record("generate", spec, request, Result(spec.id, "a" * 100_000, CallMetrics(1, 2)), None)
        runs = history.runs()
    finally:
        history.close()
    assert len(runs) == 10 and runs["input"].iloc[0].startswith("20 ")  # the newest ten
    assert runs["input"].str.len().max() <= 20_000 and runs["output"].str.len().max() <= 20_000
    assert runs["output"].str.contains("more characters not stored", regex=False).all()
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("runs.sqlite*"))
    assert on_disk < 10 * 1024 * 1024, f"{on_disk / 1e6:.1f} MB"
