"""OCR on the caption task: RapidOCR (PP-OCRv4 on ONNX Runtime) reads the text in the image.

It finds text boxes, turns each upright and reads it. The result is the text in reading order, every box with its
words and confidence, and a copy of the image with the boxes drawn, so people can see what was read where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from playground.backends.local_pool import LocalBackend
from playground.catalog import ModelSpec
from playground.events import Event, Failure, Request, Result
from playground.i18n import _
from playground.images import check_proportions
from playground.metrics import Stopwatch

BOX_COLOUR = (255, 0, 160)
DETECTION_MAX_SIDE = 960


@dataclass(frozen=True)
class TextBox:
    points: list[list[float]]  # four corners (x, y), clockwise from the top left
    text: str
    confidence: float

    @property
    def top(self) -> float:
        return min(y for _x, y in self.points)

    @property
    def bottom(self) -> float:
        return max(y for _x, y in self.points)

    @property
    def left(self) -> float:
        return min(x for x, _y in self.points)


def reading_order(boxes: list[TextBox]) -> str:
    """Boxes grouped into lines (a box whose vertical middle lies within the current line joins it), lines top to
    bottom, words left to right. PP-OCR often gives one box per word, so this is what makes a sentence again."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        middle = (box.top + box.bottom) / 2
        if lines and min(b.top for b in lines[-1]) <= middle <= max(b.bottom for b in lines[-1]):
            lines[-1].append(box)
        else:
            lines.append([box])
    return "\n".join(" ".join(b.text for b in sorted(line, key=lambda b: b.left)) for line in lines)


def annotate(image, boxes: list[TextBox]):
    """A copy of the image with each text box outlined."""
    from PIL import ImageDraw

    annotated = image.convert("RGB")  # always a copy
    draw = ImageDraw.Draw(annotated)
    width = max(2, round(max(image.size) / 300))
    for box in boxes:
        corners = [tuple(point) for point in box.points]
        draw.line([*corners, corners[0]], fill=BOX_COLOUR, width=width, joint="curve")
    return annotated


def read_text(engine: Any, image) -> list[TextBox]:
    found, _elapsed = engine(image.convert("RGB"))
    return [
        TextBox([[float(x), float(y)] for x, y in points], text, float(score)) for points, text, score in found or []
    ]


class RapidOCRBackend(LocalBackend):
    """PP-OCRv4's detector, orientation classifier and recogniser, as ONNX files inside rapidocr-onnxruntime."""

    def load(self, location: str):
        from rapidocr_onnxruntime import RapidOCR

        # The package's default scales the *shorter* side up to 736 px for detection, so a 3×500 sliver became
        # 736×122666 and held the model for minutes. Scaling the longer side down to 960 (PaddleOCR's own
        # default) bounds every image's cost.
        return RapidOCR(det_limit_type="max", det_limit_side_len=DETECTION_MAX_SIDE)

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        watch = Stopwatch(request.arrived)
        if request.image is None:
            yield Failure(
                spec.id, _("No image was given."), hint=_("Pick a sample photo, upload one or take one."), code="input"
            )
            return
        check_proportions(request.image.size)  # an ImageError: a clear input message, not a resize crash
        boxes = read_text(parts, request.image)
        watch.stop()
        yield Result(
            spec.id,
            text=reading_order(boxes),
            metrics=watch.metrics(),
            extra={
                "kind": "ocr",
                "boxes": [{"points": b.points, "text": b.text, "confidence": b.confidence} for b in boxes],
                "annotated": annotate(request.image, boxes),
                "image_size": request.image.size,
            },
        )
