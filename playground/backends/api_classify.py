"""An LLM behind any OpenAI-compatible endpoint as a classifier: prompt it with the labels, parse one label.

Where the endpoint returns logprobs (OpenAI does), they become label probabilities; elsewhere the confidence is
left unknown (``scores=None``), never invented.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

import playground.errors as errors
from playground.backends.openai_compat import OpenAIChatBackend
from playground.catalog import ModelSpec
from playground.classify import InputError, check_request, classification_messages, label_probabilities, parse_label
from playground.events import Credentials, Event, Failure, GenParams, Notice, Request, Result
from playground.i18n import _

ANSWER_PARAMS = GenParams(temperature=0.0, top_p=1.0, max_new_tokens=16, seed=0)  # a label, chosen greedily
TOP_LOGPROBS = 10


class APIClassifier(OpenAIChatBackend):
    def messages(self, request: Request) -> list[dict]:
        return classification_messages(request.prompt.strip(), request.labels)

    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials) -> Iterator[Event]:
        try:
            labels = check_request(request)
        except InputError as exc:
            yield Failure.of(spec.id, exc)
            return
        request = replace(request, labels=labels, params=ANSWER_PARAMS)
        final = yield from self._ask(spec, request, credentials, logprobs=True, top_logprobs=TOP_LOGPROBS)
        if isinstance(final, Failure) and final.code == errors.INPUT:  # some endpoints refuse the logprobs option
            final = yield from self._ask(spec, request, credentials)
        if isinstance(final, Failure):
            yield final
            return
        final.label = parse_label(final.text, labels)
        final.scores = label_probabilities(final.extra.get("logprobs") or [], labels) if final.label else None
        if final.label is None:
            answer = final.text.strip()[:200] or "(nothing)"
            yield Notice(
                spec.id, _("The answer names none of the labels, or more than one: “{answer}”.").format(answer=answer)
            )
        yield final

    def _ask(self, spec, request, credentials, **options):
        """Relay progress events; return the final Result or Failure."""
        final = None
        for event in super().execute(spec, request, credentials, **options):
            if isinstance(event, (Result, Failure)):
                final = event
            else:
                yield event
        return final
