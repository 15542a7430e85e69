"""One picker for every page: the catalog's models for a task, labelled open or closed and with readiness.

Under the choice, one button per chosen model opens its openness card (its icon says where the prompt goes).
Deep links preselect: ``?models=a,b`` the models, ``?lesson=x`` shows that Learn-page lesson above them.
"""

from __future__ import annotations

import streamlit as st

from components.language import fixed_labels
from components.openness_card import card_popover, lesson_banner
from playground import READY, Catalog, Credentials, availability
from playground.i18n import _


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
        return spec.label if state.state == READY else f"{spec.label} · {state.status}"

    # ?models=a,b in the URL preselects models: an instructor can hand out one link per comparison
    if linked := st.query_params.get("models"):
        default = list(dict.fromkeys(m.strip() for m in linked.split(",")))  # a model named twice is one model
    chosen = st.multiselect(
        _("Models (pick 2 to 4)"),
        options=[m.id for m in models],
        default=[d for d in default if d in status][:4],
        format_func=fixed_labels([m.id for m in models], label),
        max_selections=4,
        key=key,
        placeholder=_("Choose models"),
        select_all=False,  # its "Select all" is English in every language, and 4 is the most
        help=_("Open models run on this machine or your own server; closed models are reached through their API."),
    )
    if len(chosen) == 1:
        st.caption(_("Add a second model to compare side by side."))
    if chosen:
        for column, model_id in zip(st.columns(len(chosen)), chosen):
            with column:
                card_popover(catalog, catalog.get(model_id), key=f"{key}_card_{model_id}")
    if lesson := st.query_params.get("lesson"):
        lesson_banner(catalog, lesson, chosen, status)
    return chosen
