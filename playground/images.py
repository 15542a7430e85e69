"""Open an image someone uploaded, safely, and shape it for a model or an API.

Uploads are untrusted: anything can arrive (a PDF renamed .jpg, half a JPEG, a 20000x20000 PNG that inflates to
gigabytes). Every such case becomes an ``ImageError`` with a message a workshop audience can act on, and every image
that opens comes out the same way: upright (EXIF honoured), first frame only, 8-bit RGB.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.i18n import N_, _

WORK_MAX_PIXELS = 16_000_000  # larger uploads are scaled down on opening: a 4K square still fits
_BAND_PIXELS = 4_000_000  # rows converted at a time from 16/32-bit to 8-bit
MAX_ASPECT_RATIO = 50  # long side over short: a 60000×2 strip scaled to a 224-px short side is 6.7M px wide (6 GB)
API_MAX_SIDE = 1024  # long side sent to API vision models: enough detail for a caption, a fraction of the tokens
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # 16-bit and 32-bit single-channel images


# scikit-image's bundled photos: real, freely licensed, and on disk with the package, so they work offline
SAMPLE_PHOTOS = {  # names are translated where shown
    "astronaut": N_("Astronaut (Eileen Collins, NASA)"),
    "chelsea": N_("Chelsea the cat"),
    "coffee": N_("A cup of coffee"),
    "rocket": N_("Rocket on the launch pad (NASA)"),
    "stereo_motorcycle": N_("Motorcycle"),
    "horse": N_("Horse (silhouette)"),
}


from playground.errors import ImageError  # noqa: E402


@dataclass(frozen=True)
class OpenedImage:
    image: Image.Image  # 8-bit RGB, upright
    notes: tuple[str, ...] = ()  # what was done to it on the way, e.g. "converted from CMYK to RGB"

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def open_image(data: bytes | BinaryIO, name: str = "The file") -> OpenedImage:
    """Decode an upload fully (so a truncated file fails here, not inside a model) and normalise it to RGB.

    An image over ``WORK_MAX_PIXELS`` is scaled down on the way (a JPEG already while decoding), so a huge upload
    never becomes a huge RGB copy: no model here looks at more than a few megapixels.
    """
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        image = Image.open(stream)
        _check_pixels(image, name)
        check_proportions(image.size, name)
        frames = getattr(image, "n_frames", 1)
        image.seek(0)  # an animated GIF or WebP: its first frame
        full_size = image.size
        if image.format == "JPEG" and _pixels(image.size) > WORK_MAX_PIXELS:
            image.draft("RGB", _budget_size(image.size))  # decode at 1/2, 1/4 or 1/8 scale: far less memory
        image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(_("{name} is too large to open safely: {error}").format(name=name, error=exc)) from None
    except UnidentifiedImageError:
        raise ImageError(
            _("{name} is not an image Pillow can read; upload a PNG, JPEG, WebP or GIF.").format(name=name)
        ) from None
    except (
        OSError,
        SyntaxError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
    ) as exc:  # how Pillow reports corrupt data
        raise ImageError(
            _("{name} is damaged or incomplete (truncated?): {error}").format(name=name, error=exc)
        ) from None
    notes = [f"first frame of {frames}"] if frames > 1 else []
    orientation = image.getexif().get(0x0112, 1)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
        notes.append(f"turned upright (EXIF orientation {orientation})")
    wide = ""
    if image.mode in _WIDE_MODES:  # to 8 bits before anything else: the smallest copy to work on
        image, wide = _wide_to_8bit(image)
    if _pixels(image.size) > WORK_MAX_PIXELS:
        image = image.resize(_budget_size(image.size), Image.Resampling.BOX)
    if _pixels(image.size) < _pixels(full_size):
        notes.append(f"scaled down from {full_size[0]}×{full_size[1]} to {image.width}×{image.height}")
    rgb, how = _to_rgb(image)
    how = wide or how
    return OpenedImage(rgb, tuple(notes + ([how] if how else [])))


@lru_cache(maxsize=4)
def _open_cached(digest: str, data: bytes, name: str) -> OpenedImage:
    return open_image(data, name)


def open_upload(data: bytes, name: str = "The file") -> OpenedImage:
    """``open_image`` for a page that reruns: the same bytes are decoded once (a few recent uploads are kept,
    shared read-only by every session), not again on every widget change."""
    return _open_cached(hashlib.sha256(data).hexdigest(), bytes(data), name)


def sample_photo(name: str) -> Image.Image:
    """One of SAMPLE_PHOTOS as 8-bit RGB."""
    from skimage import data

    pixels = getattr(data, name)()
    if isinstance(pixels, tuple):  # stereo_motorcycle is (left, right, disparity): the left view
        pixels = pixels[0]
    return _to_rgb(Image.fromarray(pixels))[0]


def _check_pixels(image: Image.Image, name: str) -> None:
    """Pillow only warns between its limit and twice it; treat the whole range as too large."""
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > limit:
        raise ImageError(
            f"{name} is too large to open safely: {width}×{height} = {width * height / 1e6:.0f} megapixels "
            f"(the limit is {limit / 1e6:.0f}). Scale it down first."
        )


def check_proportions(size: tuple[int, int], name: str | None = None) -> None:
    """Refuse an image far longer than it is wide, before any model scales it: scaling its short side up to a
    model's input size multiplies the long side too (gigabytes for a 437-byte PNG), and OCR cannot shrink it at all."""
    width, height = size
    if max(width, height) > MAX_ASPECT_RATIO * max(1, min(width, height)):
        raise ImageError(
            _("{name} is {width}×{height} pixels: more than {ratio} times longer than it is wide.").format(
                name=name or _("The image"), width=width, height=height, ratio=MAX_ASPECT_RATIO
            ),
            _("Crop it closer to what it shows, or upload an ordinary photo or screenshot."),
        )


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    """8-bit RGB plus a note on what changed ('' when it already was RGB)."""
    mode = image.mode
    if mode == "RGB":
        return image, ""
    if mode in _WIDE_MODES:
        gray, how = _wide_to_8bit(image)
        return gray.convert("RGB"), how
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if image.mode == "RGB":
            return image, "converted from a palette to RGB"
    if image.mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat, f"transparency flattened onto white ({mode})"
    try:
        return image.convert("RGB"), f"converted from {mode} to RGB"
    except ValueError as exc:
        raise ImageError(
            _("The image's colour mode {mode} cannot be converted to RGB: {error}").format(mode=mode, error=exc)
        ) from None


def _wide_to_8bit(image: Image.Image) -> tuple[Image.Image, str]:
    """A 16- or 32-bit single-channel image as 8-bit grayscale, a band of rows at a time: never a float64 copy
    of the whole image (an 88-megapixel 16-bit scan used to peak at 2.2 GB here)."""
    mode, (width, height) = image.mode, image.size
    _, top = image.getextrema()
    top = top if math.isfinite(top) else 65535  # a float image holding inf or NaN
    scale = np.float32(1.0 if top <= 255 else (257.0 if top <= 65535 else top / 255))
    gray = Image.new("L", image.size)
    rows = max(1, _BAND_PIXELS // max(1, width))
    for y in range(0, height, rows):
        band = np.asarray(image.crop((0, y, width, min(height, y + rows))), dtype=np.float32) / scale
        np.clip(np.nan_to_num(band, copy=False, nan=0.0), 0, 255, out=band)
        gray.paste(Image.fromarray(band.astype(np.uint8), "L"), (0, y))
    return gray, f"converted from {mode} ({'16' if top <= 65535 else '32'}-bit) to 8-bit RGB"


def _pixels(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _budget_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size with the same aspect ratio and at most WORK_MAX_PIXELS."""
    scale = min(1.0, (WORK_MAX_PIXELS / _pixels(size)) ** 0.5)
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def require_image(request) -> None:
    """Every image backend's first check, so each says the same thing with the same code (input): an image is
    there, and it is not so long and thin that scaling it would take gigabytes."""
    if request.image is None:
        raise ImageError(_("No image was given."), _("Pick a sample photo, upload one or take one."))
    check_proportions(request.image.size)


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale so the long side is at most ``max_side``, keeping the aspect ratio; never upscale."""
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def to_data_url(image: Image.Image, quality: int = 90) -> str:
    """A ``data:image/jpeg;base64,...`` URL, the form every OpenAI-compatible vision API accepts inline."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
