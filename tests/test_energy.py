"""Energy per answer: EcoLogits for APIs equals the library's own answer; local runs without energy counters are
estimated from CPU time, scale with it, say so on the card, and land in history."""

from __future__ import annotations

import os
import time

import pytest
from ecologits.tracers.utils import llm_impacts
from streamlit.testing.v1 import AppTest

from playground import CallMetrics, Playground, Request, Result, RunContext, energy
from playground.access import ADMIN, STUDENT, Scope, ServerSettings
from playground.energy import (
    CODECARBON_WATTS_PER_THREAD,
    ZONE_SETTING,
    Ledger,
    Share,
    account,
    api_energy,
    from_cpu_time,
    grid_intensity,
    local_energy,
    rapl_joules,
)
from playground.errors import InputError
from playground.events import GenParams
from playground.store import Store
from tests.apptest import APP


@pytest.fixture
def no_counters(monkeypatch, tmp_path):
    """This machine has neither RAPL nor NVML; make sure of it on one that does."""
    monkeypatch.setattr(energy, "POWERCAP", tmp_path / "no-powercap")
    monkeypatch.setattr(energy, "nvml_joules", lambda: None)
    monkeypatch.delenv(energy.TDP_ENV, raising=False)


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'history.sqlite'}")


@pytest.mark.parametrize("zone", ["WOR", "FRA", "CHN"])
def test_ecologits_estimate_is_the_librarys_own(zone):
    ours = api_energy("openai:gpt-4o-mini", 200, 2.0, zone)
    theirs = llm_impacts(
        provider="openai",
        model_name="gpt-4o-mini",
        output_token_count=200,
        request_latency=2.0,
        electricity_mix_zone=zone,
    )
    assert ours.source == "ecologits" and ours.zone == zone
    assert ours.min_wh == pytest.approx(theirs.energy.value.min * 1000)
    assert ours.max_wh == pytest.approx(theirs.energy.value.max * 1000)
    assert ours.min_wh < ours.max_wh and "EcoLogits" in ours.label and "–" in ours.label
    gwp = (theirs.gwp.value.min + theirs.gwp.value.max) / 2 * 1000
    assert ours.gwp_g == pytest.approx(gwp)


def test_an_api_result_is_accounted_with_the_admins_zone(catalog, store, monkeypatch):
    monkeypatch.setenv(energy.ZONE_ENV, "CHN")  # the server's default ...
    assert energy.zone_of(store) == "CHN"
    settings = ServerSettings(store)
    with pytest.raises(InputError):
        settings.set(Scope("s", STUDENT), ZONE_SETTING, "FRA")  # a server-wide setting: the admin's alone
    with pytest.raises(InputError):
        settings.set(Scope("a", ADMIN), ZONE_SETTING, "France")  # not a zone code
    settings.set(Scope("a", ADMIN), ZONE_SETTING, "fra")  # ... until an admin chooses
    final = Result("gpt-4o", text="…", metrics=CallMetrics(ttft_s=0.5, total_s=3.5, queue_s=0.5, output_tokens=120))
    estimate = account(catalog.get("gpt-4o"), final, None, store)
    theirs = llm_impacts("openai", "gpt-4o", 120, 3.0, "FRA")  # the wait in line is not the model's time
    assert estimate.zone == "FRA" and estimate.max_wh == pytest.approx(theirs.energy.value.max * 1000)
    # a model EcoLogits does not know, or no output count: no figure rather than a guess
    assert account(catalog.get("claude-haiku"), final, None, store) is None
    assert account(catalog.get("gpt-4o"), Result("gpt-4o", metrics=CallMetrics(total_s=1.0)), None, store) is None


def test_cpu_time_estimate_is_codecarbons_method_and_scales(no_counters, monkeypatch):
    one = from_cpu_time(1.0)
    assert one.source == "cpu-time" and "estimated from CPU time" in one.label and "CodeCarbon" in one.detail
    assert one.wh == pytest.approx(CODECARBON_WATTS_PER_THREAD / 3600)
    assert from_cpu_time(3.0).wh == pytest.approx(3 * one.wh)
    assert one.gwp_g == pytest.approx(one.wh * grid_intensity("WOR"))  # Wh × kg/kWh = g
    monkeypatch.setenv(energy.TDP_ENV, "65")  # an admin who knows the CPU's TDP: 65 W over os.cpu_count() threads
    assert from_cpu_time(1.0).wh == pytest.approx(65 / (os.cpu_count() or 1) / 3600)


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_ledger_splits_overlapping_calls(no_counters):
    ledger = Ledger()
    a, b = ledger.open(), ledger.open()
    burn(0.3)
    share_a, share_b = ledger.close(a), ledger.close(b)
    c = ledger.open()
    burn(0.3)
    share_c = ledger.close(c)
    assert share_a.rapl_j is None and share_a.nvml_j is None  # no counters here: estimated, never "measured"
    assert share_a.cpu_s == pytest.approx(share_b.cpu_s, rel=0.1)
    assert share_c.cpu_s == pytest.approx(share_a.cpu_s + share_b.cpu_s, rel=0.2)
    assert local_energy(share_c).source == "cpu-time"


def test_rapl_counters_are_read_as_the_kernel_lays_them_out(tmp_path):
    """This machine has no /sys/class/powercap: the files are written here in the kernel's layout (package zones
    intel-rapl:N, sub-zones intel-rapl:N:M counted inside them) to check the reading, not the hardware."""
    for zone, microjoules in (("intel-rapl:0", 5_000_000), ("intel-rapl:0:0", 4_000_000), ("intel-rapl:1", 2_500_000)):
        (tmp_path / zone).mkdir()
        (tmp_path / zone / "energy_uj").write_text(f"{microjoules}\n")
    assert rapl_joules(tmp_path) == pytest.approx(7.5)
    assert rapl_joules(tmp_path / "absent") is None
    measured = local_energy(Share(cpu_s=1.0, rapl_j=36.0))
    assert measured.source == "rapl" and measured.wh == pytest.approx(0.01) and "measured" in measured.label


@pytest.mark.slow
def test_a_local_generation_is_estimated_from_its_cpu_time_and_recorded(catalog, store, no_counters):
    playground = Playground(catalog, store)
    warm = Request("generate", prompt="Hello", params=GenParams(max_new_tokens=4, temperature=0.0))
    playground.run_one("smollm2-135m-int4", warm)  # the model load is not part of the comparison
    results, cpu_s = {}, {}
    for n in (16, 256):
        params = GenParams(temperature=0.0, max_new_tokens=n, ignore_eos=True)
        started = time.process_time()
        results[n] = playground.run_one(
            "smollm2-135m-int4",
            Request("generate", prompt="Tell me about open models.", params=params),
            context=RunContext("generate"),
        )
        cpu_s[n] = time.process_time() - started
    short, long = results[16].energy, results[256].energy
    assert short.source == long.source == "cpu-time"
    assert long.wh > 2 * short.wh  # 16 times the tokens: far more CPU time, far more energy
    for n, result in results.items():  # one call alone: its share is the process's CPU time during it
        assert result.energy.wh == pytest.approx(CODECARBON_WATTS_PER_THREAD * cpu_s[n] / 3600, rel=0.15)
    rows = store.runs().tail(2)
    assert list(rows["energy_source"]) == ["cpu-time", "cpu-time"]
    assert list(rows["energy_wh"]) == pytest.approx([short.wh, long.wh])
    assert list(rows["energy_zone"]) == ["WOR", "WOR"] and rows["gwp_g"].notna().all()


@pytest.mark.slow
def test_a_local_card_says_estimated(monkeypatch, no_counters):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=180).run()
    at = at.switch_page("pages/generate.py").run()
    at.multiselect(key="generate_models").set_value(["smollm2-135m-int4"]).run()
    at.text_area(key="generate_prompt").input("What is a token?").run()
    at.button(key="generate_run").click().run()
    assert not at.exception
    lines = [c.value for c in at.caption if c.value.startswith("Energy:")]
    assert len(lines) == 1 and "estimated from CPU time" in lines[0] and "mWh" in lines[0], lines
