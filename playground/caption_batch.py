"""Caption the bundled sample photos with several models: one photo at a time, the models side by side on it.

The latency of each model on each photo is what a class compares: a classifier in a fraction of a second, OCR in
about two, a pipeline in several. Each photo is its own request, so its clock starts when that photo is sent; it
goes through ``Playground.run``, so every call is priced and recorded like any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from playground.catalog import Catalog
from playground.context import RunContext
from playground.events import Credentials, Failure, Request, Result
from playground.i18n import _
from playground.images import SAMPLE_PHOTOS, sample_photo
from playground.session import Playground, RunSettings


@dataclass(frozen=True)
class Captioned:
    photo: str  # a SAMPLE_PHOTOS key
    request: Request
    final: Result | Failure


def caption_samples(
    playground: Playground,
    model_ids: list[str],
    template: Request,
    credentials: Credentials | None = None,
    context: RunContext = RunContext("caption"),
    settings: RunSettings = RunSettings(),
    photos: list[str] | None = None,
) -> Iterator[Captioned]:
    """Every model's final event on every sample photo, photo by photo, as each finishes."""
    for photo in photos or list(SAMPLE_PHOTOS):
        request = replace(template, image=sample_photo(photo), arrived=time.perf_counter())
        for event in playground.run(model_ids, request, credentials, context, settings):
            if isinstance(event, (Result, Failure)):
                yield Captioned(photo, request, event)


def latency_rows(catalog: Catalog, done: list[Captioned], model_ids: list[str]) -> list[dict]:
    """One row per photo: each model's total seconds (from the photo's arrival) and what it said, shortened; the
    models in the order they were picked, not the order they finished in."""
    rows: dict[str, dict] = {}
    for item in sorted(done, key=lambda item: model_ids.index(item.final.model_id)):
        row = rows.setdefault(item.photo, {_("Photo"): SAMPLE_PHOTOS[item.photo]})
        name = catalog.get(item.final.model_id).name
        metrics = item.final.metrics
        row[f"{name} (s)"] = metrics.total_s if metrics is not None else None
        text = (
            item.final.text
            if isinstance(item.final, Result)
            else _("failed: {message}").format(message=item.final.message)
        )
        row[name] = " ".join(text.split())[:80]
        if metrics is not None and metrics.cold:
            cold = _("{name} loaded in {s:.1f} s").format(name=name, s=metrics.load_s)
            row[_("Cold starts")] = "; ".join(filter(None, [row.get(_("Cold starts")), cold]))
    return list(rows.values())
