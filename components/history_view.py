"""The dashboard's history: whose runs (by scope), the filters, the charts, the table, the exports and deleting.

Which runs a visitor may see is decided by the store's query (``Store.runs(scope=...)``): a student gets this
session's runs, an instructor also their rooms', the admin everyone's, with a filter. Exports hold exactly the rows
on screen.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from components import charts
from components.clock import time_title, visitor_times
from components.language import fixed_labels, openness_words
from components.session import get_store
from playground import Catalog
from playground.access import Scope
from playground.formatting import format_count, format_usd
from playground.hardware import display_name as display_hardware
from playground.i18n import N_, _
from playground.store import to_csv, to_json

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
    "energy_wh": N_("energy (Wh)"),
    "gwp_g": N_("CO₂e (g)"),
    "energy_source": N_("energy from"),
}
EVERYONE, MINE = "everyone", "mine"


def whose_runs(viewer: Scope) -> tuple[Scope, str | None]:
    """The scope to query and an optional room: what this viewer may see, narrowed by the admin's filter."""
    if not viewer.is_admin:
        if viewer.rooms:
            st.caption(_("Your runs, and the runs of the rooms you teach."))
        else:
            st.caption(_("Your runs in this browser, reloads included. Nobody else sees them unless you join a room."))
        return viewer, None
    rooms = sorted(r for r in get_store().runs(scope=viewer)["room"].dropna().unique())
    labels = {EVERYONE: _("everyone's runs"), MINE: _("only mine")} | {
        r: _("room {code}").format(code=r) for r in rooms
    }
    choice = st.selectbox(_("Whose runs (admin)"), list(labels), key="dash_whose", format_func=labels.get)
    if choice == MINE:
        return Scope(viewer.session_id), None
    return viewer, None if choice == EVERYONE else choice


def filters(catalog: Catalog, everything: pd.DataFrame) -> tuple[list, list, float | None]:
    left, middle, right = st.columns(3)
    pages = left.multiselect(
        _("Pages"),
        sorted(everything["page"].unique()),
        key="dash_pages",
        select_all=False,  # its "Select all" is English in every language
        placeholder=_("all pages"),
        format_func=fixed_labels(everything["page"].unique(), lambda p: _(PAGES[p]) if p in PAGES else p),
    )
    models = middle.multiselect(
        _("Models"),
        sorted(everything["model_id"].unique()),
        key="dash_models",
        select_all=False,  # its "Select all" is English in every language
        placeholder=_("all models"),
        format_func=fixed_labels(everything["model_id"].unique(), catalog.name_of),
    )
    period = right.selectbox(_("Time"), list(PERIODS), key="dash_period", format_func=fixed_labels(PERIODS))
    return pages, models, time.time() - PERIODS[period] if PERIODS[period] else None


def render_charts(done: pd.DataFrame) -> None:
    """Latency, throughput, the parts of latency and the cost of the finished runs."""
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


def render_runs(runs: pd.DataFrame, viewer: Scope) -> None:
    """The runs table (newest first), its exports, and deleting this session's own runs."""
    st.header(_("Runs"))
    if runs.empty:
        st.caption(_("No runs match these filters."))
        return
    hidden = ["id", "ts", "params", "cost_source", "hardware_cost_usd", "api_cost_usd", "session_id", "battle_id"]
    hidden += ["energy_min_wh", "energy_max_wh", "energy_zone"]
    shown = runs.drop(columns=hidden)
    shown = shown.assign(
        time=visitor_times(runs["ts"]),
        page=shown["page"].map(lambda p: _(PAGES[p]) if p in PAGES else p),
        openness=openness_words(shown["openness"]),
        hardware=shown["hardware"].map(lambda h: display_hardware(h) if isinstance(h, str) else h),
    )
    text = shown.select_dtypes(include=["object", "str"]).columns  # a missing text is blank, never the word "None"
    shown[text] = shown[text].fillna("")
    titles = {column: _(title) for column, title in RUN_COLUMNS.items()} | {"time": time_title()}
    st.dataframe(shown.iloc[::-1].rename(columns=titles), hide_index=True, width="stretch")
    e, f, g = st.columns([1, 1, 4])
    e.download_button(_("Export CSV"), to_csv(runs), file_name="playground-runs.csv", mime="text/csv")
    f.download_button(_("Export JSON"), to_json(runs), file_name="playground-runs.json", mime="application/json")
    g.caption(
        _("Exports hold the runs shown above. Keys are never stored; prompts and answers only if the sidebar allows.")
    )
    mine = int((runs["session_id"] == viewer.session_id).sum())
    sure = mine and st.toggle(_("Delete my runs"), key="dash_delete")
    if sure and st.button(_("Delete {n} runs of this session for good").format(n=format_count(mine)), type="primary"):
        get_store().delete_own_runs(Scope(viewer.session_id))
        st.rerun()
