"""What the classify page draws: a label with its probability bars, the agreement line, and the batch report
(metrics table, accuracy against latency and cost, confusion matrices, CSV download)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.charts import LEGEND_BELOW
from components.language import openness_words
from components.settings import hourly_rate
from playground import Catalog, LabelledSet, ModelEvaluation, Result, format_usd, prediction_rows
from playground.classify import agreement, same_labels
from playground.formatting import format_percent_value, format_seconds
from playground.i18n import _

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10))


def probability_chart(scores: dict[str, float]) -> go.Figure:
    labels = list(scores)[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(x=[scores[label] for label in labels], y=labels, orientation="h", texttemplate="%{x:.0%}"))
    fig.update_layout(
        xaxis=dict(range=[0, 1], tickformat=".0%"), height=70 + 26 * len(labels), margin=dict(l=10, r=10, t=10, b=10)
    )
    return fig


def show_label(result: Result) -> None:
    """The result card's body for classification: the label, then the probabilities or why there are none."""
    if result.label is None:
        st.markdown(_("**No label**: the answer did not name exactly one of the labels."))
        st.caption(_("Answer: {answer}").format(answer=result.text.strip()[:300] or _("(empty)")))
        return
    st.markdown(f"#### {result.label}")
    if result.scores:
        st.plotly_chart(
            probability_chart(result.scores), key=f"probabilities_{result.model_id}", config={"displayModeBar": False}
        )
    else:
        st.caption(_("Confidence unknown: this endpoint returned no logprobs, so no probability is shown."))


def show_agreement(catalog: Catalog, finals: dict, labels: tuple[str, ...]) -> None:
    """All agree, or who said what; fine-tuned models answering in their own label set are named apart."""
    if len(finals) < 2:
        return
    said, apart = {}, []
    for model_id, final in finals.items():
        if not isinstance(final, Result):
            continue
        name = catalog.get(model_id).display_name
        if final.extra.get("own_labels"):
            apart.append(name)
        else:
            said[name] = final.label
    line = agreement(said)
    if apart:
        line += " " + _("Left out, as they answer in their own labels: {models}.").format(models=", ".join(apart))
    st.info(line, icon=":material/how_to_vote:")


def fixed_label_notes(catalog: Catalog, model_ids: list[str], labels: tuple[str, ...]) -> None:
    """Say up front when a fine-tuned model cannot answer in the chosen labels."""
    for model_id in model_ids:
        spec = catalog.get(model_id)
        if spec.labels and not same_labels(spec.labels, labels):
            st.caption(
                ":material/info: "
                + _(
                    "{model} is fine-tuned on its own labels ({labels}): it answers in those, and is left out of the "
                    "agreement line and of batch scores."
                ).format(model=spec.display_name, labels=", ".join(spec.labels))
            )


def column_titles() -> dict[str, str]:
    """The summary table's columns (English keys in code) as the reader sees them."""
    return {
        "Model": _("Model"),
        "Openness": _("Openness"),
        "Accuracy": _("Accuracy"),
        "Macro-F1": _("Macro-F1"),
        "Mean latency (s)": _("Mean latency (s)"),
        "Tokens in": _("Tokens in"),
        "Tokens out": _("Tokens out"),
        "Cost (USD)": _("Cost (USD)"),
        "Notes": _("Notes"),
    }


def summary(catalog: Catalog, evaluations: dict[str, ModelEvaluation]) -> pd.DataFrame:
    rows = []
    for model_id, ev in evaluations.items():
        spec = catalog.get(model_id)
        row = {"Model": spec.display_name, "Openness": spec.openness}
        if ev.metrics is None:
            rows.append(row | {"Notes": ev.error})
            continue
        cost = ev.cost
        load = _("Model load: {seconds} (not in latency).").format(seconds=format_seconds(ev.load_s, 1))
        notes = [*ev.notes, load if ev.load_s else ""]
        if cost is not None and cost.usd is None:
            notes.append(_("Unpriced: {reason}.").format(reason=cost.source))
        rows.append(
            row
            | {
                "Accuracy": ev.metrics.accuracy,
                "Macro-F1": ev.metrics.macro_f1,
                "Mean latency (s)": ev.mean_latency_s,
                "Tokens in": ev.total_tokens("input"),
                "Tokens out": ev.total_tokens("output"),
                "Cost (USD)": cost.usd if cost else None,
                "Notes": " ".join(n for n in notes if n),
            }
        )
    return pd.DataFrame(rows)


def accuracy_scatter(
    table: pd.DataFrame, x: str, title: str, log_x: bool = False, y: str = "Accuracy", y_title: str | None = None
) -> go.Figure:
    """One point per model, named in the legend (labels on the points would overlap where models tie). Prompt sets
    plot their pass rate (``y``) the same way."""
    fig = go.Figure()
    for _index, row in table.iterrows():
        openness = _("open") if row["Openness"] == "open" else _("closed")
        fig.add_scatter(
            x=[row[x]],
            y=[row[y]],
            mode="markers",
            name=f"{row['Model']} · {openness}",
            marker=dict(size=13, symbol="circle" if row["Openness"] == "open" else "diamond"),
        )
    money = x == "Cost (USD)"
    fig.update_layout(
        title=title,
        # a log axis labelled at powers of ten only ("0.01", "0.1", "1"), not "9 0.01 2 3 ... 9"; money as "$0.0002",
        # never plotly's SI "200μ"
        xaxis=dict(
            title=column_titles()[x], type="log" if log_x else None, dtick=1 if log_x else None,
            tickformat="~r", tickprefix="$" if money else None,
        ),
        yaxis=dict(title=y_title or _("accuracy"), range=[0, 1.05], tickformat=".0%"),
        height=440,
        # the legend below the axis title, in the figure's own space: it no longer covers the x labels
        legend=LEGEND_BELOW,
        margin=dict(l=10, r=10, t=40, b=110),
    )  # fmt: skip
    return fig


def confusion_chart(name: str, ev: ModelEvaluation) -> go.Figure:
    m = ev.metrics
    fig = go.Figure(
        go.Heatmap(
            z=m.confusion,
            x=m.columns,
            y=m.labels,
            colorscale="Blues",
            showscale=False,
            texttemplate="%{z}",
            hovertemplate=_("true %{y}, predicted %{x}: %{z}") + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{name} · {format_percent_value(m.accuracy)}",
        xaxis_title=_("predicted"),
        yaxis=dict(title=_("true"), autorange="reversed"),
        height=320,
        **LAYOUT,
    )
    return fig


def show_model_table(table: pd.DataFrame, titles: dict[str, str], column_config: dict) -> None:
    """One row per model (a batch evaluation's scores, a prompt set's pass rates), headed and worded in the page's
    language."""
    st.dataframe(
        table.assign(Openness=openness_words(table["Openness"])).rename(columns=titles),
        hide_index=True,
        width="stretch",
        column_config=column_config,
    )


def show_batch_report(catalog: Catalog, data: LabelledSet, evaluations: dict[str, ModelEvaluation]) -> None:
    table = summary(catalog, evaluations)
    titles = column_titles()
    show_model_table(
        table,
        titles,
        {
            titles["Accuracy"]: st.column_config.NumberColumn(format="percent"),
            titles["Macro-F1"]: st.column_config.NumberColumn(format="%.3f"),
            titles["Mean latency (s)"]: st.column_config.NumberColumn(
                format="%.3f",
                help=_("Per text. Local models classify a batch in one pass: its time ÷ the texts in it."),
            ),
            titles["Cost (USD)"]: st.column_config.NumberColumn(
                format="$%.6f", help=_("The whole run. Empty: no price known.")
            ),
        },
    )
    scored = {model_id: ev for model_id, ev in evaluations.items() if ev.metrics is not None}
    if not scored:
        return
    plotted = table.dropna(subset=["Accuracy"])
    left, right = st.columns(2)
    left.plotly_chart(
        accuracy_scatter(plotted, "Mean latency (s)", _("Accuracy against latency per text"), log_x=True),
        key="batch_latency",
    )
    priced = plotted.dropna(subset=["Cost (USD)"])
    if not priced.empty:
        title = _("Accuracy against cost for {n} texts").format(n=len(data.texts))
        right.plotly_chart(accuracy_scatter(priced, "Cost (USD)", title), key="batch_cost")
    for column, (model_id, ev) in zip(st.columns(len(scored)), scored.items()):
        column.plotly_chart(confusion_chart(catalog.get(model_id).display_name, ev), key=f"confusion_{model_id}")
    st.download_button(
        _("Download predictions (CSV)"),
        pd.DataFrame(prediction_rows(data, evaluations)).to_csv(index=False),
        file_name="classification-predictions.csv",
        mime="text/csv",
        key="batch_download",
    )
    st.caption(
        _(
            "Costs: API models priced by genai-prices from their token totals; local models at the sidebar's hardware "
            "rate × wall time ({rate}/h)."
        ).format(rate=format_usd(hourly_rate()))
    )
