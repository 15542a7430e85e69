"""The openness card of a model, built from the catalog alone: where it sits on the spectrum from closed API to
fully open, its licence and what it allows commercially, its weights and their size, how open its training data
and code are, where a prompt goes, its parameters, the memory it needs, and its price with source and date.

Sizes and memory are computed from the parameter count and the precision, never typed in. A fact the catalog does
not have is shown as "unknown". Every text is in the current language (call at render time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

import genai_prices
from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import get_snapshot

from playground.catalog import Catalog, ModelSpec, ProviderSpec
from playground.formatting import format_bytes, format_day, format_large, format_names, format_usd
from playground.i18n import _, is_chinese

# The Model Openness Framework / European Open Source AI Index reading of "open", from least to most open.
SPECTRUM = ("closed-api", "open-weights-restricted", "open-weights-permissive", "open-weights-data-code")
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
# Running a model takes more than its weights: activations, the KV cache at a short context, the runtime.
MEMORY_OVERHEAD = 1.2
HUB_URL = "https://huggingface.co/"
PYPI_URL = "https://pypi.org/project/"


def spectrum_label(position: str) -> str:
    return {
        "closed-api": _("Closed: API only"),
        "open-weights-restricted": _("Open weights, with restrictions"),
        "open-weights-permissive": _("Open weights, permissive licence"),
        "open-weights-data-code": _("Open weights, data and code"),
    }.get(position, _("unknown"))


def spectrum_explanation(position: str) -> str:
    return {
        "closed-api": _("You can call it, never download it: the vendor runs it and decides what you may do."),
        "open-weights-restricted": _(
            "You can download and run the weights, but the licence limits some uses (or states no licence at all)."
        ),
        "open-weights-permissive": _(
            "Weights under a licence that allows any use, commercial included; the training data or code stay private."
        ),
        "open-weights-data-code": _(
            "Weights, training data and training code are all published: anyone can study or rebuild the model."
        ),
    }.get(position, _("Not enough is known about this model to place it."))


def spectrum_position(catalog: Catalog, spec: ModelSpec) -> str:
    """Derived from the facts: published weights, the licence of those weights, and published data and code."""
    facts = spec.facts
    if facts.weights == "none":
        return "closed-api"
    if not facts.weights:
        return "unknown"
    commercial = catalog.license_of(facts.weights_license or spec.license).commercial
    if commercial != "yes":  # restricted, no, or no licence stated: without a licence, reuse is not granted
        return "open-weights-restricted"
    if facts.training_data == "open" and facts.training_code == "open":
        return "open-weights-data-code"
    return "open-weights-permissive"


def commercial_text(commercial: str) -> str:
    return {
        "yes": _("Commercial use allowed (keep the licence notice)."),
        "restricted": _("Commercial use allowed, with use restrictions in the terms."),
        "no": _("No commercial use."),
    }.get(commercial, _("unknown"))


def level_text(level: str) -> str:
    return {
        "open": _("published"),
        "partial": _("partly published, or only described"),
        "closed": _("not published"),
    }.get(level, _("unknown"))


def parse_params(text: str) -> float | None:
    """'135M', '≈250M', '671B', '4.7M + 135M' → a number of parameters; None when not given."""
    counts = [
        float(number) * {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[unit.upper()]
        for number, unit in re.findall(r"([\d.]+)\s*([KMBT])\b", text, re.IGNORECASE)
    ]
    if not counts:
        return None
    return sum(counts) if "+" in text else counts[0]  # "4.7M + 135M" is a pipeline; "4.0M (detector 1.2M...)" is not


@dataclass(frozen=True)
class MemoryEstimate:
    dtype: str
    weights_bytes: float
    memory_bytes: float


def memory_estimates(params: float, published_dtype: str = "") -> list[MemoryEstimate]:
    """Weights and memory at the published precision (when known), at 16 bits, and quantised to 4 bits."""
    dtypes = dict.fromkeys([d for d in (published_dtype, "bf16", "int4") if d])
    if published_dtype == "fp16":
        dtypes.pop("bf16")  # the same size twice
    return [
        MemoryEstimate(d, params * BYTES_PER_PARAM[d], params * BYTES_PER_PARAM[d] * MEMORY_OVERHEAD) for d in dtypes
    ]


@cache
def price_data_date() -> date | None:
    """The newest price change already in force in genai-prices' bundled data: its prices are at least this fresh.
    (The data also lists announced future changes; those say nothing about when it was made.)"""
    dates = []
    for provider in get_snapshot().providers:
        for model in provider.models:
            for price in model.prices if isinstance(model.prices, list) else ():
                if (start := getattr(price.constraint, "start_date", None)) is not None and start <= date.today():
                    dates.append(start)
    return max(dates, default=None)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    url: str = ""


@dataclass(frozen=True)
class OpennessCard:
    model_id: str
    name: str
    is_open: bool
    position: str
    position_label: str
    position_explanation: str
    facts: tuple[Fact, ...]
    notes: str


def destination(catalog: Catalog, spec: ModelSpec) -> Fact:
    """Where a prompt to this model goes, with the vendor's data-use page when it leaves your hands."""
    provider = catalog.provider_of(spec)
    label = _("Where your prompt goes")
    if provider.destination == "this-machine":
        return Fact(label, _("Stays on this machine: the model runs here."))
    if provider.destination == "your-server":
        return Fact(label, _("To a server you run (your self-hosted endpoint); it stays on your network."))
    if provider.hosting != ProviderSpec.hosting:  # the catalog says where the vendor's servers are
        value = provider.display_hosting
    else:
        value = _("Sent to {vendor}, over the internet.").format(vendor=provider.display_name)
    if not provider.data_use_url:
        value += " " + _("What the vendor does with it: unknown.")
    return Fact(label, value, provider.data_use_url)


def _licence(catalog: Catalog, spec: ModelSpec) -> list[Fact]:
    terms = catalog.license_of(spec.license)
    facts = [
        Fact(_("Licence"), terms.display_name, terms.url),
        Fact(_("Commercial use"), commercial_text(terms.commercial)),
    ]
    if spec.facts.weights_license:
        weights_terms = catalog.license_of(spec.facts.weights_license)
        facts.append(Fact(_("Licence of the published weights"), weights_terms.display_name, weights_terms.url))
    return facts


def _weights(spec: ModelSpec, params: float | None) -> Fact:
    label = _("Weights")
    where = spec.facts.weights
    if where == "none":
        return Fact(label, _("Not published: only the vendor has them."))
    if not where:
        return Fact(label, _("unknown"))
    if where.startswith("hub:"):
        url, text = HUB_URL + where[4:], _("Published on Hugging Face: {repo}").format(repo=where[4:])
    elif where.startswith("pypi:"):
        packages = where[5:].split("+")
        url, text = PYPI_URL + packages[0], _("Published on PyPI: {packages}").format(packages=format_names(packages))
    else:
        url, text = where, _("Published at {url}").format(url=where)
    if params is not None and spec.facts.weights_dtype:
        size = params * BYTES_PER_PARAM[spec.facts.weights_dtype]
        text += " · " + _("about {size} in {dtype}").format(size=format_bytes(size), dtype=spec.facts.weights_dtype)
    if spec.source.startswith("pypi:") and not where.startswith("pypi:"):
        text += " · " + _("this app installs a copy from PyPI ({package})").format(
            package=spec.source.removeprefix("pypi:")
        )
    return Fact(label, text, url)


def _hardware(spec: ModelSpec, params: float | None) -> Fact:
    label = _("Hardware needed")
    if spec.facts.weights == "none":
        return Fact(label, _("The vendor's; not published."))
    if params is None:
        return Fact(label, _("unknown (the parameter count is not known)"))
    parts = [
        _("{dtype}: about {memory} of RAM (CPU) or VRAM (GPU)").format(
            dtype=e.dtype, memory=format_bytes(e.memory_bytes)
        )
        for e in memory_estimates(params, spec.facts.weights_dtype)
    ]
    estimated = _("{estimates}. Estimated: weights × 1.2 for activations and cache.")
    return Fact(label, estimated.format(estimates=format_names(parts)))


def _price(catalog: Catalog, spec: ModelSpec) -> Fact:
    label = _("Price")
    if spec.is_local or catalog.provider_of(spec).destination != "vendor":
        return Fact(label, _("No API fee: you pay for the machine (the hardware rate in the sidebar × time)."))
    if not spec.price_ref:
        return Fact(label, _("unknown: genai-prices has no price for this model"))
    provider = catalog.provider_of(spec)
    try:
        per_million = [
            calc_price(
                Usage(input_tokens=i, output_tokens=o),
                model_ref=spec.price_ref,
                provider_id=provider.price_provider or None,
            )
            for i, o in ((1_000_000, 0), (0, 1_000_000))
        ]
    except LookupError:
        return Fact(label, _("unknown: genai-prices has no price for this model"))
    text = _("{input} per million input tokens, {output} per million output tokens").format(
        input=format_usd(float(per_million[0].total_price)), output=format_usd(float(per_million[1].total_price))
    )
    if (newest := price_data_date()) is not None:
        source = _("source: genai-prices {version}, newest price change in its data: {date}").format(
            version=genai_prices.__version__, date=format_day(newest)
        )
    else:
        source = _("source: genai-prices {version}").format(version=genai_prices.__version__)
    urls = per_million[0].provider.pricing_urls or []
    return Fact(label, _("{price} ({source})").format(price=text, source=source), urls[0] if urls else "")


def build_card(catalog: Catalog, spec: ModelSpec) -> OpennessCard:
    params = parse_params(spec.params) if spec.params else None
    position = spectrum_position(catalog, spec)
    facts = [
        *_licence(catalog, spec),
        _weights(spec, params),
        Fact(_("Training data"), level_text(spec.facts.training_data)),
        Fact(_("Training code"), level_text(spec.facts.training_code)),
        destination(catalog, spec),
        Fact(_("Parameters"), format_large(params) if params is not None else _("unknown")),
        _hardware(spec, params),
        _price(catalog, spec),
    ]
    notes = spec.facts.notes_zh if is_chinese() and spec.facts.notes_zh else spec.facts.notes
    return OpennessCard(
        spec.id,
        spec.display_name,
        spec.openness == "open",
        position,
        spectrum_label(position),
        spectrum_explanation(position),
        tuple(facts),
        notes,
    )
