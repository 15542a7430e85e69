"""The dashboard's projection: what a month costs at a daily volume, API against a self-hosted open model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import charts
from components.language import fixed_labels
from components.settings import hourly_rate
from playground import Catalog
from playground.formatting import format_count, format_usd
from playground.i18n import N_, _
from playground.pricing import BreakEven, SelfHosted, api_monthly_usd, api_request_prices
from playground.store import measured_speeds

EXPLANATION = N_(
    "The chart shows what a month would cost at each daily volume: an API bills every token, so its line rises "
    "steadily, while a self-hosted model costs a fixed machine rate and adds a machine whenever the speed "
    "measured here, one request at a time, can no longer keep up. It leaves out operations work (setup, "
    "updates, monitoring), differences in answer quality, batching, and real utilisation, since a machine "
    "rarely runs busy around the clock, so read the break-even point as a first estimate, not a quote."
)


def render_projection(catalog: Catalog, runs: pd.DataFrame) -> None:
    """Volume inputs, the models to compare (open ones at the speed measured in ``runs``), the chart and the table."""
    st.header(_("Projection and break-even"))
    one, two, three = st.columns(3)
    requests_per_day = one.number_input(_("Requests per day"), min_value=1, value=1000, step=100, key="proj_volume")
    input_tokens = two.number_input(_("Average input tokens"), min_value=1, value=500, step=100, key="proj_in")
    output_tokens = three.number_input(_("Average output tokens"), min_value=1, value=200, step=50, key="proj_out")
    priced_api = [m.id for m in catalog.models.values() if m.openness == "closed" and m.price_ref]
    api_ids = st.multiselect(
        _("API models"),
        priced_api,
        default=priced_api[:2],
        format_func=fixed_labels(priced_api, lambda m: catalog.models[m].display_name),
        placeholder=_("Choose API models"),
        key="proj_api",
        select_all=False,  # its "Select all" is English in every language
    )
    speeds = measured_speeds(runs)
    hosted_names = st.multiselect(
        _("Self-hosted open models (speed measured in your runs)"),
        list(speeds["model_name"]),
        default=list(speeds["model_name"]),
        key="proj_hosted",
        select_all=False,  # its "Select all" is English in every language
        placeholder=_("Choose measured open models") if not speeds.empty else _("No open model measured yet"),
    )
    rate = hourly_rate()
    st.caption(
        _(
            "Self-hosting is priced at {rate}/hour per machine (the hardware preset in the sidebar). A machine's "
            "capacity comes from the median TTFT and tokens/s of your runs; prompts much longer than yours take "
            "longer to read."
        ).format(rate=format_usd(rate))
    )
    api = {
        catalog.get(model_id).name: usd
        for model_id, usd in api_request_prices(catalog, int(input_tokens), int(output_tokens), api_ids).items()
    }
    hosted = {
        row.model_name: SelfHosted(rate, row.ttft_s, row.tokens_per_s)
        for row in speeds.itertuples()
        if row.model_name in hosted_names
    }
    if speeds.empty:
        st.info(
            _(
                "Run an open model (e.g. SmolLM2 on Generate) to measure its speed; its self-hosted cost then appears here."
            )
        )
    if not (api or hosted):
        return
    figure, pairs = charts.projection(api, hosted, int(output_tokens), float(requests_per_day))
    st.plotly_chart(figure, key="chart_projection")
    st.markdown(_(EXPLANATION))
    if pairs:
        st.dataframe(
            pd.DataFrame(_pair_row(p, hosted, requests_per_day, int(output_tokens)) for p in pairs),
            hide_index=True,
            width="stretch",
        )


def _pair_row(pair: BreakEven, hosted: dict, requests_per_day: float, output_tokens: int) -> dict:
    hosted_monthly = hosted[pair.hosted_model].monthly_usd(requests_per_day, output_tokens)
    return {
        _("Self-hosted"): pair.hosted_model,
        _("API model"): pair.api_model,
        _("Break-even (requests/day)"): format_count(round(pair.requests_per_day))
        if pair.requests_per_day is not None
        else _("never: the API is cheaper even with the machine fully busy"),
        _("API at your volume"): _("{amount}/month").format(
            amount=format_usd(api_monthly_usd(pair.per_request_usd, requests_per_day))
        ),
        _("Self-hosted at your volume"): _("{amount}/month").format(amount=format_usd(hosted_monthly)),
    }
