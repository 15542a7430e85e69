"""Classify: one text, or a labelled set, through zero-shot, fine-tuned and LLM classifiers side by side."""

import streamlit as st

from components.classify_batch import CUSTOM, render_batch
from components.classify_view import fixed_label_notes, show_agreement, show_label
from components.language import fixed_labels
from components.links import linked, linked_index
from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog
from playground import (
    PRESETS,
    InputError,
    Request,
    check_labels,
    check_text,
    parse_labels,
)
from playground.i18n import _

st.title(_("Classify side by side"))
catalog = get_catalog()
session_credentials = credentials(catalog)

model_ids = pick_models(
    catalog,
    "classify",
    session_credentials,
    default=["minilm-zero-shot", "smollm2-135m", "distilbert-sst2", "gpt-4o-mini"],
    key="classify_models",
    fallback=[m.id for m in catalog.for_task("classify") if m.is_local],  # offline: runnable local ones instead
)
preset = st.radio(
    _("Labels"),
    [*PRESETS, CUSTOM],
    index=linked_index("preset", [*PRESETS, CUSTOM]),
    horizontal=True,
    key="classify_preset",
    format_func=fixed_labels(
        [*PRESETS, CUSTOM],
        lambda p: (
            _("Custom")
            if p == CUSTOM
            else _("{name}: {labels}").format(name=_(PRESETS[p].name), labels=", ".join(PRESETS[p].labels))
        ),
    ),
)
labels = None
try:
    if preset == CUSTOM:
        typed = st.text_input(
            _("Your labels, separated by commas"), value="question, complaint, praise", key="classify_custom_labels"
        )
        labels = check_labels(parse_labels(typed))
    else:
        labels = PRESETS[preset].labels
except InputError as exc:
    st.error(str(exc))
if labels:
    fixed_label_notes(catalog, model_ids, labels)

one_text, batch = st.tabs([_("One text"), _("Batch evaluation")])

with one_text:
    text = st.text_area(
        _("Text"),
        value=linked("text", "The battery died after a week and the shop refused to replace it."),
        key="classify_text",
    )
    if st.button(_("Classify"), type="primary", disabled=not model_ids or labels is None, key="classify_run"):
        try:
            check_text(text)
        except InputError as exc:
            st.warning(str(exc))
        else:
            request = Request("classify", prompt=text, labels=labels)
            outcome = render_side_by_side(catalog, model_ids, request, session_credentials, show_label)
            st.session_state["classify_outcome"] = (outcome, labels)
            show_agreement(catalog, outcome.finals, labels)
    elif stored := st.session_state.get("classify_outcome"):
        render_finished(catalog, stored[0], show_label)
        show_agreement(catalog, stored[0].finals, stored[1])


with batch:
    render_batch(catalog, model_ids, labels, preset, session_credentials)
