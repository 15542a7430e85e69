"""What the classify page draws: a label with its probability bars, the agreement line, and the batch report
(metrics table, accuracy against latency and cost, confusion matrices, CSV download)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.costs import hourly_rate
from playground import Catalog, LabelledSet, ModelEvaluation, Result, format_usd, prediction_rows
from playground.classify import agreement, same_labels

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10))


def probability_chart(scores: dict[str, float]) -> go.Figure:
    labels = list(scores)[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(x=[scores[label] for label in labels], y=labels, orientation="h", texttemplate="%{x:.0%}"))
    fig.update_layout(xaxis=dict(range=[0, 1], tickformat=".0%"), height=70 + 26 * len(labels), margin=dict(l=10, r=10, t=10, b=10))
    return fig


def show_label(result: Result) -> None:
    """The result card's body for classification: the label, then the probabilities or why there are none."""
    if result.label is None:
        st.markdown("**No label**: the answer did not name exactly one of the labels.")
        st.caption(f"Answer: {result.text.strip()[:300] or '(empty)'}")
        return
    st.markdown(f"#### {result.label}")
    if result.scores:
        st.plotly_chart(probability_chart(result.scores), key=f"probabilities_{result.model_id}", config={"displayModeBar": False})
    else:
        st.caption("Confidence unknown: this endpoint returned no logprobs, so no probability is shown.")


def show_agreement(catalog: Catalog, finals: dict, labels: tuple[str, ...]) -> None:
    """All agree, or who said what; fine-tuned models answering in their own label set are named apart."""
    if len(finals) < 2:
        return
    said, apart = {}, []
    for model_id, final in finals.items():
        if not isinstance(final, Result):
            continue
        name = catalog.get(model_id).name
        if final.extra.get("own_labels"):
            apart.append(name)
        else:
            said[name] = final.label
    line = agreement(said)
    if apart:
        line += f" Left out, as they answer in their own labels: {', '.join(apart)}."
    st.info(line, icon=":material/how_to_vote:")


def fixed_label_notes(catalog: Catalog, model_ids: list[str], labels: tuple[str, ...]) -> None:
    """Say up front when a fine-tuned model cannot answer in the chosen labels."""
    for model_id in model_ids:
        spec = catalog.get(model_id)
        if spec.labels and not same_labels(spec.labels, labels):
            st.caption(
                f":material/info: {spec.name} is fine-tuned on its own labels ({', '.join(spec.labels)}): it answers "
                "in those, and is left out of the agreement line and of batch scores."
            )


def summary(catalog: Catalog, evaluations: dict[str, ModelEvaluation]) -> pd.DataFrame:
    rows = []
    for model_id, ev in evaluations.items():
        spec = catalog.get(model_id)
        row = {"Model": spec.name, "Openness": spec.openness}
        if ev.metrics is None:
            rows.append(row | {"Notes": ev.error})
            continue
        cost = ev.cost
        notes = [*ev.notes, f"Model load: {ev.load_s:.1f} s (not in latency)." if ev.load_s else ""]
        if cost is not None and cost.usd is None:
            notes.append(f"Unpriced: {cost.source}.")
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


def accuracy_scatter(table: pd.DataFrame, x: str, title: str, log_x: bool = False) -> go.Figure:
    """One point per model, named in the legend (labels on the points would overlap where models tie)."""
    fig = go.Figure()
    for _, row in table.iterrows():
        fig.add_scatter(x=[row[x]], y=[row["Accuracy"]], mode="markers", name=f"{row['Model']} · {row['Openness']}",
                        marker=dict(size=13, symbol="circle" if row["Openness"] == "open" else "diamond"))
    fig.update_layout(title=title, xaxis_title=x, yaxis=dict(title="accuracy", range=[0, 1.05], tickformat=".0%"),
                      xaxis_type="log" if log_x else None, height=400, legend=dict(orientation="h", y=-0.25), **LAYOUT)
    return fig


def confusion_chart(name: str, ev: ModelEvaluation) -> go.Figure:
    m = ev.metrics
    fig = go.Figure(go.Heatmap(z=m.confusion, x=m.columns, y=m.labels, colorscale="Blues", showscale=False,
                               texttemplate="%{z}", hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=f"{name} · {m.accuracy:.0%}", xaxis_title="predicted", yaxis=dict(title="true", autorange="reversed"),
                      height=320, **LAYOUT)
    return fig


def show_batch_report(catalog: Catalog, data: LabelledSet, evaluations: dict[str, ModelEvaluation]) -> None:
    table = summary(catalog, evaluations)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Accuracy": st.column_config.NumberColumn(format="percent"),
            "Macro-F1": st.column_config.NumberColumn(format="%.3f"),
            "Mean latency (s)": st.column_config.NumberColumn(
                format="%.3f", help="Per text. Local models classify a batch in one pass: its time ÷ the texts in it."
            ),
            "Cost (USD)": st.column_config.NumberColumn(format="$%.6f", help="The whole run. Empty: no price known."),
        },
    )
    scored = {model_id: ev for model_id, ev in evaluations.items() if ev.metrics is not None}
    if not scored:
        return
    plotted = table.dropna(subset=["Accuracy"])
    left, right = st.columns(2)
    left.plotly_chart(accuracy_scatter(plotted, "Mean latency (s)", "Accuracy against latency per text", log_x=True), key="batch_latency")
    priced = plotted.dropna(subset=["Cost (USD)"])
    if not priced.empty:
        right.plotly_chart(accuracy_scatter(priced, "Cost (USD)", f"Accuracy against cost for {len(data.texts)} texts"), key="batch_cost")
    for column, (model_id, ev) in zip(st.columns(len(scored)), scored.items()):
        column.plotly_chart(confusion_chart(catalog.get(model_id).name, ev), key=f"confusion_{model_id}")
    st.download_button(
        "Download predictions (CSV)",
        pd.DataFrame(prediction_rows(data, evaluations)).to_csv(index=False),
        file_name="classification-predictions.csv",
        mime="text/csv",
        key="batch_download",
    )
    st.caption(f"Costs: API models priced by genai-prices from their token totals; local models at the sidebar's hardware rate × wall time ({format_usd(hourly_rate())}/h).")

