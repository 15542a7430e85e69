"""Caption: one image, 2-4 models describing it side by side (local captioners, a small VLM, API vision models, and
the embedded image models: an ImageNet classifier, OCR and a pipeline that phrases their findings)."""

import streamlit as st

from components.caption_view import chosen_image, render_sample_set, show_caption
from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog
from playground import (
    DEFAULT_CAPTION_INSTRUCTION,
    GenParams,
    Request,
    fit_within,
)
from playground.i18n import _, pgettext

st.title(_("Caption side by side"))
catalog = get_catalog()
session_credentials = credentials(catalog)

# they ship on PyPI, so they stand in for the hub and API models on a machine with neither
EMBEDDED_IMAGE_MODELS = ["efficientnet-lite0", "rapidocr", "image-pipeline"]
model_ids = pick_models(
    catalog,
    "caption",
    session_credentials,
    default=["blip-base", "smolvlm-256m", "gpt-4o-mini"],
    key="caption_models",
    fallback=EMBEDDED_IMAGE_MODELS,
)


left, right = st.columns([3, 2])
with left:
    image, origin = chosen_image()
    instruction = st.text_input(
        _("Instruction"),
        value=DEFAULT_CAPTION_INSTRUCTION,
        key="caption_instruction",
        help=_(
            "SmolVLM, API models and the pipeline's writer follow it. Captioners (BLIP, ViT-GPT2, GIT) always describe "
            "the image, the ImageNet classifier names labels and OCR reads text: they ignore it."
        ),
    )
    a, b = st.columns(2)
    params = GenParams(
        temperature=a.slider(
            _("Temperature"),
            0.0,
            2.0,
            0.0,
            0.05,
            key="caption_temperature",
            help=_("0 = greedy: the same caption every time."),
        ),
        max_new_tokens=b.number_input(_("Max new tokens"), 1, 512, 40, key="caption_max_tokens"),
    )
with right:
    if image is not None:
        # a small preview: a 12 MP upload is sent to the browser as a few hundred KB, not megabytes
        st.image(fit_within(image, 720), caption=f"{origin} · {image.width}×{image.height}", width=360)
    elif origin:
        st.info(origin)


if st.button(pgettext("button", "Caption"), type="primary", disabled=not model_ids or image is None):
    request = Request("caption", prompt=instruction, image=image, params=params)
    st.session_state["caption_outcome"] = render_side_by_side(
        catalog, model_ids, request, session_credentials, show_caption
    )
elif outcome := st.session_state.get("caption_outcome"):
    render_finished(catalog, outcome, show_caption)

st.divider()
render_sample_set(catalog, model_ids, Request("caption", prompt=instruction, params=params), session_credentials)
