"""What the caption page draws in a model's card, by kind of image model, and the sample-set latency table."""

from __future__ import annotations

from textwrap import shorten

import pandas as pd
import streamlit as st

from components.answer import safe_markdown, show_answer
from components.classify_view import probability_chart
from playground.events import Result
from playground.formatting import format_seconds
from playground.i18n import _, ngettext


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
