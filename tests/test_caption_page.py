"""The caption page, in AppTest and in a real browser, with a sample photo.

The app's catalog gets the two tiny random models (PLAYGROUND_CATALOG); the hub captioners stay undownloaded
(an empty PLAYGROUND_HOME, HF_HUB_OFFLINE=1), as on a machine that never ran `make prefetch`. The embedded image
models (ImageNet classifier, OCR, pipeline) are real, from PyPI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from playground import models_cache
from playground.catalog import load_catalog
from playground.images import sample_photo
from tests.apptest import app_page
from tests.browser import open_page, streamlit_app, wait_idle
from tests.test_image_models import rendered_text
from tests.test_images import encode

PREFETCH_HINT = "needs download; run `make prefetch` while online"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "caption.png"
EMBEDDED = ["efficientnet-lite0", "rapidocr", "image-pipeline"]


def no_keys(monkeypatch) -> None:
    for provider in load_catalog().providers.values():
        if provider.key_env:
            monkeypatch.delenv(provider.key_env, raising=False)
    monkeypatch.delenv("PLAYGROUND_SELF_HOSTED_URL", raising=False)


def fresh_home(folder: Path) -> Path:
    """A data folder as `make setup` leaves it: SmolLM2 converted, no hub model downloaded."""
    folder.mkdir()
    (folder / "converted").symlink_to(models_cache.converted_smollm2().parent)
    return folder


@pytest.fixture
def caption_page(monkeypatch, caption_catalog_file, tmp_path):
    no_keys(monkeypatch)
    env = {"PLAYGROUND_HOME": str(fresh_home(tmp_path / "data")), "PLAYGROUND_DB": str(tmp_path / "history.sqlite")}
    with app_page(monkeypatch, "caption", caption_catalog_file, **env) as at:
        yield at


def coffee_with_sign() -> bytes:
    """The coffee photo above a line of text: something for each embedded model to find."""
    return encode(rendered_text("Open weights 2026", background=sample_photo("coffee")), "PNG")


def test_offline_without_keys_the_embedded_image_models_are_the_defaults(caption_page):
    assert caption_page.multiselect(key="caption_models").value == EMBEDDED


def test_the_embedded_image_models_side_by_side_with_real_outputs(caption_page):
    at = caption_page
    at.radio(key="caption_source").set_value("Upload").run()
    at.file_uploader(key="caption_upload").upload("coffee-sign.png", coffee_with_sign(), "image/png").run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    # the classifier: top-5 bars, and a card that says these are labels, not a sentence
    assert "#### espresso" in [m.value for m in at.markdown]
    top5 = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert len(top5["y"]) == 5 and top5["y"][-1] == "espresso"
    assert any(w.value == "ImageNet classifier: top-5 labels, not a sentence." for w in at.warning)
    # OCR: the text it read, and the image with its boxes
    assert "Open weights 2026" in [c.value for c in at.code]
    boxes = [i for i in at.get("image") if "text box" in i.proto.imgs[0].caption]
    assert len(boxes) == 1
    # the pipeline: a sentence, then each stage's model and time
    stage_lines = [m.value for m in at.markdown if "**SmolLM2-135M-Instruct int4 (OpenVINO)** ·" in m.value]
    assert len(stage_lines) == 1 and "**EfficientNet-Lite0 (ImageNet classifier)** ·" in stage_lines[0]
    assert "Open weights 2026" in stage_lines[0]
    assert len([c for c in at.caption if "TTFT" in c.value]) == 3


def test_the_sample_set_gives_a_latency_table(caption_page):
    at = caption_page
    at.multiselect(key="caption_models").set_value(["efficientnet-lite0", "rapidocr"]).run()
    at.button(key="caption_batch").click().run()
    assert not at.exception
    latencies, outputs = at.dataframe[0].value, at.dataframe[1].value
    assert list(latencies.index) == ["EfficientNet-Lite0 (ImageNet classifier)", "RapidOCR PP-OCRv4 (text reader)"]
    assert list(latencies.columns) == [
        "Astronaut",
        "Chelsea the cat",
        "A cup of coffee",
        "Rocket on the launch pad",
        "Motorcycle",
        "Horse",
        "Median",
    ]
    assert (latencies > 0).all().all()
    assert len(outputs) == 6 and outputs["EfficientNet-Lite0 (ImageNet classifier)"].iloc[2].startswith("espresso")


def test_undownloaded_hub_captioners_say_how_to_get_them(caption_page):
    picker = caption_page.multiselect(key="caption_models")
    for model_id in ("blip-base", "vit-gpt2", "git-base-coco", "smolvlm-256m"):
        label = picker.format_func(model_id)
        assert PREFETCH_HINT in label, label
    assert PREFETCH_HINT not in picker.format_func("tiny-captioner")


def test_sample_photo_captioned_side_by_side(caption_page):
    at = caption_page
    at.multiselect(key="caption_models").set_value(["tiny-captioner", "tiny-vlm", "blip-base"]).run()
    at.selectbox(key="caption_sample").set_value("chelsea").run()
    preview = at.get("image")[0].proto.imgs[0].caption
    assert preview == "Chelsea the cat (scikit-image sample) · 451×300"
    at.button[0].click().run()
    assert not at.exception
    metric_lines = [c.value for c in at.caption if "tokens out" in c.value]
    assert len(metric_lines) == 2 and all("TTFT" in line for line in metric_lines), metric_lines
    # the missing hub model fails in its own column, with the command that fixes it
    assert len(at.error) == 1 and "BLIP base" in at.error[0].value and "not on this machine" in at.error[0].value
    assert any(PREFETCH_HINT in c.value for c in at.caption)


def test_captioners_say_they_ignore_a_custom_instruction(caption_page):
    at = caption_page
    at.multiselect(key="caption_models").set_value(["tiny-captioner"]).run()
    at.text_input(key="caption_instruction").input("What colour is the cat?").run()
    at.button[0].click().run()
    assert any("does not read the instruction" in w.value for w in at.warning)
    assert [c for c in at.caption if "tokens out" in c.value]


def test_upload_mode_without_a_file_disables_the_button(caption_page):
    at = caption_page
    at.radio(key="caption_source").set_value("Upload").run()
    assert at.button[0].disabled
    assert "Upload an image" in at.info[0].value


def broken_uploads() -> dict[str, tuple[bytes, str]]:
    jpeg = encode(Image.fromarray(data.astronaut()), "JPEG")
    return {
        "report.png": (b"%PDF-1.4 not an image at all", "not an image"),
        "half.jpg": (jpeg[: len(jpeg) // 2], "damaged or incomplete"),
        "bomb.png": (encode(Image.new("1", (20000, 20000)), "PNG"), "too large to open safely"),
    }


@pytest.mark.parametrize("name", list(broken_uploads()))
def test_a_bad_upload_gets_a_clear_message_and_the_app_stays_up(caption_page, name):
    content, message = broken_uploads()[name]
    at = caption_page
    at.radio(key="caption_source").set_value("Upload").run()
    at.file_uploader(key="caption_upload").upload(name, content, "image/png").run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and name in at.error[0].value
    assert at.button[0].disabled, "nothing to caption"
    at.radio(key="caption_source").set_value("Sample photo").run()
    assert not at.error and not at.button[0].disabled


def test_an_odd_upload_is_converted_and_captioned(caption_page):
    cmyk = Image.new("CMYK", (64, 48), (0, 255, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    at = caption_page
    at.multiselect(key="caption_models").set_value(["tiny-captioner"]).run()
    at.radio(key="caption_source").set_value("Upload").run()
    at.file_uploader(key="caption_upload").upload("red.jpg", encode(cmyk, "JPEG", exif=exif), "image/jpeg").run()
    preview = at.get("image")[0].proto.imgs[0].caption
    assert "EXIF orientation 6" in preview and "CMYK" in preview and preview.endswith("48×64"), preview
    at.button[0].click().run()
    assert [c for c in at.caption if "tokens out" in c.value] and not at.error


def test_a_camera_photo_is_captioned(caption_page):
    at = caption_page
    at.multiselect(key="caption_models").set_value(["tiny-captioner"]).run()
    at.radio(key="caption_source").set_value("Camera").run()
    at.camera_input(key="caption_camera").upload(
        "camera.jpg", encode(Image.fromarray(data.coffee()), "JPEG"), "image/jpeg"
    ).run()
    assert at.get("image")[0].proto.imgs[0].caption.endswith("600×400")
    at.button[0].click().run()
    assert [c for c in at.caption if "tokens out" in c.value] and not at.error


@pytest.fixture(scope="session")
def caption_app_url(caption_catalog_file, vlm_serve_credentials, tmp_path_factory):
    """The app in a real browser, with the tiny VLM behind `transformers serve` as its self-hosted vision endpoint."""
    home = tmp_path_factory.mktemp("caption_app")
    endpoint = vlm_serve_credentials.self_hosted
    with streamlit_app(
        home,
        PLAYGROUND_CATALOG=str(caption_catalog_file),
        PLAYGROUND_HOME=str(home / "data"),
        PLAYGROUND_SELF_HOSTED_URL=endpoint.base_url,
        PLAYGROUND_SELF_HOSTED_MODEL=endpoint.model,
    ) as url:
        yield url


def test_browser_captions_a_sample_photo_with_local_and_api_models(page, caption_app_url, artifacts):
    open_page(page, f"{caption_app_url}/caption?models=tiny-captioner,self-hosted,blip-base")
    page.get_by_text("Astronaut (Eileen Collins, NASA) (scikit-image sample) · 512×512").wait_for()  # the preview
    page.get_by_role("button", name="Caption", exact=True).click()
    page.get_by_text("tokens out").first.wait_for(timeout=180_000)  # the rerun may start after wait_idle's grace period
    wait_idle(page)
    page.set_viewport_size({"width": 1400, "height": 1500})  # Streamlit scrolls inside its own container
    page.screenshot(path=str(artifacts / "caption-tiny-and-api.png"))
    assert page.get_by_text("tokens out").count() == 2
    assert page.get_by_text("Image sent as 512×512").count() == 1  # the API model's column reports what it sent
    assert page.get_by_text("run `make prefetch` while online").count() >= 1


def test_browser_refuses_an_over_size_upload(page, caption_app_url, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + bytes(21 * 1024 * 1024))  # over server.maxUploadSize = 20 MB
    open_page(page, f"{caption_app_url}/caption")
    page.get_by_text("Upload", exact=True).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
    page.get_by_text("File must be 20.0MB or smaller").wait_for()
    assert page.get_by_role("button", name="Caption", exact=True).is_disabled()


@pytest.fixture(scope="module")
def offline_app_url(tmp_path_factory):
    """The app as on a fresh machine: no hub, no keys, no self-hosted endpoint, nothing prefetched."""
    home = tmp_path_factory.mktemp("caption_offline")
    keys = {p.key_env: "" for p in load_catalog().providers.values() if p.key_env}
    with streamlit_app(
        home, PLAYGROUND_HOME=str(fresh_home(home / "data")), PLAYGROUND_SELF_HOSTED_URL="", **keys
    ) as url:
        yield url


def test_browser_offline_captions_the_sample_photos_with_three_open_models(page, offline_app_url, artifacts):
    open_page(page, f"{offline_app_url}/caption")
    page.get_by_role("combobox", name="Sample photo").click()
    page.get_by_role("option", name="A cup of coffee").click()
    page.get_by_text("A cup of coffee (scikit-image sample) · 600×400").wait_for()
    page.get_by_role("button", name="Caption", exact=True).click()
    page.get_by_text("TTFT").nth(2).wait_for(timeout=240_000)
    wait_idle(page)
    page.get_by_role("button", name="Caption all 6 sample photos").click()
    page.get_by_text("Seconds per photo, from the photo").wait_for(timeout=420_000)
    wait_idle(page)
    page.set_viewport_size({"width": 1400, "height": 1900})
    page.get_by_role("heading", name="Caption side by side").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "caption.png"))
    shutil.copy(artifacts / "caption.png", DOCS_SCREENSHOT)
    assert page.get_by_text("ImageNet classifier: top-5 labels, not a sentence.").count() == 1
    assert page.get_by_text("TTFT").count() == 3 and page.get_by_text("not on this machine").count() == 0
    assert page.get_by_text("(+").count() >= 1 or page.get_by_text("loading").count() >= 1  # cold starts are shown
