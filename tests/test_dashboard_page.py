"""The Latency & cost page over real runs: runs made on Generate are priced, recorded and charted."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from streamlit.testing.v1 import AppTest

from playground.hardware import RATES
from playground.pricing import SelfHosted, api_cost, break_even
from playground.store import Store, measured_speeds, to_csv, to_json
from tests.browser import open_page, wait_idle

APP = str(Path(__file__).resolve().parents[1] / "app.py")
OPENAI_KEY = "sk-FAKE-dashboard-3f9a0c7e1b"
SELF_HOSTED_KEY = "shk-FAKE-dashboard-8d2b6e4a"

CPU_4 = RATES["cpu-4"].usd_per_hour  # the "cloud CPU (4 vCPU)" preset the tests pick


def charts(at: AppTest) -> dict[str, dict]:
    """Every plotly chart on the page, by its title."""
    figures = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in figures}


def _decoded(value):
    """Plotly writes numeric arrays as {"dtype", "bdata"} (base64); give them back as lists."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def traces(figure: dict) -> dict[str, dict]:
    return {t["name"]: {k: _decoded(v) for k, v in t.items()} for t in figure["data"]}


@pytest.fixture(scope="module")
def app_with_runs(tmp_path_factory, serve_endpoint):
    """Two runs of SmolLM2 and the self-hosted server on Generate, with keys in the session and one keyed API
    model that cannot be reached (no network here), all through the real pages; then the dashboard."""
    db = tmp_path_factory.mktemp("dashboard") / "history.sqlite"
    patch = pytest.MonkeyPatch()
    patch.setenv("PLAYGROUND_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["api_keys"] = {"openai": OPENAI_KEY, "self-hosted": SELF_HOSTED_KEY}
    at.session_state["self_hosted_url"] = serve_endpoint.base_url
    at.session_state["self_hosted_model"] = serve_endpoint.model
    at.run()
    at.selectbox(key="hardware_preset").set_value("cloud CPU (4 vCPU)").run()
    at.switch_page("pages/generate.py").run()
    at.multiselect(key="generate_models").set_value(["smollm2-135m", "self-hosted", "gpt-4o-mini"]).run()
    at.text_area(key="generate_prompt").input(f"Name a colour. (my key is {OPENAI_KEY})").run()
    next(n for n in at.number_input if n.label == "Max new tokens").set_value(8).run()
    cost_lines = []
    for _ in range(2):
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception
        cost_lines.append([c.value for c in at.caption if c.value.startswith("Cost ")])
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception
    yield at, db, cost_lines
    patch.undo()


def test_each_answer_shows_its_cost_and_source(app_with_runs):
    _, _, cost_lines = app_with_runs
    for lines in cost_lines:
        assert len(lines) == 2, lines  # the unreachable API model failed: no answer, no cost line
        local = next(line for line in lines if "hardware" in line)
        assert local.startswith("Cost $") and f"$0 API + hardware ${CPU_4}/h" in local
        assert any(line.startswith("Cost unpriced") for line in lines), "the self-hosted endpoint has no price_ref"


def test_every_run_is_recorded_with_its_metrics(app_with_runs):
    _, db, _ = app_with_runs
    runs = Store(db).runs()
    assert sorted(runs["model_id"]) == sorted(["smollm2-135m", "self-hosted", "gpt-4o-mini"] * 2)
    assert set(runs["page"]) == {"generate"}
    smol = runs[runs["model_id"] == "smollm2-135m"]
    assert (smol["cost_usd"] > 0).all() and (smol["tokens_out"] > 0).all()
    assert smol["cost_usd"].tolist() == pytest.approx(list(CPU_4 * (smol["total_s"] - smol["queue_s"]) / 3600))
    failed = runs[runs["model_id"] == "gpt-4o-mini"]
    assert failed["error"].str.contains("Cannot reach").all() and failed["cost_usd"].isna().all()


def test_no_key_in_the_database_or_the_exports(app_with_runs, tmp_path):
    _, db, _ = app_with_runs
    runs = Store(db).runs()
    assert runs["input"].str.contains("[redacted]", regex=False).all()
    (tmp_path / "runs.csv").write_text(to_csv(runs))
    (tmp_path / "runs.json").write_text(to_json(runs))
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)] + list(tmp_path.iterdir())
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        data = path.read_bytes()
        for key in (OPENAI_KEY, SELF_HOSTED_KEY):
            assert key.encode() not in data and key[-10:].encode() not in data, path.name


def test_dashboard_charts_have_the_expected_series(app_with_runs):
    at, db, _ = app_with_runs
    figures = charts(at)
    assert set(figures) >= {
        "Latency per call",
        "Output tokens per second",
        "Cost per call",
        "Cumulative cost",
        "Monthly cost against volume",
    }
    smol, served = "SmolLM2-135M-Instruct · open", "Self-hosted endpoint · open"
    latency = traces(figures["Latency per call"])
    warm = [name for name in latency if name.endswith("warm")]
    assert sorted(warm) == ["TTFT, warm", "total, warm"]
    assert set(latency["total, warm"]["x"]) == {smol, served}, "both models' warm calls, the failed API call left out"
    runs = Store(db).runs()
    done = runs[runs["error"].isna()]
    all_points = sorted(y for name, t in latency.items() if name.startswith("total") for y in t["y"])
    assert all_points == pytest.approx(sorted(done["total_s"]))
    speed = traces(figures["Output tokens per second"])["tokens/s"]
    assert set(speed["x"]) == {smol, served}
    cost = traces(figures["Cost per call"])["cost per call"]
    assert set(cost["x"]) == {smol}, "only SmolLM2 is priced (hardware); the self-hosted endpoint is unpriced"
    cumulative = traces(figures["Cumulative cost"])
    assert set(cumulative) == {smol, "all models"}
    assert cumulative["all models"]["y"][-1] == pytest.approx(done["cost_usd"].sum())


@pytest.mark.parametrize(("input_tokens", "output_tokens"), [(500, 200), (20000, 50)])
def test_projection_marks_break_even_from_measured_speed(app_with_runs, catalog, input_tokens, output_tokens):
    """Long prompts make an API call dear while (as modelled) barely slowing a machine: there, at least one
    break-even must show; in every case the marks are where pricing.break_even puts them for the measured speed."""
    at, db, _ = app_with_runs
    at.number_input(key="proj_in").set_value(input_tokens).run()
    at.number_input(key="proj_out").set_value(output_tokens).run()
    at.multiselect(key="proj_api").set_value(["gpt-4o-mini", "gpt-4o"]).run()
    figure = charts(at)["Monthly cost against volume"]
    series = traces(figure)
    assert {
        "GPT-4o mini (API)",
        "GPT-4o (API)",
        "SmolLM2-135M-Instruct (self-hosted)",
        "Self-hosted endpoint (self-hosted)",
    } <= set(series)
    assert series["SmolLM2-135M-Instruct (self-hosted)"]["line"]["shape"] == "hv"
    speeds = measured_speeds(Store(db).runs()).set_index("model_name")
    expected = {}
    for hosted in ("SmolLM2-135M-Instruct", "Self-hosted endpoint"):
        box = SelfHosted(CPU_4, speeds.loc[hosted, "ttft_s"], speeds.loc[hosted, "tokens_per_s"])
        for api in ("gpt-4o-mini", "gpt-4o"):
            spec = catalog.get(api)
            per_request = api_cost(spec, catalog.provider_of(spec), input_tokens, output_tokens).usd
            expected[(hosted, spec.name)] = break_even(per_request, box, output_tokens)
    marked = series.get("break-even", {"x": [], "text": []})
    drawn = dict(zip(marked["text"], marked["x"]))
    assert set(drawn) == {f"{hosted} vs {api}" for (hosted, api), volume in expected.items() if volume is not None}
    for (hosted, api), volume in expected.items():
        if volume is not None:
            assert drawn[f"{hosted} vs {api}"] == pytest.approx(volume, rel=1e-6)
    if input_tokens == 20000:
        assert drawn, "a 20k-token prompt on GPT-4o costs far more than a short generation's machine time"
    assert any("leaves out" in m.value and "utilisation" in m.value for m in at.markdown)
    assert at.dataframe, "the break-even table and the runs table"


def test_filters_narrow_the_charts(app_with_runs):
    at, _, _ = app_with_runs
    at.multiselect(key="dash_models").set_value(["self-hosted"]).run()
    latency = traces(charts(at)["Latency per call"])
    assert {x for t in latency.values() for x in t["x"]} == {"Self-hosted endpoint · open"}
    assert "Cost per call" in charts(at) and not traces(charts(at)["Cost per call"])["cost per call"].get("x")
    at.multiselect(key="dash_models").set_value([]).run()
    at.multiselect(key="dash_pages").set_value(["generate"]).run()
    assert set(traces(charts(at)["Output tokens per second"])["tokens/s"]["x"]) == {
        "SmolLM2-135M-Instruct · open",
        "Self-hosted endpoint · open",
    }


def test_empty_history_explains_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DB", str(tmp_path / "empty.sqlite"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception
    assert "No finished runs" in at.info[0].value
    assert "Monthly cost against volume" in charts(at), "API lines need no measurements"


def _run_and_wait(page) -> None:
    page.get_by_role("button", name="Run", exact=True).click()
    # the run may start and end between two polls; either way, wait until the page is idle again
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_selector('[data-testid="stStatusWidget"]', timeout=10_000)
    wait_idle(page)


def _choose(page, label: str, option_name: str) -> None:
    """Pick a selectbox option; a rerun landing mid-click can close the list, so open it again if it vanished."""
    option = page.get_by_role("option", name=option_name)
    for _ in range(3):
        wait_idle(page)
        page.get_by_label(label).click()
        try:
            option.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    wait_idle(page)
    assert page.get_by_label(label).input_value() == option_name


def test_browser_screenshot_of_the_dashboard(page, app_url, artifacts):
    """Three short runs on Generate with the cloud-CPU rate, then the dashboard, saved for the README."""
    open_page(page, f"{app_url}/generate?models=smollm2-135m,self-hosted")
    page.get_by_text("Cost & history settings").click()
    _choose(page, "Hardware for local models", f"cloud CPU (4 vCPU): ~${CPU_4}/h")
    page.get_by_label("Prompt", exact=True).fill("Name three colours.")
    max_tokens = page.get_by_label("Max new tokens", exact=True)
    max_tokens.fill("12")
    max_tokens.press("Tab")
    wait_idle(page)
    for _ in range(3):
        _run_and_wait(page)
    assert page.get_by_text("Cost $").count() == 1 and page.get_by_text("Cost unpriced").count() == 1
    page.set_viewport_size({"width": 1400, "height": 2900})  # Streamlit scrolls inside its own container
    # through the app's own navigation: a new URL would be a new session, and history shows a session its own runs
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Latency & cost").click()
    wait_idle(page)
    page.get_by_text("Monthly cost against volume").first.wait_for()
    volume_in = page.get_by_label("Average input tokens")
    volume_in.fill("8000")  # a question over a few pages of documents
    volume_in.press("Enter")
    wait_idle(page)
    page.wait_for_selector('[data-testid="stDataFrame"] canvas')
    page.wait_for_timeout(2000)  # the tables paint their canvas after the script ends
    # six for time and money, the conversation's cost over its turns (Generate is a chat now), two for energy
    assert page.locator(".js-plotly-plot").count() == 9
    assert page.get_by_text("Energy per 1,000 output tokens").count() == 1
    assert page.get_by_text("It leaves out operations work", exact=False).count() == 1
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
