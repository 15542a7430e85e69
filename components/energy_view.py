"""Energy on the dashboard: per call and per 1,000 output tokens, open against closed, with where it comes from."""

from __future__ import annotations

import streamlit as st

from components import charts
from playground.formatting import format_count
from playground.i18n import _


def show(runs) -> None:
    """Both energy charts for the runs that have an energy figure, and how each figure was made."""
    known = runs[runs["energy_wh"].notna()] if "energy_wh" in runs else runs.iloc[0:0]
    if known.empty:
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.energy(known), key="chart_energy_per_call")
    right.plotly_chart(charts.energy(known, per_1k_tokens=True), key="chart_energy_per_1k")
    counts = known["energy_source"].value_counts()
    st.caption(
        _(
            "Local runs: measured by the CPU's or GPU's energy counters where the machine has them ({measured} "
            "calls), otherwise estimated from the CPU time the call used, as CodeCarbon does ({cpu} calls). "
            "API runs: EcoLogits' estimate from the model, its output tokens and latency, a range ({api} calls). "
            "Carbon uses the electricity mix set by the admin."
        ).format(
            measured=format_count(int(counts.get("rapl", 0) + counts.get("nvml", 0))),
            cpu=format_count(int(counts.get("cpu-time", 0))),
            api=format_count(int(counts.get("ecologits", 0))),
        )
    )
