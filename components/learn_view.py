"""What the Learn page draws: the spectrum with every catalog model on it, each dimension's facts from the
catalog, the break-even from measured runs, and the "try it" buttons that open a prepared run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.costs import get_store
from components.language import fixed_labels
from components.openness_card import POSITION_COLOUR, card_popover
from playground import Credentials, availability
from playground.catalog import Catalog
from playground.formatting import format_count, format_names, format_usd
from playground.i18n import _
from playground.lessons import DEMOS
from playground.openness import SPECTRUM, spectrum_explanation, spectrum_label, spectrum_position
from playground.pricing import HARDWARE_PRESETS, SelfHosted, api_cost, break_even
from playground.store import measured_speeds

LESSON_TOKENS = (500, 200)  # input and output tokens of the request the cost lesson prices


def spectrum(catalog: Catalog) -> None:
    """One band per step, from closed to fully open; each model is a button that opens its card."""
    placed: dict[str, list] = {}
    for spec in catalog.models.values():
        placed.setdefault(spectrum_position(catalog, spec), []).append(spec)
    steps = [*SPECTRUM, *(["unknown"] if "unknown" in placed else [])]
    for number, step in enumerate(steps, start=1):
        with st.container(border=True):
            heading = f"{number}. {spectrum_label(step)}" if step in SPECTRUM else spectrum_label(step)
            st.markdown(f"**:{POSITION_COLOUR.get(step, 'gray')}[{heading}]** — {spectrum_explanation(step)}")
            with st.container(horizontal=True):
                for spec in placed.get(step, []):
                    card_popover(catalog, spec, key=f"learn_card_{spec.id}")


def try_it_button(catalog: Catalog, lesson: str, credentials: Credentials) -> None:
    """Opens the lesson's run with the models that can run here (a keyless API or a model not downloaded is left
    out, and local ones fill in), so the page does not open half red."""
    demo = DEMOS[lesson]
    if st.button(_("Try it"), icon=":material/play_arrow:", key=f"try_{lesson}", type="primary"):
        can_run = lambda m: availability(catalog, catalog.get(m), credentials).ready  # noqa: E731
        st.switch_page(f"pages/{demo.page}.py", query_params=demo.query_params(catalog, lesson, can_run))


def names(specs) -> str:
    return format_names([spec.display_name for spec in specs]) or _("none")


def privacy_facts(catalog: Catalog) -> None:
    by_destination: dict[str, list] = {}
    for spec in catalog.models.values():
        by_destination.setdefault(catalog.provider_of(spec).destination, []).append(spec)
    lines = [
        _("**Stays on this machine** ({n}): {models}").format(
            n=len(by_destination.get("this-machine", [])), models=names(by_destination.get("this-machine", []))
        ),
        _("**Goes to your own server** ({n}): {models}").format(
            n=len(by_destination.get("your-server", [])), models=names(by_destination.get("your-server", []))
        ),
    ]
    vendors = {}
    for spec in by_destination.get("vendor", []):
        vendors.setdefault(catalog.provider_of(spec).id, []).append(spec)
    for provider_id, specs in vendors.items():
        provider = catalog.providers[provider_id]
        where = (
            f"[{provider.display_name}]({provider.data_use_url})" if provider.data_use_url else provider.display_name
        )
        lines.append(_("**Sent to {vendor}** ({n}): {models}").format(vendor=where, n=len(specs), models=names(specs)))
    st.markdown("\n".join(f"- {line}" for line in lines))


def transparency_facts(catalog: Catalog) -> None:
    published = [
        m for m in catalog.models.values() if m.facts.training_data == "open" and m.facts.training_code == "open"
    ]
    weights_only = [m for m in catalog.models.values() if m.facts.weights not in ("", "none") and m not in published]
    closed = [m for m in catalog.models.values() if m.facts.weights == "none"]
    st.markdown(
        "\n".join(
            [
                "- "
                + _("**Weights, data and code published** ({n}): {models}").format(
                    n=len(published), models=names(published)
                ),
                "- "
                + _("**Weights only, or data and code unknown** ({n}): {models}").format(
                    n=len(weights_only), models=names(weights_only)
                ),
                "- " + _("**Nothing published** ({n}): {models}").format(n=len(closed), models=names(closed)),
            ]
        )
    )


def commercial_facts(catalog: Catalog) -> None:
    groups: dict[str, list] = {}
    for spec in catalog.models.values():
        groups.setdefault(catalog.license_of(spec.license).commercial, []).append(spec)
    headings = {
        "yes": _("**Allowed** (Apache-2.0, MIT, BSD)"),
        "restricted": _("**Allowed with use restrictions** (RAIL licences, vendors' terms)"),
        "no": _("**Not allowed**"),
        "unknown": _("**Unknown** (no licence stated, or terms not in the catalog)"),
    }
    st.markdown(
        "\n".join(
            "- "
            + _("{heading} ({n}): {models}").format(
                heading=headings[kind], n=len(groups[kind]), models=names(groups[kind])
            )
            for kind in headings
            if groups.get(kind)
        )
    )


def cost_break_even(catalog: Catalog) -> None:
    """Break-even volumes between every priced API model and every open model measured in this playground."""
    presets = [p for p in HARDWARE_PRESETS if HARDWARE_PRESETS[p] > 0]
    preset = st.selectbox(
        _("Self-host on"),
        presets,
        format_func=fixed_labels(
            presets,
            lambda p: _("{machine}: about {price}/hour").format(machine=_(p), price=format_usd(HARDWARE_PRESETS[p])),
        ),
        key="learn_hardware",
    )
    speeds = measured_speeds(get_store().runs())
    if speeds.empty:
        st.info(_("No open model has been measured here yet: press “Try it”, run once, and come back."))
        return
    input_tokens, output_tokens = LESSON_TOKENS
    rows = []
    for spec in catalog.models.values():
        if spec.openness != "closed" or not spec.price_ref:
            continue
        per_request = api_cost(spec, catalog.provider_of(spec), input_tokens, output_tokens).usd
        if per_request is None:
            continue
        for row in speeds.itertuples():
            hosted = SelfHosted(HARDWARE_PRESETS[preset], row.ttft_s, row.tokens_per_s)
            volume = break_even(per_request, hosted, output_tokens)
            rows.append(
                {
                    _("Self-hosted open model"): catalog.models[row.model_id].display_name
                    if row.model_id in catalog.models
                    else row.model_name,
                    _("API model"): spec.display_name,
                    _("API cost per request"): format_usd(per_request),
                    _("Break-even (requests/day)"): format_count(round(volume))
                    if volume is not None
                    else _("never: one machine cannot serve enough requests to beat the API"),
                }
            )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(
        _(
            "Each request: {input} input and {output} output tokens. API prices from genai-prices; the open model's "
            "speed is the median of your runs on this machine, one request at a time. Operations work and answer "
            "quality are left out: read it as a first estimate. The Latency & cost page draws the whole curve."
        ).format(input=format_count(input_tokens), output=format_count(output_tokens))
    )
    st.page_link("pages/dashboard.py", label=_("Open the Latency & cost page"), icon=":material/monitoring:")
