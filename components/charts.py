"""Plotly figures over the run history (a DataFrame from History.runs) and the cost projection."""

from __future__ import annotations

import plotly.graph_objects as go

from components.language import openness_words
from playground.i18n import N_, _
from playground.pricing import BreakEven, SelfHosted, api_line, break_evens, hosted_staircase

# The legend sits at the figure's own bottom edge (yref "container"), under the axis and its tilted labels: placed
# relative to the plot (y=-0.2) it covered them
LEGEND_BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom")
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend=LEGEND_BELOW, height=420)


def _model_axis(runs) -> list[str]:
    return runs["model_name"] + " · " + openness_words(runs["openness"])


def latency(runs) -> go.Figure:
    """Total latency and TTFT per model; cold calls (first use after a model load) as their own crosses."""
    fig = go.Figure()
    for measure, column in ((_("total"), "total_s"), (_("TTFT"), "ttft_s")):
        for cold in (False, True):
            part = runs[runs["cold"] == cold]
            if part.empty:
                continue
            fig.add_box(
                x=_model_axis(part),
                y=part[column],
                name=measure + _(", ") + (_("cold call") if cold else _("warm")),
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                marker_symbol="x" if cold else "circle",
                # cold calls are few: show the points only, not a box
                fillcolor="rgba(0,0,0,0)" if cold else None,
                line_width=0 if cold else None,
            )
    fig.update_layout(title=_("Latency per call"), yaxis_title=_("seconds"), boxmode="group", **LAYOUT)
    return fig


LATENCY_PARTS = (  # (label, how to compute it from a run's columns), in the order the user waits through them
    (N_("in line"), lambda r: r["queue_s"].fillna(0)),
    (N_("model load"), lambda r: r["load_s"].fillna(0)),
    (N_("to first token"), lambda r: (r["ttft_s"] - r["queue_s"].fillna(0) - r["load_s"].fillna(0)).clip(lower=0)),
    (N_("decode"), lambda r: (r["total_s"] - r["ttft_s"]).clip(lower=0)),
)


def latency_parts(runs) -> go.Figure:
    """Where the time went, per model: median wait in line, load, time to first token, and decode, stacked.

    Medians of each part, so the stack is a typical call, not an exact sum of any one call."""
    timed = runs[runs["ttft_s"].notna() & runs["total_s"].notna()]
    axis = _model_axis(timed)
    fig = go.Figure()
    for label, part in LATENCY_PARTS:
        medians = part(timed).groupby(axis, sort=True).median()
        fig.add_bar(y=medians.index, x=medians.values, name=_(label), orientation="h")
    fig.update_layout(
        title=_("Where the time went (median per call)"),
        xaxis_title=_("seconds from arrival"),
        barmode="stack",
        **LAYOUT,
    )
    return fig


def throughput(runs) -> go.Figure:
    usable = runs[runs["tokens_per_s"].notna()]
    fig = go.Figure(
        go.Box(
            x=_model_axis(usable), y=usable["tokens_per_s"], name=_("tokens/s"), boxpoints="all", jitter=0.3, pointpos=0
        )
    )
    fig.update_layout(title=_("Output tokens per second"), yaxis_title=_("tokens/s"), showlegend=False, **LAYOUT)
    return fig


def cost_per_call(runs) -> go.Figure:
    priced = runs[runs["cost_usd"].notna()]
    fig = go.Figure(
        go.Box(
            x=_model_axis(priced),
            y=priced["cost_usd"],
            name=_("cost per call"),
            boxpoints="all",
            jitter=0.3,
            pointpos=0,
        )
    )
    fig.update_layout(
        title=_("Cost per call"), yaxis_title=_("USD"), yaxis_tickformat="$.2~r", showlegend=False, **LAYOUT
    )
    return fig


def cumulative_cost(runs) -> go.Figure:
    priced = runs[runs["cost_usd"].notna()]
    fig = go.Figure()
    for name, part in priced.groupby(_model_axis(priced), sort=True):
        fig.add_scatter(x=part["time"], y=part["cost_usd"].cumsum(), name=name, mode="lines+markers", line_shape="hv")
    fig.add_scatter(
        x=priced["time"],
        y=priced["cost_usd"].cumsum(),
        name=_("all models"),
        mode="lines",
        line_shape="hv",
        line=dict(dash="dash", color="gray"),
    )
    fig.update_layout(title=_("Cumulative cost"), yaxis_title=_("USD"), yaxis_tickformat="$.2~r", **LAYOUT)
    return fig


def conversation_cost(runs) -> go.Figure | None:
    """The newest conversation's cost over its turns, per model: each turn re-sends the history, so it climbs.
    Hover shows the tokens each turn sent. None when no run belongs to a conversation."""
    if "conversation_id" not in runs or runs["conversation_id"].isna().all():
        return None
    newest = runs.loc[runs["conversation_id"].notna()].iloc[-1]["conversation_id"]
    turns = runs[(runs["conversation_id"] == newest) & runs["cost_usd"].notna()].sort_values(["turn", "id"])
    fig = go.Figure()
    for name, part in turns.groupby(_model_axis(turns), sort=True):
        fig.add_scatter(
            x=part["turn"],
            y=part["cost_usd"].cumsum(),
            customdata=part["tokens_in"],
            name=name,
            mode="lines+markers",
            hovertemplate="%{y:$.3~g} · %{customdata} " + _("tokens sent") + "<extra></extra>",
        )
    fig.update_layout(
        title=_("The latest conversation: cost over its turns"),
        xaxis=dict(title=_("turn"), dtick=1),
        yaxis_title=_("USD, so far"),
        yaxis_tickformat="$.2~g",
        **LAYOUT,
    )
    return fig


def projection(
    api: dict[str, float], hosted: dict[str, SelfHosted], output_tokens: int, requests_per_day: float
) -> tuple[go.Figure, list[BreakEven]]:
    """Monthly cost against daily volume: one line per API model (USD per request), one staircase per
    self-hosted model, break-even points marked. Returns the figure and the pairs' break-evens."""
    pairs = break_evens(api, hosted, output_tokens)
    crossings = [p.requests_per_day for p in pairs if p.requests_per_day]
    max_volume = max([requests_per_day * 3, *(c * 1.5 for c in crossings)])
    fig = go.Figure()
    for name, per_request in api.items():
        xs, ys = api_line(per_request, max_volume)
        fig.add_scatter(x=xs, y=ys, name=_("{model} (API)").format(model=name), mode="lines")
    for name, box in hosted.items():
        xs, ys = hosted_staircase(box, output_tokens, max_volume)
        fig.add_scatter(
            x=xs,
            y=ys,
            name=_("{model} (self-hosted)").format(model=name),
            mode="lines",
            line_shape="hv",
            line_dash="dot",
        )
    marked = [p for p in pairs if p.requests_per_day is not None]
    if marked:
        fig.add_scatter(
            x=[p.requests_per_day for p in marked],
            y=[hosted[p.hosted_model].monthly_usd(p.requests_per_day, output_tokens) for p in marked],
            name=_("break-even"),
            mode="markers",
            marker=dict(symbol="diamond", size=12, color="black"),
            text=[_("{hosted} vs {api}").format(hosted=p.hosted_model, api=p.api_model) for p in marked],
            hovertemplate="%{text}<br>" + _("%{x:,.0f} requests/day<br>$%{y:,.0f}/month") + "<extra></extra>",
        )
    fig.add_vline(x=requests_per_day, line_dash="dash", line_color="gray", annotation_text=_("your volume"))
    fig.update_layout(
        title=_("Monthly cost against volume"),
        xaxis_title=_("requests per day"),
        yaxis_title=_("USD per month"),
        yaxis_tickformat="$,.0f",
        **{**LAYOUT, "height": 460},
    )
    return fig, pairs


def energy(runs, per_1k_tokens: bool = False) -> go.Figure:
    """Median energy per call (or per 1,000 output tokens) per model, open against closed, in mWh on a log axis
    (a small local model and a datacenter API differ by orders of magnitude). Whiskers: the median of each call's
    range (EcoLogits gives one; a measured or CPU-time figure has none)."""
    known = runs[runs["energy_wh"].notna()]
    if per_1k_tokens:
        known = known[known["tokens_out"].fillna(0) > 0]
    scale = 1000.0 / known["tokens_out"] if per_1k_tokens else 1.0
    parts = known.assign(
        axis=_model_axis(known),
        mwh=known["energy_wh"] * scale * 1000,
        low=known["energy_min_wh"].fillna(known["energy_wh"]) * scale * 1000,
        high=known["energy_max_wh"].fillna(known["energy_wh"]) * scale * 1000,
    )
    fig = go.Figure()
    for openness, colour in (("open", "#2e7d32"), ("closed", "#ef6c00")):
        medians = parts[parts["openness"] == openness].groupby("axis", sort=True)[["mwh", "low", "high"]].median()
        if medians.empty:
            continue
        fig.add_bar(
            x=medians.index,
            y=medians["mwh"],
            name=_("open") if openness == "open" else _("closed"),
            marker_color=colour,
            error_y=dict(
                type="data",
                symmetric=False,
                array=(medians["high"] - medians["mwh"]).clip(lower=0),
                arrayminus=(medians["mwh"] - medians["low"]).clip(lower=0),
            ),
        )
    title = _("Energy per 1,000 output tokens") if per_1k_tokens else _("Energy per call")
    fig.update_layout(title=title, yaxis_title=_("mWh (log scale)"), yaxis_type="log", **LAYOUT)
    return fig
