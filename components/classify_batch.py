"""Classify's batch evaluation: a built-in sample or an uploaded CSV through each chosen classifier, with progress,
then the report (accuracy, macro-F1, confusion matrices, accuracy against latency and cost)."""

from __future__ import annotations

import streamlit as st

from components.classify_view import show_batch_report
from components.language import fixed_labels
from components.session import get_playground, run_context
from components.settings import run_settings
from playground import Catalog, Credentials, InputError, load_sample, read_labelled_csv
from playground.i18n import N_, _

CUSTOM = "custom"  # the label preset of the user's own labels
BATCH_SOURCES = [N_("Built-in sample"), N_("Upload a CSV")]


def labelled_set(preset: str, labels: tuple[str, ...] | None):
    """The texts to evaluate on, or None (having said why)."""
    source = st.radio(
        _("Labelled texts"),
        BATCH_SOURCES,
        format_func=fixed_labels(BATCH_SOURCES),
        horizontal=True,
        key="classify_batch_source",
    )
    if source == "Built-in sample":
        if preset == CUSTOM:
            st.info(_("Built-in samples go with the Sentiment and AG-News presets. For your own labels, upload a CSV."))
            return None
        data = load_sample(preset)
        st.caption(
            _("{n} short texts written for this playground, labelled {labels}.").format(
                n=len(data.texts), labels=", ".join(labels)
            )
        )
        return data
    upload = st.file_uploader(_("CSV with a header row: text,label (UTF-8)"), type=["csv"], key="classify_upload")
    if upload is None or labels is None:
        return None
    try:
        data = read_labelled_csv(upload.getvalue(), labels)
    except InputError as exc:
        st.error(f"{upload.name}: {exc}")
        return None
    for warning in data.warnings:
        st.warning(warning)
    st.caption(_("{file}: {n} labelled texts.").format(file=upload.name, n=len(data.texts)))
    return data


def render_batch(catalog: Catalog, model_ids: list[str], labels, preset: str, credentials: Credentials) -> None:
    """The batch tab: a labelled set through every chosen model, with progress, then the report."""
    data = labelled_set(preset, labels)
    if st.button(_("Evaluate"), type="primary", disabled=not model_ids or data is None, key="classify_evaluate"):
        bar = st.progress(0.0, text=_("Starting..."))
        order = {model_id: i for i, model_id in enumerate(dict.fromkeys(model_ids))}

        def progress(model_id: str, done: int, total: int) -> None:
            overall = (order[model_id] + done / total) / len(order)
            bar.progress(
                overall,
                text=_("{model}: {done} / {total} texts").format(
                    model=catalog.get(model_id).display_name, done=done, total=total
                ),
            )

        evaluations = get_playground().evaluate(
            model_ids, data, labels, credentials, run_context("evaluate"), run_settings(), progress
        )
        bar.empty()
        st.session_state["classify_batch"] = (data, evaluations)
    if stored := st.session_state.get("classify_batch"):
        show_batch_report(catalog, *stored)
