"""Latency & cost: every recorded run as charts, and where self-hosting an open model breaks even with an API."""

import time

import pandas as pd
import streamlit as st

from components import charts
from components.costs import get_store, hourly_rate
from components.language import fixed_labels
from components.session import get_catalog
from playground.formatting import format_count, format_usd
from playground.i18n import N_, _
from playground.pricing import SelfHosted, api_cost, api_monthly_usd
from playground.store import measured_speeds, to_csv, to_json

PERIODS = {N_("all time"): None, N_("last hour"): 3600, N_("last 24 hours"): 86400, N_("last 7 days"): 7 * 86400}
PAGES = {"generate": N_("Generate"), "classify": N_("Classify"), "caption": N_("Caption")}
RUN_COLUMNS = {  # the history's columns as the runs table titles them
    "time": N_("time"),
    "page": N_("page"),
    "model_id": N_("model id"),
    "model_name": N_("model"),
    "openness": N_("openness"),
    "input": N_("input"),
    "output": N_("output"),
    "queue_s": N_("in line (s)"),
    "ttft_s": N_("TTFT (s)"),
    "total_s": N_("total (s)"),
    "load_s": N_("load (s)"),
    "decode_s": N_("decode (s)"),
    "tokens_in": N_("tokens in"),
    "tokens_out": N_("tokens out"),
    "tokens_per_s": N_("tokens/s"),
    "cost_usd": N_("cost (USD)"),
    "cold": N_("cold call"),
    "error": N_("error"),
    "error_code": N_("error code"),
    "partial": N_("partial answer"),
    "room": N_("room"),
    "hardware": N_("hardware"),
    "endpoint": N_("endpoint"),
}

st.title(_("Latency & cost"))
catalog = get_catalog()
store = get_store()
everything = store.runs()

left, middle, right = st.columns(3)
pages = left.multiselect(
    _("Pages"),
    sorted(everything["page"].unique()),
    key="dash_pages",
    placeholder=_("all pages"),
    format_func=fixed_labels(everything["page"].unique(), lambda p: _(PAGES[p]) if p in PAGES else p),
)
models = middle.multiselect(
    _("Models"),
    sorted(everything["model_id"].unique()),
    key="dash_models",
    placeholder=_("all models"),
    format_func=fixed_labels(
        everything["model_id"].unique(), lambda m: catalog.models[m].display_name if m in catalog.models else m
    ),
)
period = right.selectbox(_("Time"), list(PERIODS), key="dash_period", format_func=fixed_labels(PERIODS))
since = time.time() - PERIODS[period] if PERIODS[period] else None
runs = store.runs(pages=pages, models=models, since=since)
done = runs[runs["error"].isna()]

if done.empty:
    st.info(_("No finished runs to show yet. Run some models on Generate, Classify or Caption, then come back here."))
else:
    a, b = st.columns(2)
    a.plotly_chart(charts.latency(done), key="chart_latency")
    b.plotly_chart(charts.throughput(done), key="chart_tokens_per_s")
    if (cold := done[done["cold"]]).shape[0]:
        st.caption(
            _(
                "× marks a cold call, the first use of a local model in this server process. Its model load "
                "(median {s} s) is inside its TTFT and total, shown apart below, and priced as hardware time."
            ).format(s=f"{cold['load_s'].median():.1f}")
        )
    st.plotly_chart(charts.latency_parts(done), key="chart_latency_parts")
    st.caption(
        _(
            "Every time is counted from the moment the request arrived: waiting in line for a shared model, loading "
            "it, the model's own time to the first token, then decoding the rest."
        )
    )
    c, d = st.columns(2)
    c.plotly_chart(charts.cost_per_call(done), key="chart_cost_per_call")
    d.plotly_chart(charts.cumulative_cost(done), key="chart_cumulative_cost")
    if (conversation := charts.conversation_cost(done)) is not None:
        st.plotly_chart(conversation, key="chart_conversation_cost")
    unpriced = done["cost_usd"].isna()
    amount, priced = format_usd(done["cost_usd"].sum()), format_count(int(done["cost_usd"].notna().sum()))
    if unpriced.any():
        total = _("Total: {amount} over {n} priced calls; {m} unpriced calls are left out (no price known).").format(
            amount=amount, n=priced, m=format_count(int(unpriced.sum()))
        )
    else:
        total = _("Total: {amount} over {n} priced calls.").format(amount=amount, n=priced)
    st.caption(
        total
        + " "
        + _("API prices come from genai-prices; local models cost the hardware rate set in the sidebar × wall time.")
    )

st.header(_("Projection and break-even"))
one, two, three = st.columns(3)
requests_per_day = one.number_input(_("Requests per day"), min_value=1, value=1000, step=100, key="proj_volume")
input_tokens = two.number_input(_("Average input tokens"), min_value=1, value=500, step=100, key="proj_in")
output_tokens = three.number_input(_("Average output tokens"), min_value=1, value=200, step=50, key="proj_out")
priced_api = [m for m in catalog.models.values() if m.openness == "closed" and m.price_ref]
api_ids = st.multiselect(
    _("API models"),
    [m.id for m in priced_api],
    default=[m.id for m in priced_api][:2],
    format_func=fixed_labels([m.id for m in priced_api], lambda m: catalog.models[m].display_name),
    placeholder=_("Choose API models"),
    key="proj_api",
)
speeds = measured_speeds(runs)
hosted_names = st.multiselect(
    _("Self-hosted open models (speed measured in your runs)"),
    list(speeds["model_name"]),
    default=list(speeds["model_name"]),
    key="proj_hosted",
    placeholder=_("Choose measured open models") if not speeds.empty else _("No open model measured yet"),
)
rate = hourly_rate()
st.caption(
    _(
        "Self-hosting is priced at {rate}/hour per machine (the hardware preset in the sidebar). A machine's capacity "
        "comes from the median TTFT and tokens/s of your runs; prompts much longer than yours take longer to read."
    ).format(rate=format_usd(rate))
)

api = {}
for model_id in api_ids:
    spec = catalog.get(model_id)
    cost = api_cost(spec, catalog.provider_of(spec), int(input_tokens), int(output_tokens))
    if cost.usd is not None:
        api[spec.name] = cost.usd
hosted = {
    row.model_name: SelfHosted(rate, row.ttft_s, row.tokens_per_s)
    for row in speeds.itertuples()
    if row.model_name in hosted_names
}
if speeds.empty:
    st.info(
        _("Run an open model (e.g. SmolLM2 on Generate) to measure its speed; its self-hosted cost then appears here.")
    )
if api or hosted:
    figure, pairs = charts.projection(api, hosted, int(output_tokens), float(requests_per_day))
    st.plotly_chart(figure, key="chart_projection")
    st.markdown(
        _(
            "The chart shows what a month would cost at each daily volume: an API bills every token, so its line rises "
            "steadily, while a self-hosted model costs a fixed machine rate and adds a machine whenever the speed "
            "measured here, one request at a time, can no longer keep up. It leaves out operations work (setup, "
            "updates, monitoring), differences in answer quality, batching, and real utilisation, since a machine "
            "rarely runs busy around the clock, so read the break-even point as a first estimate, not a quote."
        )
    )
    if pairs:
        st.dataframe(
            pd.DataFrame(
                {
                    _("Self-hosted"): p["self-hosted"],
                    _("API model"): p["API model"],
                    _("Break-even (requests/day)"): format_count(round(p["break-even"]))
                    if p["break-even"] is not None
                    else _("never: the API is cheaper even with the machine fully busy"),
                    _("API at your volume"): _("{amount}/month").format(
                        amount=format_usd(api_monthly_usd(api[p["API model"]], requests_per_day))
                    ),
                    _("Self-hosted at your volume"): _("{amount}/month").format(
                        amount=format_usd(hosted[p["self-hosted"]].monthly_usd(requests_per_day, int(output_tokens)))
                    ),
                }
                for p in pairs
            ),
            hide_index=True,
            width="stretch",
        )

st.header(_("Runs"))
if runs.empty:
    st.caption(_("No runs match these filters."))
else:
    hidden = ["id", "ts", "params", "cost_source", "hardware_cost_usd", "api_cost_usd", "session_id", "battle_id"]
    shown = runs.drop(columns=hidden)
    shown = shown.assign(
        page=shown["page"].map(lambda p: _(PAGES[p]) if p in PAGES else p),
        openness=shown["openness"].map({"open": _("open"), "closed": _("closed")}),
    )
    titles = {column: _(title) for column, title in RUN_COLUMNS.items()}
    st.dataframe(shown.iloc[::-1].rename(columns=titles), hide_index=True, width="stretch")
    e, f, g = st.columns([1, 1, 4])
    e.download_button(_("Export CSV"), to_csv(runs), file_name="playground-runs.csv", mime="text/csv")
    f.download_button(_("Export JSON"), to_json(runs), file_name="playground-runs.json", mime="application/json")
    g.caption(
        _("Exports hold the runs shown above. Keys are never stored; prompts and answers only if the sidebar allows.")
    )
