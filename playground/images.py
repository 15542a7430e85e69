"""Open an image someone uploaded, safely, and shape it for a model or an API.

Uploads are untrusted: anything can arrive (a PDF renamed .jpg, half a JPEG, a 20000x20000 PNG that inflates to
gigabytes). Every such case becomes an ``ImageError`` with a message a workshop audience can act on, and every image
that opens comes out the same way: upright (EXIF honoured), first frame only, 8-bit RGB.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.i18n import N_, _

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
    """Decode an upload fully (so a truncated file fails here, not inside a model) and normalise it to RGB."""
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        image = Image.open(stream)
        _check_pixels(image, name)
        frames = getattr(image, "n_frames", 1)
        image.seek(0)  # an animated GIF or WebP: its first frame
        image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(_("{name} is too large to open safely: {error}").format(name=name, error=exc)) from None
    except UnidentifiedImageError:
        raise ImageError(_("{name} is not an image Pillow can read; upload a PNG, JPEG, WebP or GIF.").format(name=name)) from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow reports truncated or corrupt data as these
        raise ImageError(_("{name} is damaged or incomplete (truncated?): {error}").format(name=name, error=exc)) from None
    notes = [f"first frame of {frames}"] if frames > 1 else []
    orientation = image.getexif().get(0x0112, 1)
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
        notes.append(f"turned upright (EXIF orientation {orientation})")
    rgb, how = _to_rgb(image)
    return OpenedImage(rgb, tuple(notes + ([how] if how else [])))


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


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    """8-bit RGB plus a note on what changed ('' when it already was RGB)."""
    mode = image.mode
    if mode == "RGB":
        return image, ""
    if mode in _WIDE_MODES:
        values = np.asarray(image, dtype=np.float64)
        top = values.max(initial=0)
        scale = 1.0 if top <= 255 else (257.0 if top <= 65535 else top / 255)
        gray = Image.fromarray(np.clip(values / scale, 0, 255).astype(np.uint8), "L")
        return gray.convert("RGB"), f"converted from {mode} ({'16' if top <= 65535 else '32'}-bit) to 8-bit RGB"
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
        raise ImageError(_("The image's colour mode {mode} cannot be converted to RGB: {error}").format(mode=mode, error=exc)) from None


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
