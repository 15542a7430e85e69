"""Costs: API prices straight from genai-prices, the unpriced path, local hardware time, and break-even."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from genai_prices import Usage, calc_price

from playground.events import GenParams, Request, Result
from playground.hardware import RATES
from playground.metrics import CallMetrics
from playground.pricing import (
    SelfHosted,
    api_cost,
    api_line,
    api_monthly_usd,
    api_request_prices,
    break_even,
    break_evens,
    cost_of,
    hosted_staircase,
    local_cost,
)
from playground.runner import final_of

NOON = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
NIGHT = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)  # DeepSeek's off-peak hours


@pytest.mark.parametrize("model_id", ["gpt-4o-mini", "gpt-4o", "claude-haiku", "gemini-flash", "deepseek-chat"])
@pytest.mark.parametrize("when", [NOON, NIGHT])
def test_api_cost_equals_genai_prices(catalog, model_id, when):
    spec = catalog.get(model_id)
    provider = catalog.provider_of(spec)
    cost = cost_of(
        spec, provider, CallMetrics(1.0, 2.0, input_tokens=1200, output_tokens=345), cached_tokens=200, when=when
    )
    direct = calc_price(
        Usage(input_tokens=1200, output_tokens=345, cache_read_tokens=200),
        model_ref=spec.price_ref,
        provider_id=provider.price_provider,
        genai_request_timestamp=when,
    )
    assert cost.usd == pytest.approx(float(direct.total_price), rel=1e-12) and cost.usd > 0
    assert cost.api_usd == cost.usd and cost.hardware_usd == 0
    assert "genai-prices" in cost.source and direct.provider.name in cost.source
    assert cost.label.startswith("$")


def test_cached_tokens_are_cheaper_as_the_library_expects(catalog):
    spec = catalog.get("gpt-4o")
    provider = catalog.provider_of(spec)
    fresh = api_cost(spec, provider, 1000, 100)
    cached = api_cost(spec, provider, 1000, 100, cached_tokens=800)
    assert cached.usd < fresh.usd


def test_deepseek_price_depends_on_the_time_of_the_call(catalog):
    spec = catalog.get("deepseek-chat")
    provider = catalog.provider_of(spec)
    assert api_cost(spec, provider, 1000, 1000, when=NOON).usd != api_cost(spec, provider, 1000, 1000, when=NIGHT).usd


def test_unpriced_is_never_zero(catalog):
    metrics = CallMetrics(0.5, 1.0, input_tokens=100, output_tokens=50)
    no_ref = catalog.get("ernie-4.5-turbo")
    cost = cost_of(no_ref, catalog.provider_of(no_ref), metrics)
    assert cost.usd is None and cost.label == "unpriced" and "no price_ref" in cost.source

    hosted = catalog.get("self-hosted")
    assert cost_of(hosted, catalog.provider_of(hosted), metrics).label == "unpriced"

    unknown = dataclasses.replace(catalog.get("gpt-4o"), price_ref="gpt-nonexistent-7")
    cost = cost_of(unknown, catalog.provider_of(unknown), metrics)
    assert cost.usd is None and "does not know 'gpt-nonexistent-7'" in cost.source

    spec = catalog.get("gpt-4o")
    no_usage = cost_of(spec, catalog.provider_of(spec), CallMetrics(0.5, 1.0))
    assert no_usage.usd is None and "no token usage" in no_usage.source


def test_no_call_no_cost(catalog):
    spec = catalog.get("gpt-4o")
    assert cost_of(spec, catalog.provider_of(spec), None) is None


def test_local_hardware_cost_arithmetic(catalog):
    spec = catalog.get("smollm2-135m")
    provider = catalog.provider_of(spec)
    warm = cost_of(spec, provider, CallMetrics(0.2, 1.8, input_tokens=30, output_tokens=20), hourly_usd=3.6)
    assert warm.usd == pytest.approx(3.6 * 1.8 / 3600) and warm.api_usd == 0 and warm.hardware_usd == warm.usd
    cold = local_cost(CallMetrics(1.4, 3.0, load_s=1.2, cold=True), hourly_usd=3.6)  # load is inside TTFT and total
    assert cold.usd == pytest.approx(3.6 * 3.0 / 3600), "a cold call pays for its load time too"
    queued = local_cost(CallMetrics(2.2, 3.8, queue_s=2.0), hourly_usd=3.6)
    assert queued.usd == pytest.approx(3.6 * 1.8 / 3600), "time in line is not machine time of this call"
    free = local_cost(CallMetrics(0.2, 1.8), RATES["laptop"].usd_per_hour)
    assert free.usd == 0 and free.label == "$0"
    assert "$0 API" in warm.source and "3.6/h" in warm.source


def test_local_cost_of_a_real_call(catalog):
    final = final_of(
        catalog, "smollm2-135m", Request("generate", prompt="Hi", params=GenParams(temperature=0, max_new_tokens=4))
    )
    assert isinstance(final, Result), final
    spec = catalog.get("smollm2-135m")
    rate = RATES["gpu-large"].usd_per_hour
    cost = cost_of(spec, catalog.provider_of(spec), final.metrics, hourly_usd=rate)
    assert cost.usd == pytest.approx(rate * (final.metrics.total_s - final.metrics.queue_s) / 3600) and cost.usd > 0


def test_self_hosted_capacity_comes_from_measured_speed():
    box = SelfHosted(hourly_usd=1.0, ttft_s=0.5, tokens_per_s=10.0)
    assert box.seconds_per_request(101) == pytest.approx(10.5)
    assert box.capacity_per_day(101) == pytest.approx(86400 / 10.5)
    full = box.capacity_per_day(101)
    assert box.machines(full, 101) == 1 and box.machines(full * 1.01, 101) == 2
    assert box.monthly_usd(10, 101) == pytest.approx(730.0)
    assert box.monthly_usd(full * 2.5, 101) == pytest.approx(3 * 730.0)


def test_break_even_is_where_the_lines_cross():
    box = SelfHosted(hourly_usd=1.0, ttft_s=0.2, tokens_per_s=50.0)
    per_request = 0.01
    volume = break_even(per_request, box, output_tokens=200)
    assert volume is not None and volume < box.capacity_per_day(200)
    assert api_monthly_usd(per_request, volume) == pytest.approx(box.monthly_usd(volume, 200))
    assert api_monthly_usd(per_request, volume * 0.9) < box.monthly_usd(volume * 0.9, 200)
    assert api_monthly_usd(per_request, volume * 1.1) > box.monthly_usd(volume * 1.1, 200)


def test_no_break_even_when_the_api_is_cheaper_even_at_full_load():
    slow_box = SelfHosted(hourly_usd=3.0, ttft_s=1.0, tokens_per_s=2.0)
    assert break_even(0.0001, slow_box, output_tokens=200) is None
    assert break_even(0.01, SelfHosted(0.0, 1.0, 2.0), output_tokens=200) == 0.0


def test_projection_lines():
    xs, ys = api_line(0.002, 1000)
    assert ys[-1] == pytest.approx(api_monthly_usd(0.002, 1000)) and ys[0] == 0
    box = SelfHosted(hourly_usd=0.5, ttft_s=0.5, tokens_per_s=10.0)
    capacity = box.capacity_per_day(101)
    xs, ys = hosted_staircase(box, 101, max_volume=capacity * 2.5)
    assert xs == pytest.approx([0, capacity, 2 * capacity, 2.5 * capacity])
    assert ys == pytest.approx([365.0, 730.0, 1095.0, 1095.0])
    xs, ys = hosted_staircase(box, 101, max_volume=capacity * 1000, max_steps=50)
    assert len(xs) == 51 and ys[-1] == pytest.approx(box.monthly_usd(capacity * 1000, 101))


def test_the_dashboard_and_the_learn_page_draw_one_break_even(catalog):
    """One computation for every pair: the same API price and machine give the same volume as ``break_even``."""
    prices = api_request_prices(catalog, 500, 200, ["gpt-4o-mini", "gpt-4o"])
    assert set(prices) == {"gpt-4o-mini", "gpt-4o"} and prices["gpt-4o"] > prices["gpt-4o-mini"] > 0
    box = SelfHosted(hourly_usd=RATES["gpu-small"].usd_per_hour, ttft_s=0.3, tokens_per_s=40.0)
    pairs = break_evens(prices, {"local": box}, 200)
    assert [(p.api_model, p.hosted_model) for p in pairs] == [(m, "local") for m in prices]
    for pair in pairs:
        assert pair.requests_per_day == break_even(prices[pair.api_model], box, 200)
    cheaper, dearer = (next(p for p in pairs if p.api_model == m) for m in ("gpt-4o-mini", "gpt-4o"))
    assert dearer.requests_per_day is not None
    assert cheaper.requests_per_day is None or cheaper.requests_per_day > dearer.requests_per_day


def test_one_rate_table_with_a_source_and_a_date_for_every_row():
    assert all(RATES[key].label and RATES[key].source and RATES[key].date for key in RATES)
    assert RATES["laptop"].usd_per_hour == 0 and RATES["gpu-small"].usd_per_hour > RATES["cpu-4"].usd_per_hour
