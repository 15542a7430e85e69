"""The leaderboard: Bradley-Terry ratings with their intervals, the win-rate matrix, rating against price, and the
open-vs-closed win rate. Used by the leaderboard page (overall or one room) and the room's live view."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.charts import LEGEND_BELOW
from playground import Catalog, arena, format_usd
from playground.formatting import format_names
from playground.i18n import _

COLOURS = {"open": "#2e9e44", "closed": "#e8710a", "unknown": "#888888"}
FEW_VOTES = 20
MIN_BATTLES_FOR_INTERVAL = 5  # below this, a model's interval is "not enough votes", not a number
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend=LEGEND_BELOW)


def too_few(table: pd.DataFrame) -> pd.Series:
    """Models with too few battles for their bootstrap interval to mean anything: one vote resamples to itself
    every round, and "1059 – 1059" would look certain where nothing is known."""
    return table["battles"] < MIN_BATTLES_FOR_INTERVAL


def ratings_chart(table: pd.DataFrame) -> go.Figure:
    """Each model's rating and its 95% interval, best on top; a model with too few battles is a hollow marker
    without an interval."""
    fig = go.Figure()
    ordered = table.assign(few=too_few(table)).iloc[::-1]
    for openness, part in ordered.groupby("openness", sort=False):
        fig.add_scatter(
            x=part["rating"],
            y=part["name"],
            mode="markers",
            name=_(openness),
            marker=dict(
                size=12,
                color=COLOURS.get(openness, COLOURS["unknown"]),
                symbol=["circle-open" if few else "circle" for few in part["few"]],
            ),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(part["upper"] - part["rating"]).where(~part["few"], 0),
                arrayminus=(part["rating"] - part["lower"]).where(~part["few"], 0),
            ),
            customdata=part[["lower", "upper", "battles"]],
            hovertemplate="%{y}: %{x:.0f} [%{customdata[0]:.0f}, %{customdata[1]:.0f}], %{customdata[2]} battles<extra></extra>",
        )
    fig.update_layout(
        title=_("Rating with its 95% interval"),
        xaxis_title=_("Bradley-Terry rating (Elo scale)"),
        yaxis=dict(categoryorder="array", categoryarray=list(ordered["name"])),
        height=max(260, 60 * len(table) + 120),
        **LAYOUT,
    )
    return fig


def win_rate_chart(rates: pd.DataFrame, played: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    labels = [names.get(m, m) for m in rates.index]
    text = [
        [f"{rates.iloc[i, j]:.0%} ({played.iloc[i, j]})" if played.iloc[i, j] else "" for j in range(len(labels))]
        for i in range(len(labels))
    ]
    fig = go.Figure(
        go.Heatmap(
            z=rates.to_numpy(), x=labels, y=labels, zmin=0, zmax=1, colorscale="RdBu", text=text,
            texttemplate="%{text}", hovertemplate="%{y} beat %{x}: %{z:.0%}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=_("How often the row model beat the column model (battles)"),
        yaxis=dict(autorange="reversed"),
        height=max(320, 55 * len(labels) + 160),
        **LAYOUT,
    )
    return fig


FREE_AT_USD = 0.01  # where a $0 model sits on the log price axis


def price_chart(table: pd.DataFrame) -> go.Figure:
    """Rating against USD per 1M tokens on a log axis (prices span 1000x); $0 models sit at the left edge. An
    unpriced model is left out (said under the chart)."""
    priced = table[table["usd_per_1m_tokens"].notna()]
    fig = go.Figure()
    for openness, part in priced.groupby("openness", sort=False):
        price = part["usd_per_1m_tokens"].astype(float)
        fig.add_scatter(
            x=price.clip(lower=FREE_AT_USD),
            y=part["rating"],
            mode="markers+text",
            text=part["name"],
            textposition=["top right" if i % 2 else "bottom right" for i in range(len(part))],
            textfont=dict(size=11),
            name=_(openness),
            marker=dict(size=13, color=COLOURS.get(openness, COLOURS["unknown"])),
            error_y=dict(
                type="data",
                symmetric=False,
                array=part["upper"] - part["rating"],
                arrayminus=part["rating"] - part["lower"],
            ),
            customdata=[format_usd(p) for p in price],
            hovertemplate="%{text}: %{y:.0f} at %{customdata} per 1M tokens<extra></extra>",
        )
    fig.update_layout(
        title=_("Rating against price"),
        xaxis=dict(
            type="log",
            dtick=1,
            tickprefix="$",
            tickformat="~r",
            title=_("USD per 1M tokens, log scale ($0 drawn at $0.01)"),
        ),
        yaxis_title=_("rating"),
        height=460,
        **LAYOUT,
    )
    return fig


@st.cache_data(max_entries=32, show_spinner=False)
def _board(
    _catalog: Catalog,
    votes: pd.DataFrame,
    hourly_usd: float,
    speeds: dict[str, float],
    rounds: int,
    answers: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """The fit is the costly part of a live view's rerun: it is redone only when the votes (or prices) change."""
    return arena.leaderboard(_catalog, votes, hourly_usd, speeds, rounds=rounds, answers=answers)


def style_control(catalog: Catalog, votes: pd.DataFrame, plain: pd.DataFrame, answers: dict, rounds: int) -> None:
    """Chatbot Arena's style control: the same votes fitted again with answer length and Markdown (headers, lists,
    bold) as covariates, beside the plain fit, so a class sees what style alone was winning."""
    rated = arena.rated_votes(votes)[["battle_id", "model_a", "model_b", "choice"]]
    styled = _board(catalog, rated.assign(anonymous=True), 0.0, {}, rounds, answers)
    if styled.empty:
        st.info(_("No rated battle has both answers stored, so style cannot be accounted for."))
        return
    left, right = st.columns(2)
    left.plotly_chart(ratings_chart(plain).update_layout(title=_("Plain ratings")), key="plain_ratings")
    right.plotly_chart(ratings_chart(styled).update_layout(title=_("Style-controlled ratings")), key="style_ratings")
    st.caption(
        _(
            "Style-controlled: the {n} rated battles whose answers are stored, fitted with the differences in length, "
            "headers, lists and bold between the two answers as covariates. A model that won on style alone moves "
            "toward the middle."
        ).format(n=int(styled["battles"].sum() // 2))
    )


def render_leaderboard(
    catalog: Catalog,
    votes: pd.DataFrame,
    hourly_usd: float,
    speeds: dict[str, float],
    rounds: int,
    answers: dict[tuple[str, str], str] | None = None,
) -> None:
    """Everything the votes say, or what to do when there are none yet. ``answers`` (``arena.battle_answers``)
    offers the style-controlled fit beside the plain one."""
    if votes.empty:
        st.info(_("No votes yet. Battles in the Arena page (or a room's blind exercise) fill this board."))
        return
    table = _board(
        catalog, votes[["battle_id", "model_a", "model_b", "choice", "anonymous"]], hourly_usd, speeds, rounds
    )
    rated = arena.rated_votes(votes)
    openness = {m.id: m.openness for m in catalog.models.values()}
    share = arena.open_vs_closed(rated, openness)
    a, b, c = st.columns(3)
    a.metric(_("Votes"), len(votes), help=_("Every vote cast, named or not."))
    b.metric(
        _("Counted for ratings"), len(rated), help=_("Votes on answers that did not name their own model or vendor.")
    )
    if share is None:
        c.metric(_("Open beat closed"), "–", help=_("No open-vs-closed battle has a vote yet."))
    else:
        c.metric(
            _("Open beat closed"),
            f"{share.rate:.0%}",
            help=_("95% interval {low:.0%} to {high:.0%}, from {n} battles (a tie counts half).").format(
                low=share.lower, high=share.upper, n=share.battles
            ),
        )
        st.caption(
            _(
                "Open models won {rate:.0%} of their battles against closed ones (95% interval {low:.0%} to {high:.0%}, {n} battles)."
            ).format(rate=share.rate, low=share.lower, high=share.upper, n=share.battles)
        )
    if table.empty:
        st.info(_("Every vote so far named a model, so none counts for the ratings yet."))
        return
    if answers is not None and st.toggle(
        _("Style control"), key="leaderboard_style", help=_("Account for answer length and Markdown in the ratings.")
    ):
        style_control(catalog, votes, table, answers, rounds)
    else:
        st.plotly_chart(ratings_chart(table))
    if len(rated) < FEW_VOTES:
        st.caption(
            _("With fewer than {n} votes the intervals are not worth much yet: every vote moves the board.").format(
                n=FEW_VOTES
            )
        )
    shown = table.assign(
        openness=[_(o) for o in table["openness"]],
        interval=[
            _("not enough votes") if few else f"{lo:.0f} – {hi:.0f}"
            for lo, hi, few in zip(table["lower"], table["upper"], too_few(table))
        ],
        price=[format_usd(p) if p is not None and pd.notna(p) else _("unpriced") for p in table["usd_per_1m_tokens"]],
    )
    st.dataframe(
        shown[["name", "openness", "rating", "interval", "battles", "wins", "ties", "losses", "price"]],
        hide_index=True,
        column_config={
            "name": _("Model"),
            "openness": _("Openness"),
            "rating": st.column_config.NumberColumn(_("rating"), format="%.0f"),
            "interval": _("95% interval"),
            "battles": _("battles"),
            "wins": _("wins"),
            "ties": _("ties"),
            "losses": _("losses"),
            "price": _("USD / 1M tokens"),
        },
    )
    if table["usd_per_1m_tokens"].notna().any():  # an empty log axis from $0.1 to $100000 says nothing
        st.plotly_chart(price_chart(table))
    st.caption(
        _(
            "APIs: genai-prices for 3 input tokens to 1 output token. Local models: the hardware rate in the sidebar over the time they take to write 1M tokens at the speed measured here."
        )
    )
    if unpriced := list(table.loc[table["usd_per_1m_tokens"].isna(), "name"]):
        st.caption(_("Not on the price chart (no price known): {names}.").format(names=format_names(unpriced)))
    rates, played = arena.win_rates(rated)
    st.plotly_chart(win_rate_chart(rates, played, dict(zip(table["model_id"], table["name"]))))
