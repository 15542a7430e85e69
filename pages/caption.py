"""Caption: one image, 2-4 models describing it side by side (local captioners, a small VLM, API vision models)."""

import streamlit as st

from components.answer import show_answer
from components.model_picker import pick_models
from components.run_view import render_finished, render_side_by_side
from components.session import credentials, get_catalog
from playground.backends.base import GenParams, Request, Result
from playground.backends.local_caption import DEFAULT_INSTRUCTION
from playground.images import SAMPLE_PHOTOS, ImageError, fit_within, open_upload, sample_photo

st.title("Caption side by side")
catalog = get_catalog()
session_credentials = credentials(catalog)

model_ids = pick_models(
    catalog, "caption", session_credentials, default=["blip-base", "smolvlm-256m", "gpt-4o-mini"], key="caption_models"
)


def chosen_image():
    """The image to caption and a line saying where it came from, or (None, message) when there is none."""
    source = st.radio("Image", ["Sample photo", "Upload", "Camera"], horizontal=True, key="caption_source")
    if source == "Sample photo":
        name = st.selectbox("Sample photo", list(SAMPLE_PHOTOS), format_func=SAMPLE_PHOTOS.get, key="caption_sample")
        return sample_photo(name), f"{SAMPLE_PHOTOS[name]} (scikit-image sample)"
    if source == "Upload":
        upload = st.file_uploader("Upload an image", type=["png", "jpg", "jpeg", "webp", "gif"], key="caption_upload")
    else:
        upload = st.camera_input("Take a photo", key="caption_camera")
    if upload is None:
        return None, "Upload an image or take a photo to caption."
    try:
        opened = open_upload(upload.getvalue(), upload.name)
    except ImageError as exc:
        st.error(str(exc))
        return None, ""
    return opened.image, "; ".join([upload.name, *opened.notes])


left, right = st.columns([3, 2])
with left:
    image, origin = chosen_image()
    instruction = st.text_input(
        "Instruction",
        value=DEFAULT_INSTRUCTION,
        key="caption_instruction",
        help="SmolVLM and API models follow it. Captioners (BLIP, ViT-GPT2, GIT) always describe the image and ignore it.",
    )
    a, b = st.columns(2)
    params = GenParams(
        temperature=a.slider("Temperature", 0.0, 2.0, 0.0, 0.05, key="caption_temperature", help="0 = greedy: the same caption every time."),
        max_new_tokens=b.number_input("Max new tokens", 1, 512, 40, key="caption_max_tokens"),
    )
with right:
    if image is not None:
        # a small preview: a 12 MP upload is sent to the browser as a few hundred KB, not megabytes
        st.image(fit_within(image, 720), caption=f"{origin} · {image.width}×{image.height}", width=360)
    elif origin:
        st.info(origin)


def show_caption(result: Result) -> None:
    show_answer(result.text, empty="_(empty caption)_")
    if sent := result.extra.get("sent_size"):
        w, h = result.extra["image_size"]
        st.caption(f"Image sent as {sent[0]}×{sent[1]}" + (f" (downscaled from {w}×{h})" if tuple(sent) != (w, h) else ""))


if st.button("Caption", type="primary", disabled=not model_ids or image is None):
    request = Request("caption", prompt=instruction, image=image, params=params)
    st.session_state["caption_outcome"] = render_side_by_side(catalog, model_ids, request, session_credentials, show_caption)
elif outcome := st.session_state.get("caption_outcome"):
    render_finished(catalog, outcome, show_caption)
