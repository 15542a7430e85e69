"""One picker for every page: the catalog's models for a task, labelled open or closed and with readiness."""

from __future__ import annotations

import streamlit as st

from playground import Catalog, Credentials, availability


def pick_models(
    catalog: Catalog,
    task: str,
    credentials: Credentials,
    default: list[str],
    key: str,
    fallback: list[str] | None = None,
) -> list[str]:
    """``fallback``: models that take the place of defaults that cannot run here (no key, not downloaded offline)."""
    models = catalog.for_task(task)
    status = {m.id: availability(catalog, m, credentials) for m in models}
    if fallback is not None:
        runnable = [m for m in default if m in status and status[m].ready]
        spare = [m for m in fallback if m in status and status[m].ready and m not in runnable]
        default = (runnable + spare)[: len(default)]

    def label(model_id: str) -> str:
        spec, state = catalog.get(model_id), status[model_id]
        return f"{spec.label} · {state.status}" if state.status != "ready" else spec.label

    # ?models=a,b in the URL preselects models: an instructor can hand out one link per comparison
    if linked := st.query_params.get("models"):
        default = linked.split(",")
    chosen = st.multiselect(
        "Models (pick 2 to 4)",
        options=[m.id for m in models],
        default=[d for d in default if d in status][:4],
        format_func=label,
        max_selections=4,
        key=key,
        help="Open models run on this machine or your own server; closed models are reached through their API.",
    )
    if len(chosen) == 1:
        st.caption("Add a second model to compare side by side.")
    return chosen
