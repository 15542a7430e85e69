"""What the Learn page draws: the spectrum with every catalog model on it, each dimension's facts from the
catalog, the break-even from measured runs, and the "try it" buttons that open a prepared run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.language import fixed_labels
from components.openness_card import POSITION_COLOUR, card_popover
from components.session import get_store
from playground import Credentials, availability
from playground.catalog import Catalog
from playground.energy import api_energy, format_wh, format_wh_range, zone_of
from playground.formatting import format_count, format_names, format_usd
from playground.hardware import PRESETS, RATES
from playground.i18n import _
from playground.lessons import DEMOS
from playground.openness import SPECTRUM, spectrum_explanation, spectrum_label, spectrum_position
from playground.pricing import SelfHosted, api_request_prices, break_evens
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
    presets = [key for key in PRESETS if RATES[key].usd_per_hour > 0]
    preset = st.selectbox(
        _("Self-host on"),
        presets,
        format_func=fixed_labels(
            presets,
            lambda key: _("{machine}: about {price}/hour").format(
                machine=_(RATES[key].label), price=format_usd(RATES[key].usd_per_hour)
            ),
        ),
        key="learn_hardware",
    )
    speeds = measured_speeds(get_store().runs())
    if speeds.empty:
        st.info(_("No open model has been measured here yet: press “Try it”, run once, and come back."))
        return
    input_tokens, output_tokens = LESSON_TOKENS
    api = {catalog.get(i).display_name: usd for i, usd in api_request_prices(catalog, *LESSON_TOKENS).items()}
    hosted = {
        catalog.models[row.model_id].display_name if row.model_id in catalog.models else row.model_name: SelfHosted(
            RATES[preset].usd_per_hour, row.ttft_s, row.tokens_per_s
        )
        for row in speeds.itertuples()
    }
    rows = [
        {
            _("Self-hosted open model"): pair.hosted_model,
            _("API model"): pair.api_model,
            _("API cost per request"): format_usd(pair.per_request_usd),
            _("Break-even (requests/day)"): format_count(round(pair.requests_per_day))
            if pair.requests_per_day is not None
            else _("never: one machine cannot serve enough requests to beat the API"),
        }
        for pair in break_evens(api, hosted, output_tokens)
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(
        _(
            "Each request: {input} input and {output} output tokens. API prices from genai-prices; the open model's "
            "speed is the median of your runs on this machine, one request at a time. Operations work and answer "
            "quality are left out: read it as a first estimate. The Latency & cost page draws the whole curve."
        ).format(input=format_count(input_tokens), output=format_count(output_tokens))
    )
    st.page_link("pages/dashboard.py", label=_("Open the Latency & cost page"), icon=":material/monitoring:")


def cost_and_energy(catalog: Catalog) -> None:
    """The cost lesson: break-even, then the energy of the same request, then the tokens behind both."""
    cost_break_even(catalog)
    energy_comparison(catalog)
    st.page_link("pages/tokens.py", label=_("See what a token is, in English and in Chinese"), icon=":material/token:")


def energy_comparison(catalog: Catalog) -> None:
    """Energy for the lesson's answer length: EcoLogits' range for API models, this machine's own runs for local
    models (median energy per output token × the answer length)."""
    output_tokens = LESSON_TOKENS[1]
    store = get_store()
    zone = zone_of(store)
    rows = []
    for spec in catalog.models.values():
        if spec.impacts_ref and (energy := api_energy(spec.impacts_ref, output_tokens, None, zone)):
            figure = format_wh_range(energy.min_wh, energy.max_wh)
            rows.append((spec.display_name, figure, _("EcoLogits estimate, a datacenter GPU")))
    runs = store.runs()
    local = runs[runs["energy_wh"].notna() & (runs["openness"] == "open") & (runs["tokens_out"].fillna(0) > 0)]
    for model_id, part in local.groupby("model_id"):
        per_token = (part["energy_wh"] / part["tokens_out"]).median()
        name = catalog.name_of(model_id)
        how = _("measured here") if part["energy_source"].isin(["rapl", "nvml"]).all() else _("estimated here")
        rows.append(
            (name, "≈ " + format_wh(per_token * output_tokens), _("{how}, {n} runs").format(how=how, n=len(part)))
        )
    st.markdown("**" + _("Energy for an answer of {n} tokens").format(n=format_count(output_tokens)) + "**")
    columns = (_("Model"), _("Energy"), _("Where the figure comes from"))
    st.dataframe(pd.DataFrame(rows, columns=columns), hide_index=True, width="stretch")
    if local.empty:
        st.caption(_("No local run has an energy figure yet: run an open model once and it appears here."))
    st.caption(
        _(
            "A large model in a datacenter spends its energy on big GPUs shared by many users; a small open model on "
            "a laptop spends little, but answers less well. Local figures come from this machine's energy counters or "
            "its CPU time (CodeCarbon's method); API figures from EcoLogits' model of the vendor's hardware."
        )
    )
