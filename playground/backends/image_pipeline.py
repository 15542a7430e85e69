"""A two-stage open pipeline on the caption task: image models see, a small language model writes.

The ImageNet classifier's likely labels and the text OCR reads become a short list of facts; SmolLM2 phrases them
as the sentence asked for. Each stage runs through its own catalog model's backend, so it shares that model's
loaded copy, and its time is reported apart: a class sees where the seconds go.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Iterator

from playground.backends.base import Backend
from playground.backends.local_caption import instruction_of
from playground.backends.ocr import TextBox, reading_order
from playground.catalog import Catalog, ModelSpec
from playground.events import Credentials, Event, Failure, Notice, Request, Result, Token
from playground.i18n import _
from playground.images import check_proportions
from playground.metrics import CallMetrics, Stopwatch

MIN_LABEL_PROBABILITY = 0.1  # labels below this are mostly noise and lead the writer astray
MAX_LABELS = 3
MAX_TEXT_CHARS = 200
MIN_TEXT_CONFIDENCE = 0.8  # OCR reads a coffee cup's rim as "O" at 0.51: such guesses must not become facts


def confident_text(read: Result) -> str:
    """The OCR stage's text, leaving out boxes it was unsure of."""
    boxes = [TextBox(b["points"], b["text"], b["confidence"]) for b in read.extra.get("boxes", [])]
    return reading_order([b for b in boxes if b.confidence >= MIN_TEXT_CONFIDENCE])


def facts_prompt(scores: dict[str, float], text: str, instruction: str) -> str:
    """What the image models found, in words a 135M model follows: the likely labels (the top one always), the
    text read in the image when there is any, then the user's instruction."""
    labels = [label for label, p in scores.items() if p >= MIN_LABEL_PROBABILITY][:MAX_LABELS] or list(scores)[:1]
    facts = "Things seen in the photo: " + ", ".join(labels) + "."
    if text := " ".join(text.split())[:MAX_TEXT_CHARS]:
        facts += f' Text written in the photo: "{text}".'
    return f"{facts}\n{instruction}"


class ImagePipelineBackend:
    """Runs ``spec.stages`` in order: [classifier, OCR, writer]. Built per call with the catalog it looks them up in."""

    def __init__(self, catalog: Catalog, backend_for: Callable[[Catalog, ModelSpec, str], Backend | None]) -> None:
        self.catalog = catalog
        self.backend_for = backend_for

    def _stage(
        self, spec: ModelSpec, stage: ModelSpec, task: str, request: Request, credentials: Credentials, watch: Stopwatch
    ):
        """Run one stage, relaying its tokens and progress as the pipeline's own; return its final event."""
        backend = self.backend_for(self.catalog, stage, task)
        if backend is None:
            return Failure(stage.id, _("{name} cannot do '{task}'.").format(name=stage.name, task=task), code="input")
        final: Result | Failure | None = None
        for event in backend.execute(stage, request, credentials):
            if isinstance(event, Token):
                watch.token()
                yield Token(spec.id, event.text)
            elif isinstance(event, Notice) and event.progress:
                yield Notice(spec.id, event.message, progress=True)
            elif isinstance(event, (Result, Failure)):
                final = event
        return final or Failure(stage.id, _("{name} ended without an answer.").format(name=stage.name))

    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials) -> Iterator[Event]:
        classifier, reader, writer = (self.catalog.get(stage_id) for stage_id in spec.stages)
        if request.image is None:
            yield Failure(
                spec.id, _("No image was given."), hint=_("Pick a sample photo, upload one or take one."), code="input"
            )
            return
        check_proportions(request.image.size)  # an ImageError: a clear input message, not a resize crash
        watch = Stopwatch(request.arrived)
        finals: list[Result] = []
        prompt = ""
        for stage, task in ((classifier, "caption"), (reader, "caption"), (writer, "generate")):
            if stage is writer:
                labels, read = finals
                prompt = facts_prompt(labels.scores or {}, confident_text(read), instruction_of(request))
                stage_request = replace(request, task="generate", prompt=prompt, system="", image=None)
            else:
                stage_request = request
            # each stage's clock starts when it does, so its total is its own time (its queue and load included);
            # its owner is the pipeline's, apart: the same session may run the stage's model in its own card too
            owner = f"{request.owner}/{spec.id}" if request.owner else ""
            stage_request = replace(stage_request, arrived=time.perf_counter(), owner=owner)
            final = yield from self._stage(spec, stage, task, stage_request, credentials, watch)
            if isinstance(final, Failure):
                message = _("Stage {name} failed: {message}").format(name=stage.name, message=final.message)
                yield Failure(spec.id, message, hint=final.hint, code=final.code, partial_text=final.partial_text)
                return
            finals.append(final)
        yield Result(
            spec.id,
            text=finals[-1].text.strip(),
            metrics=self._metrics(watch, finals),
            extra={
                "kind": "pipeline",
                "prompt": prompt,
                "stages": [
                    {
                        "model": stage.name,
                        "output": final.text,
                        "seconds": final.metrics.total_s,
                        "load_s": final.metrics.load_s,
                        "queue_s": final.metrics.queue_s,
                    }
                    for stage, final in zip((classifier, reader, writer), finals)
                ],
                "image_size": request.image.size,
            },
        )

    @staticmethod
    def _metrics(watch: Stopwatch, finals: list[Result]) -> CallMetrics:
        """From the user's arrival: the first token is the writer's; the waits and loads of all stages add up."""
        watch.stop()
        metrics = watch.metrics(
            input_tokens=finals[-1].metrics.input_tokens,
            output_tokens=finals[-1].metrics.output_tokens,
            load_s=sum(final.metrics.load_s for final in finals),
            cold=any(final.metrics.cold for final in finals),
        )
        metrics.queue_s = sum(final.metrics.queue_s for final in finals)
        return metrics
