"""What a call costs, and where self-hosting breaks even.

API models are priced by genai-prices from the usage the provider reported; we never keep a price table of our own.
A local model costs no API fee, only machine time: an hourly hardware rate (a user setting) × wall time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import genai_prices
from genai_prices import Usage, calc_price

from playground.catalog import Catalog, ModelSpec, ProviderSpec
from playground.formatting import format_number, format_seconds, format_usd
from playground.i18n import _
from playground.metrics import CallMetrics

HOURS_PER_MONTH = 730.0  # 24 × 365 / 12, as cloud bills count a month
DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class Cost:
    """The cost of one call. ``usd`` is None when nothing prices it ("unpriced"), never a silent $0."""

    usd: float | None
    source: str  # where the number came from, shown next to it
    api_usd: float | None = None
    hardware_usd: float = 0.0
    detail: str = ""  # the rates behind it and where they are published, for a tooltip

    @property
    def label(self) -> str:
        return _("unpriced") if self.usd is None else format_usd(self.usd)


def api_cost(
    spec: ModelSpec,
    provider: ProviderSpec,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_tokens: int = 0,
    when: datetime | None = None,
) -> Cost:
    """Price reported usage with genai-prices. ``input_tokens`` includes ``cached_tokens``, as OpenAI reports it
    and as genai-prices expects; ``when`` matters for providers with time-of-day prices (DeepSeek)."""
    if not spec.price_ref:
        return Cost(None, _("{model} has no price_ref in the catalog").format(model=spec.display_name))
    if input_tokens is None or output_tokens is None:
        return Cost(None, _("the provider reported no token usage"))
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached_tokens or None)
    try:
        price = calc_price(
            usage,
            model_ref=spec.price_ref,
            provider_id=provider.price_provider or None,
            genai_request_timestamp=when or datetime.now(UTC),
        )
    except LookupError:
        return Cost(
            None,
            _("genai-prices {version} does not know '{model}'").format(
                version=genai_prices.__version__, model=spec.price_ref
            ),
        )
    usd = float(price.total_price)
    source = f"genai-prices {genai_prices.__version__} · {price.provider.name} {price.model.id}"
    published = (
        _("; published at {url}").format(url=price.provider.pricing_urls[0]) if price.provider.pricing_urls else ""
    )
    return Cost(usd, source, api_usd=usd, detail=f"{price.model_price}{published}")


def hardware_cost(wall_s: float, hourly_usd: float) -> float:
    return hourly_usd * wall_s / 3600.0


def local_cost(metrics: CallMetrics, hourly_usd: float) -> Cost:
    """$0 API fee plus machine time. A cold call's load time counts: the machine was busy loading."""
    # the model's own time on this call, load included; the wait in line is not hardware this call used
    wall_s = max(0.0, (metrics.total_s or 0.0) - metrics.queue_s)
    hw = hardware_cost(wall_s, hourly_usd)
    source = _("$0 API + hardware ${rate}/h × {seconds} wall time").format(
        rate=format_number(hourly_usd, 4), seconds=format_seconds(wall_s)
    )
    detail = _("The hourly rate is a rough, editable setting in the sidebar.")
    return Cost(hw, source, api_usd=0.0, hardware_usd=hw, detail=detail)


def cost_of(
    spec: ModelSpec,
    provider: ProviderSpec,
    metrics: CallMetrics | None,
    cached_tokens: int = 0,
    hourly_usd: float = 0.0,
    when: datetime | None = None,
) -> Cost | None:
    """The cost of one finished call, or None when no call was made (e.g. a missing key)."""
    if metrics is None:
        return None
    if spec.is_local:
        return local_cost(metrics, hourly_usd)
    return api_cost(spec, provider, metrics.input_tokens, metrics.output_tokens, cached_tokens, when)


# ---------------------------------------------------------------- projection and break-even


@dataclass(frozen=True)
class SelfHosted:
    """One machine serving a model one request at a time, at the speed measured in this playground."""

    hourly_usd: float
    ttft_s: float  # measured median time to first token
    tokens_per_s: float  # measured median decode speed

    def seconds_per_request(self, output_tokens: int) -> float:
        return self.ttft_s + max(output_tokens - 1, 0) / self.tokens_per_s

    def capacity_per_day(self, output_tokens: int) -> float:
        """Requests one machine can answer in a day, busy around the clock."""
        return 86400.0 / self.seconds_per_request(output_tokens)

    def machines(self, requests_per_day: float, output_tokens: int) -> int:
        return max(1, math.ceil(requests_per_day / self.capacity_per_day(output_tokens)))

    def monthly_usd(self, requests_per_day: float, output_tokens: int) -> float:
        """A fixed cost per machine, whatever the volume; more machines once one is saturated."""
        return self.machines(requests_per_day, output_tokens) * self.hourly_usd * HOURS_PER_MONTH


def api_monthly_usd(per_request_usd: float, requests_per_day: float) -> float:
    return per_request_usd * requests_per_day * DAYS_PER_MONTH


def break_even(per_request_usd: float, hosted: SelfHosted, output_tokens: int) -> float | None:
    """The first volume (requests per day) at which self-hosting costs no more than the API, or None if never.

    The API grows linearly; hosting is a staircase, one machine per step. The API line crosses the first step
    before that machine is full exactly when a full machine is cheaper per request than the API, which also makes
    hosting the cheaper choice at scale. (Just past each added machine the API can briefly be cheaper again.)
    """
    machine_monthly = hosted.hourly_usd * HOURS_PER_MONTH
    if machine_monthly == 0:
        return 0.0
    if per_request_usd <= 0:
        return None
    crossing = machine_monthly / (per_request_usd * DAYS_PER_MONTH)
    return crossing if crossing <= hosted.capacity_per_day(output_tokens) else None


@dataclass(frozen=True)
class BreakEven:
    """Where one self-hosted model stops costing more than one API model."""

    api_model: str
    hosted_model: str
    per_request_usd: float  # the API's price of one request
    requests_per_day: float | None  # None: never, even with the machine fully busy


def break_evens(api: Mapping[str, float], hosted: Mapping[str, SelfHosted], output_tokens: int) -> list[BreakEven]:
    """Every (API model, self-hosted model) pair: the one computation the dashboard and the Learn page both draw.
    ``api`` maps a name to its USD per request; ``hosted`` a name to its measured machine."""
    return [
        BreakEven(api_name, hosted_name, per_request, break_even(per_request, box, output_tokens))
        for api_name, per_request in api.items()
        for hosted_name, box in hosted.items()
    ]


def api_request_prices(
    catalog: Catalog, input_tokens: int, output_tokens: int, model_ids: list[str] | None = None
) -> dict[str, float]:
    """USD per request of the closed models that genai-prices prices (those in ``model_ids``, else all), by id."""
    prices = {}
    for spec in catalog.models.values():
        if spec.openness != "closed" or not spec.price_ref or (model_ids is not None and spec.id not in model_ids):
            continue
        if (usd := api_cost(spec, catalog.provider_of(spec), input_tokens, output_tokens).usd) is not None:
            prices[spec.id] = usd
    return prices


def api_line(per_request_usd: float, max_volume: float) -> tuple[list[float], list[float]]:
    """Monthly API cost against requests per day: a straight line through the origin."""
    return [0.0, max_volume], [0.0, api_monthly_usd(per_request_usd, max_volume)]


def hosted_staircase(hosted: SelfHosted, output_tokens: int, max_volume: float, max_steps: int = 400):
    """Monthly hosting cost against requests per day, as points for a step line (plotly ``line_shape="hv"``):
    each point starts a step that holds until the next one."""
    capacity = hosted.capacity_per_day(output_tokens)
    machine = hosted.hourly_usd * HOURS_PER_MONTH
    steps = math.ceil(max_volume / capacity)
    if steps <= max_steps:
        xs = [k * capacity for k in range(steps)]
        ys = [(k + 1) * machine for k in range(steps)]
    else:  # too many machines to draw each step: sample the volume instead
        xs = [max_volume * i / max_steps for i in range(max_steps)]
        ys = [hosted.monthly_usd(x, output_tokens) for x in xs]
    return [*xs, max_volume], [*ys, hosted.monthly_usd(max_volume, output_tokens)]
