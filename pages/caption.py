"""Caption: one image, 2-4 models describing it side by side (local captioners, a small VLM, API vision models, and
the embedded image models: an ImageNet classifier, OCR and a pipeline that phrases their findings)."""

import streamlit as st

from components.caption_view import show_caption, show_sample_latencies
from components.language import fixed_labels
from components.links import linked_index
from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog, get_playground, run_context
from components.settings import run_settings
from playground import (
    DEFAULT_CAPTION_INSTRUCTION,
    SAMPLE_PHOTOS,
    GenParams,
    ImageError,
    Request,
    caption_samples,
    fit_within,
    latency_rows,
    sample_photo,
)
from playground.i18n import N_, _, pgettext
from playground.images import open_upload

SOURCES = [N_("Sample photo"), N_("Upload"), N_("Camera")]

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


def chosen_image():
    """The image to caption and a line saying where it came from, or (None, message) when there is none."""
    source = st.radio(_("Image"), SOURCES, format_func=fixed_labels(SOURCES), horizontal=True, key="caption_source")
    if source == "Sample photo":
        name = st.selectbox(
            _("Sample photo"),
            list(SAMPLE_PHOTOS),
            index=linked_index("sample", list(SAMPLE_PHOTOS)),
            format_func=fixed_labels(SAMPLE_PHOTOS, lambda name: _(SAMPLE_PHOTOS[name])),
            key="caption_sample",
        )
        return sample_photo(name), _("{photo} (scikit-image sample)").format(photo=_(SAMPLE_PHOTOS[name]))
    if source == "Upload":
        upload = st.file_uploader(
            _("Upload an image"), type=["png", "jpg", "jpeg", "webp", "gif"], key="caption_upload"
        )
    else:
        upload = st.camera_input(_("Take a photo"), key="caption_camera")
    if upload is None:
        return None, _("Upload an image or take a photo to caption.")
    try:
        opened = open_upload(upload.getvalue(), upload.name)  # decoded once, not on every rerun
    except ImageError as exc:
        st.error(str(exc))
        return None, ""
    return opened.image, "; ".join([upload.name, *opened.notes])


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
st.subheader(_("Caption the sample set"))
st.caption(_("Every sample photo, one after the other, with the models above side by side on each: latency per photo."))
batch_label = _("Caption all {n} sample photos").format(n=len(SAMPLE_PHOTOS))
if st.button(batch_label, disabled=not model_ids, key="caption_batch"):
    template = Request("caption", prompt=instruction, params=params)
    bar = st.progress(0.0, text=_("Starting..."))
    done = []
    runs = caption_samples(
        get_playground(), model_ids, template, session_credentials, run_context("caption"), run_settings()
    )
    for item in runs:
        done.append(item)
        bar.progress(len(done) / (len(SAMPLE_PHOTOS) * len(model_ids)), text=SAMPLE_PHOTOS[item.photo])
    bar.empty()
    st.session_state["caption_batch_rows"] = latency_rows(catalog, done, model_ids)
if rows := st.session_state.get("caption_batch_rows"):
    show_sample_latencies(rows)
