"""Generate: one prompt, 2-4 models, every column streaming at the same time."""

import time
from dataclasses import replace

import streamlit as st

from components.links import linked
from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog
from playground import GenParams, Request
from playground.i18n import _

arrived = time.perf_counter()  # the click's rerun starts here: drawing the widgets below is part of the wait
SAME_WEIGHTS_THREE_RUNTIMES = ["smollm2-135m", "smollm2-135m-int4", "smollm2-135m-ov-int4"]

st.title(_("Generate side by side"))
catalog = get_catalog()
session_credentials = credentials(catalog)

st.button(
    _("Same weights, three runtimes"),
    icon=":material/compare_arrows:",
    on_click=lambda: st.session_state.update(generate_models=SAME_WEIGHTS_THREE_RUNTIMES),
    help=_(
        "SmolLM2-135M as fp32 on transformers next to the same weights as int4 on ONNX Runtime GenAI and on "
        "OpenVINO GenAI: how much faster quantized open weights run on this machine, and what it costs in quality."
    ),
    key="generate_three_runtimes",
)
model_ids = pick_models(
    catalog,
    "generate",
    session_credentials,
    default=["smollm2-135m-ov-int4", "gpt-4o-mini"],
    key="generate_models",
    fallback=["smollm2-135m"],
)
prompt = st.text_area(
    _("Prompt"),
    value=linked("prompt", _("Explain in two sentences what an open-weight model is.")),
    key="generate_prompt",
)
system = st.text_input(_("System prompt (optional)"), value=linked("system", ""), key="generate_system")

left, middle, right, far = st.columns(4)
shared = GenParams(
    temperature=left.slider(
        _("Temperature"),
        0.0,
        2.0,
        0.7,
        0.05,
        help=_("0 = greedy: the same answer every time."),
        key="generate_temperature",
    ),
    top_p=middle.slider(_("Top-p"), 0.05, 1.0, 0.95, 0.05, key="generate_top_p"),
    max_new_tokens=right.number_input(_("Max new tokens"), 1, 4096, 128, key="generate_max_tokens"),
    seed=far.number_input(_("Seed"), 0, 2**31 - 1, 0, key="generate_seed"),
)

overrides = {}
with st.expander(_("Per-model settings")):
    for model_id in model_ids:
        name = catalog.get(model_id).display_name
        if st.checkbox(_("Own settings for {name}").format(name=name), key=f"override_{model_id}"):
            a, b = st.columns(2)
            overrides[model_id] = replace(
                shared,
                temperature=a.slider(_("Temperature"), 0.0, 2.0, shared.temperature, 0.05, key=f"t_{model_id}"),
                max_new_tokens=b.number_input(_("Max new tokens"), 1, 4096, shared.max_new_tokens, key=f"n_{model_id}"),
            )

if st.button(_("Run"), type="primary", disabled=not model_ids, key="generate_run"):
    if not prompt.strip():
        st.warning(_("Write a prompt first: the models have nothing to answer."))
    else:
        requests = {
            m: Request("generate", prompt=prompt, system=system, params=overrides.get(m, shared), arrived=arrived)
            for m in model_ids
        }
        st.session_state["generate_outcome"] = render_side_by_side(catalog, model_ids, requests, session_credentials)
elif outcome := st.session_state.get("generate_outcome"):
    render_finished(catalog, outcome)
