"""Uploads are untrusted: each bad case gives a clear ImageError, and every image that opens comes out upright 8-bit RGB."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from playground.images import ImageError, fit_within, open_image, to_data_url


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_a_photo_opens_unchanged():
    cat = Image.fromarray(data.chelsea())
    opened = open_image(encode(cat, "PNG"))
    assert opened.image.mode == "RGB" and opened.size == cat.size and opened.notes == ()
    assert np.array_equal(np.asarray(opened.image), data.chelsea())


def test_not_an_image_is_refused_clearly():
    with pytest.raises(ImageError, match="not an image"):
        open_image(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", "report.pdf")


def test_truncated_jpeg_is_refused_clearly():
    whole = encode(Image.fromarray(data.astronaut()), "JPEG", quality=90)
    with pytest.raises(ImageError, match="damaged or incomplete"):
        open_image(whole[: len(whole) // 2], "half.jpg")


def test_decompression_bomb_is_refused_by_pillows_limit():
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")  # 48 KB on disk, 400 megapixels decoded
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="too large to open safely"):
        open_image(bomb, "bomb.png")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own warning, then our error
def test_between_pillows_warning_and_error_is_refused_too(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow only warns up to twice its limit
    with pytest.raises(ImageError, match="40×40"):
        open_image(encode(Image.new("RGB", (40, 40)), "PNG"))


def test_cmyk_is_converted_with_its_colours():
    red = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    opened = open_image(encode(red, "JPEG", quality=95))
    assert opened.image.mode == "RGB" and any("CMYK" in n for n in opened.notes)
    r, g, b = opened.image.getpixel((8, 8))
    assert r > 200 and g < 60 and b < 60


def test_16_bit_grey_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (8, 1))
    opened = open_image(encode(Image.fromarray(ramp), "PNG"))
    pixels = np.asarray(opened.image)
    assert opened.image.mode == "RGB" and any("16-bit" in n for n in opened.notes)
    assert pixels[0, 0, 0] == 0 and pixels[0, -1, 0] == 255
    assert 120 <= pixels[0, 128, 0] <= 135  # a naive convert would clip this to 255


def test_alpha_is_flattened_onto_white():
    rgba = Image.new("RGBA", (20, 10), (0, 0, 255, 255))
    rgba.paste((0, 0, 0, 0), (10, 0, 20, 10))  # right half fully transparent
    opened = open_image(encode(rgba, "PNG"))
    assert opened.image.getpixel((2, 5)) == (0, 0, 255)
    assert opened.image.getpixel((15, 5)) == (255, 255, 255)
    assert any("transparency" in n for n in opened.notes)


def test_exif_rotation_is_honoured():
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    opened = open_image(encode(stored, "JPEG", quality=95, exif=exif))
    assert opened.size == (20, 40)
    top, bottom = opened.image.getpixel((10, 5)), opened.image.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, "the stored left edge is the displayed top"
    assert bottom[2] > 200 and bottom[0] < 60
    assert any("EXIF orientation 6" in n for n in opened.notes)


def test_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (12, 12), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    opened = open_image(buffer.getvalue())
    assert opened.image.getpixel((6, 6)) == (255, 0, 0)
    assert "first frame of 3" in opened.notes


def test_webp_and_file_objects_open():
    cat = Image.fromarray(data.chelsea())
    assert open_image(io.BytesIO(encode(cat, "WEBP"))).size == cat.size


def test_downscale_keeps_aspect_and_never_upscales():
    assert fit_within(Image.new("RGB", (3000, 1500)), 1024).size == (1024, 512)
    small = Image.new("RGB", (300, 200))
    assert fit_within(small, 1024) is small


def test_data_url_round_trips():
    url = to_data_url(Image.fromarray(data.coffee()))
    assert url.startswith("data:image/jpeg;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size == (data.coffee().shape[1], data.coffee().shape[0])


PEAK_PROBE = """
import resource, sys
from playground.images import open_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
opened = open_image(data, "scan.png")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024, opened.size[0], opened.size[1], "|".join(opened.notes))
"""


def test_a_16_bit_88_megapixel_scan_opens_within_a_memory_budget(tmp_path):
    """It used to go through float64 copies of the whole image and peak at 2.2 GB. Measured in a fresh process,
    as the growth of its peak resident memory while opening."""
    import subprocess
    import sys

    width, height = 11_000, 8_000  # 88 megapixels, under Pillow's bomb limit
    ramp = (np.arange(width, dtype=np.uint32) * 65535 // (width - 1)).astype(np.uint16)
    scan = Image.fromarray(np.broadcast_to(ramp, (height, width)).copy())
    assert scan.mode == "I;16"
    path = tmp_path / "scan.png"
    scan.save(path, compress_level=1)
    del scan
    out = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(path)], capture_output=True, text=True, check=True)
    grown_mb, w, h, notes = out.stdout.split(maxsplit=3)
    assert int(grown_mb) < 600, f"opening took {grown_mb} MB more"
    assert int(w) * int(h) <= 16_000_000 and abs(int(w) / int(h) - width / height) < 0.01
    assert "16-bit" in notes and "scaled down from 11000×8000" in notes


def test_open_upload_decodes_the_same_bytes_once():
    from playground.images import open_upload

    png = encode(Image.fromarray(data.chelsea()), "PNG")
    first = open_upload(png, "cat.png")
    assert open_upload(png, "cat.png") is first
    assert open_upload(encode(Image.fromarray(data.coffee()), "PNG"), "cup.png") is not first


def test_a_rotated_photo_is_not_called_scaled_down():
    photo = Image.fromarray(data.chelsea())
    exif = photo.getexif()
    exif[0x0112] = 6  # rotate 90° on display
    opened = open_image(encode(photo, "JPEG", exif=exif))
    assert opened.size == (photo.height, photo.width)
    assert not any("scaled" in note for note in opened.notes)


def test_a_long_thin_strip_is_refused_before_any_model_scales_it():
    """437 bytes of PNG, 60000×2 pixels: scaled to a model's 224-pixel short side it allocated 6 GB."""
    strip = io.BytesIO()
    Image.new("RGB", (60000, 2), "white").save(strip, "PNG")
    assert len(strip.getvalue()) < 1000
    with pytest.raises(ImageError, match="60000×2") as refused:
        open_image(strip.getvalue())
    assert refused.value.code == "input" and refused.value.hint
    assert open_image(encode(Image.new("RGB", (2000, 40)), "PNG")).size == (2000, 40)  # 50:1 is still an image
    with pytest.raises(ImageError):
        open_image(encode(Image.new("RGB", (2000, 39)), "PNG"))
