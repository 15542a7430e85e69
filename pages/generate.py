"""Generate: a conversation with 2-4 models at once, each column keeping its own thread and streaming."""

from dataclasses import replace

import streamlit as st

from components import chat_view
from components.links import linked, seed_choice
from components.model_picker import pick_models
from components.session import credentials, get_catalog, rerun_started
from playground import GenParams
from playground.i18n import _

SAME_WEIGHTS_THREE_RUNTIMES = ["smollm2-135m", "smollm2-135m-int4", "smollm2-135m-ov-int4"]

arrived = rerun_started()  # the click's rerun began in app.py: the sidebar and the widgets are part of the wait
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
    help=_("Run starts a new conversation with this message; follow-ups go in the box at the bottom."),
)
# Run right under the prompt: on a phone the settings below stack into a tall column, a screen or more
run = st.button(_("Run"), type="primary", disabled=not model_ids, key="generate_run")
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
    seed=seed_choice(far, "generate"),
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

ask = chat_view.asking(session_credentials, system, {m: overrides.get(m, shared) for m in model_ids})
conversation = chat_view.conversation_for(model_ids)
if run:
    if not prompt.strip():
        st.warning(_("Write a prompt first: the models have nothing to answer."))
    else:
        conversation = chat_view.start_over(model_ids)
        conversation.send(prompt, ask, arrived=arrived)
if message := st.chat_input(
    _("Ask every model a follow-up"), disabled=not model_ids, submit_mode="disable", key="generate_chat"
):
    conversation.send(message, ask, arrived=arrived)
chat_view.show(catalog, conversation, ask)
