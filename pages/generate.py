"""Generate: one prompt, 2-4 models, every column streaming at the same time."""

from dataclasses import replace

import streamlit as st

from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog
from playground import GenParams, Request

st.title("Generate side by side")
catalog = get_catalog()
session_credentials = credentials(catalog)

model_ids = pick_models(catalog, "generate", session_credentials, default=["smollm2-135m", "gpt-4o-mini"], key="generate_models")
prompt = st.text_area("Prompt", value="Explain in two sentences what an open-weight model is.", key="generate_prompt")
system = st.text_input("System prompt (optional)", key="generate_system")

left, middle, right, far = st.columns(4)
shared = GenParams(
    temperature=left.slider("Temperature", 0.0, 2.0, 0.7, 0.05, help="0 = greedy: the same answer every time."),
    top_p=middle.slider("Top-p", 0.05, 1.0, 0.95, 0.05),
    max_new_tokens=right.number_input("Max new tokens", 1, 4096, 128),
    seed=far.number_input("Seed", 0, 2**31 - 1, 0),
)

overrides = {}
with st.expander("Per-model settings"):
    for model_id in model_ids:
        name = catalog.get(model_id).name
        if st.checkbox(f"Own settings for {name}", key=f"override_{model_id}"):
            a, b = st.columns(2)
            overrides[model_id] = replace(
                shared,
                temperature=a.slider("Temperature", 0.0, 2.0, shared.temperature, 0.05, key=f"t_{model_id}"),
                max_new_tokens=b.number_input("Max new tokens", 1, 4096, shared.max_new_tokens, key=f"n_{model_id}"),
            )

if st.button("Run", type="primary", disabled=not model_ids):
    if not prompt.strip():
        st.warning("Write a prompt first: the models have nothing to answer.")
    else:
        requests = {m: Request("generate", prompt=prompt, system=system, params=overrides.get(m, shared)) for m in model_ids}
        st.session_state["generate_outcome"] = render_side_by_side(catalog, model_ids, requests, session_credentials)
elif outcome := st.session_state.get("generate_outcome"):
    render_finished(catalog, outcome)
