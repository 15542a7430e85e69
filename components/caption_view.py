"""The caption page's parts: the image to caption, what a model's card draws by kind of image model, and the sample
set run with its latency table."""

from __future__ import annotations

from textwrap import shorten

import pandas as pd
import streamlit as st

from components.answer import safe_markdown, show_answer
from components.classify_view import probability_chart
from components.language import fixed_labels
from components.links import linked_index
from components.session import get_playground, run_context
from components.settings import run_settings
from playground import (
    SAMPLE_PHOTOS,
    Catalog,
    Credentials,
    ImageError,
    Request,
    caption_samples,
    latency_rows,
    sample_photo,
)
from playground.events import Result
from playground.formatting import format_seconds
from playground.i18n import N_, _, ngettext
from playground.images import open_upload

SOURCES = [N_("Sample photo"), N_("Upload"), N_("Camera")]


def show_caption(result: Result) -> None:
    """A caption; or an ImageNet classifier's top-5 bars; or OCR's text with its boxes; or a pipeline's stages."""
    kind = result.extra.get("kind")
    if kind == "imagenet-labels":
        st.markdown(f"#### {result.label}")
        st.plotly_chart(
            probability_chart(result.scores), key=f"top5_{result.model_id}", config={"displayModeBar": False}
        )
    elif kind == "ocr":
        _show_ocr(result)
    else:
        show_answer(result.text, empty=_("_(empty caption)_"))
    if kind == "pipeline":
        _show_stages(result)
    if sent := result.extra.get("sent_size"):
        w, h = result.extra["image_size"]
        line = _("Image sent as {w}×{h}").format(w=sent[0], h=sent[1])
        if tuple(sent) != (w, h):
            line += " " + _("(downscaled from {w}×{h})").format(w=w, h=h)
        st.caption(line)


def _show_ocr(result: Result) -> None:
    boxes = result.extra.get("boxes", [])
    if result.text:
        st.code(result.text, language=None, wrap_lines=True)
    else:
        st.markdown(_("_No text found in the image._"))
    if boxes:
        mean = sum(b["confidence"] for b in boxes) / len(boxes)
        boxes_read = ngettext("{n} text box", "{n} text boxes", len(boxes)).format(n=len(boxes))
        summary = _("{boxes}, mean confidence {c:.0%}").format(boxes=boxes_read, c=mean)
        st.image(result.extra["annotated"], caption=summary, width="stretch")


def _show_stages(result: Result) -> None:
    """Which model did what, and how long each took: the pipeline's time is theirs added up."""
    lines = []
    for stage in result.extra["stages"]:
        output = shorten(" ".join(stage["output"].split()), 90, placeholder=" …") or _("(nothing)")
        parts = [_("{s:.1f} s loading").format(s=stage["load_s"])] if stage["load_s"] else []
        if stage["queue_s"] >= 0.05:  # another card was using the same model
            parts.append(_("{s:.1f} s waiting for the model").format(s=stage["queue_s"]))
        took = format_seconds(stage["seconds"]) + (
            _(" ({details})").format(details=_(", ").join(parts)) if parts else ""
        )
        lines.append(_("- **{model}** · {took}: {output}").format(model=stage["model"], took=took, output=output))
    st.markdown(safe_markdown("\n".join(lines)))  # the stages quote model outputs
    with st.expander(_("Prompt given to the writer")):
        st.code(result.extra["prompt"], language=None, wrap_lines=True)


def show_sample_latencies(rows: list[dict]) -> None:
    """Seconds per sample photo, one row per model (so it fits beside the cards), with each model's median; what
    each model said is one click away."""
    table = pd.DataFrame(rows)
    seconds = [column for column in table.columns if column.endswith(" (s)")]
    photos = [
        name.split(" (")[0] for name in table[table.columns[0]]
    ]  # "Rocket on the launch pad (NASA)" -> "Rocket..."
    latency = pd.DataFrame({column.removesuffix(" (s)"): list(table[column]) for column in seconds}, index=photos).T
    latency[_("Median")] = latency.median(axis=1)
    st.dataframe(
        latency,
        width="stretch",
        column_config={column: st.column_config.NumberColumn(format="%.2f s") for column in latency.columns},
    )
    st.caption(
        _("Seconds per photo, from the photo's arrival; a model's first photo includes loading it when it was cold.")
    )
    with st.expander(_("What each model said")):
        st.dataframe(table.drop(columns=seconds), hide_index=True, width="stretch")


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


def render_sample_set(catalog: Catalog, model_ids: list[str], template: Request, credentials: Credentials) -> None:
    """Every sample photo, one after the other, with the chosen models side by side on each: latency per photo."""
    st.subheader(_("Caption the sample set"))
    st.caption(
        _("Every sample photo, one after the other, with the models above side by side on each: latency per photo.")
    )
    batch_label = _("Caption all {n} sample photos").format(n=len(SAMPLE_PHOTOS))
    if st.button(batch_label, disabled=not model_ids, key="caption_batch"):
        bar = st.progress(0.0, text=_("Starting..."))
        done = []
        runs = caption_samples(
            get_playground(), model_ids, template, credentials, run_context("caption"), run_settings()
        )
        for item in runs:
            done.append(item)
            bar.progress(len(done) / (len(SAMPLE_PHOTOS) * len(model_ids)), text=_(SAMPLE_PHOTOS[item.photo]))
        bar.empty()
        st.session_state["caption_batch_rows"] = latency_rows(catalog, done, model_ids)
    if rows := st.session_state.get("caption_batch_rows"):
        show_sample_latencies(rows)
