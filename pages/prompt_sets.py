"""Prompt sets: many prompts on several models, with checks on every answer, in a matrix."""

import streamlit as st

from components.model_picker import pick_models
from components.prompt_sets_view import choose_set, show_run, shown_run_id, start
from components.session import credentials, get_catalog
from playground import GenParams, InputError
from playground.i18n import _

st.title(_("Prompt sets"))
st.caption(
    _(
        "Which model gets your prompts right, at what cost and speed? Every prompt runs on every model you pick, "
        "and each answer is checked. The run keeps going on the server if you close this tab: its link brings it back."
    )
)
catalog = get_catalog()
session_credentials = credentials(catalog)
run_id = shown_run_id()

with st.expander(_("New run"), expanded=run_id is None):
    prompt_set = choose_set(catalog)
    model_ids = pick_models(
        catalog,
        "generate",
        session_credentials,
        default=["smollm2-135m", "smollm2-135m-int4"],
        key="prompt_sets_models",
        fallback=["smollm2-135m"],
    )
    left, right = st.columns(2)
    params = GenParams(
        temperature=left.slider(_("Temperature"), 0.0, 2.0, 0.0, 0.05, key="prompt_sets_temperature"),
        max_new_tokens=right.number_input(_("Max new tokens"), 1, 4096, 64, key="prompt_sets_max_tokens"),
    )
    if st.button(_("Run the set"), type="primary", disabled=not model_ids or prompt_set is None, key="prompt_sets_run"):
        try:
            start(prompt_set, model_ids, params, session_credentials)
        except InputError as exc:
            st.error(exc.message)
        else:
            st.rerun()

if run_id:
    show_run(catalog, run_id, session_credentials)
