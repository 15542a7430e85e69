"""Image handling costs on the caption path, as ratios measured in one run (run with `make bench`).

1. What an API vision call uploads for a 12-megapixel phone photo, downscaled, against sending it as it is.
2. Opening an upload safely (full decode, EXIF, RGB) against a bare Pillow open + load of the same JPEG.
"""

from __future__ import annotations

import io
import statistics
import time

from PIL import Image
from skimage import data

from playground.images import API_MAX_SIDE, fit_within, open_image, to_data_url

REPEATS = 5


def phone_photo() -> bytes:
    """A 4000x3000 JPEG, the size a phone camera takes (upscaled from a real scikit-image photo)."""
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def payload_ratio(jpeg: bytes) -> float:
    image = open_image(jpeg).image
    return len(to_data_url(fit_within(image, API_MAX_SIDE))) / len(to_data_url(image))


def open_overhead(jpeg: bytes) -> float:
    def bare():
        Image.open(io.BytesIO(jpeg)).load()

    def safe():
        open_image(jpeg)

    times: dict = {bare: [], safe: []}
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits both alike
        for fn, samples in times.items():
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
    return statistics.median(times[safe]) / statistics.median(times[bare])


if __name__ == "__main__":
    jpeg = phone_photo()
    print(
        f"API vision upload for a 12 MP photo, downscaled to {API_MAX_SIDE} px / sent whole: {payload_ratio(jpeg):.3f} (goal <= 0.15)"
    )
    print(
        f"safe open_image (decode, EXIF, RGB) / bare Pillow open+load of a 12 MP JPEG: {open_overhead(jpeg):.3f} (goal <= 1.5)"
    )
