"""THE way to run models: fan out, price each finished call, record it, and yield the events.

Pages, batch evaluation, the arena, rooms and benchmarks all go through ``Playground``, so every run is priced and
stored the same way, failures and timeouts included (with their partial output)::

    playground = Playground(catalog, store)
    for event in playground.run(["smollm2-135m", "gpt-4o-mini"], request, credentials, RunContext("generate")):
        ...  # Token / Notice / Waiting as they come; each model ends with one Result or Failure carrying .cost
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from playground.events import Credentials, Event, Failure, Notice, Request, Result, Token
from playground.catalog import Catalog
from playground.context import RunContext
from playground.errors import CatalogError
from playground.evaluation import ModelEvaluation, Progress, evaluate
from playground.hardware import detect
from playground.i18n import _
from playground.metrics import CallMetrics
from playground.params import check_params
from playground.pricing import cost_of
from playground.runner import DEFAULT_MODEL_TIMEOUT_S, run_side_by_side

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """A session's choices that change how runs are priced and stored."""

    hourly_usd: float = field(default_factory=lambda: detect().default_usd_per_hour)  # local models' machine time
    store_io: bool = True  # False: history keeps the metrics of each run, not the prompt or the answer
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S


class Playground:
    """A catalog plus a store. Holds no per-user state: credentials, context and settings come with each call."""

    def __init__(self, catalog: Catalog, store) -> None:
        self.catalog = catalog
        self.store = store

    def run(
        self,
        model_ids: Iterable[str],
        request: Request | Mapping[str, Request],
        credentials: Credentials | None = None,
        context: RunContext = RunContext("api"),
        settings: RunSettings | None = None,
    ) -> Iterator[Event]:
        """Every model's events as they happen; each final is priced (``.cost``) and recorded before it is yielded.

        A model that fails or times out is recorded as a failure with the text it had streamed so far.
        """
        credentials = credentials or Credentials()
        settings = settings or RunSettings()
        model_ids = list(dict.fromkeys(model_ids))
        for own in request.values() if isinstance(request, Mapping) else [request]:
            check_params(own.params)  # raises InputError: one clear message, before any model is asked
        request = _owned_by(request, context.session_id)
        streamed: dict[str, list[str]] = {m: [] for m in model_ids}
        first_token_at: dict[str, float] = {}
        for event in run_side_by_side(self.catalog, model_ids, request, credentials, settings.timeout_s):
            if isinstance(event, Token):
                streamed[event.model_id].append(event.text)
                first_token_at.setdefault(event.model_id, time.perf_counter())
            elif isinstance(event, (Result, Failure)):
                own = request[event.model_id] if isinstance(request, Mapping) else request
                if isinstance(event, Failure):
                    _complete_failure(event, own, streamed[event.model_id], first_token_at.get(event.model_id))
                if (unsaved := self.settle(event, own, credentials, context, settings)) is not None:
                    yield unsaved
            yield event

    def run_one(
        self,
        model_id: str,
        request: Request,
        credentials: Credentials | None = None,
        context: RunContext = RunContext("api"),
        settings: RunSettings | None = None,
    ) -> Result | Failure:
        """One model's final event (for benchmarks, batch jobs and tests)."""
        finals = [
            e for e in self.run([model_id], request, credentials, context, settings) if isinstance(e, (Result, Failure))
        ]
        return finals[-1]

    def evaluate(
        self,
        model_ids: Iterable[str],
        data,
        labels: Iterable[str],
        credentials: Credentials | None = None,
        context: RunContext = RunContext("evaluate"),
        settings: RunSettings | None = None,
        progress: Progress = lambda *_: None,
    ) -> dict[str, ModelEvaluation]:
        """Batch evaluation over a labelled set; each model's whole pass is recorded as one run."""
        credentials = credentials or Credentials()
        settings = settings or RunSettings()
        evaluations = evaluate(self.catalog, list(model_ids), data, labels, credentials, progress)
        summary = Request("classify", prompt=f"[{len(data.texts)} labelled texts]", labels=tuple(labels))
        for model_id, ev in evaluations.items():
            metrics = ev.call_metrics()
            if ev.failure is not None:
                final: Result | Failure = Failure(
                    model_id, ev.failure.message, ev.failure.hint, metrics, code=ev.failure.code
                )
            elif ev.metrics is None:  # a fixed label set of its own: nothing was scored
                final = Failure(model_id, ev.error, metrics=metrics, code="input")
            else:
                score = f"accuracy {ev.metrics.accuracy:.3f}, macro-F1 {ev.metrics.macro_f1:.3f}"
                final = Result(model_id, text=f"{score} on {len(ev.predictions)} texts", metrics=metrics)
            self.settle(final, summary, credentials, context, settings)
            ev.cost = final.cost
        return evaluations

    def settle(
        self,
        final: Result | Failure,
        request: Request,
        credentials: Credentials,
        context: RunContext,
        settings: RunSettings,
    ) -> Notice | None:
        """Price ``final`` (sets ``final.cost``) and record it. A store that cannot be written never breaks a run:
        the returned Notice says the run was not saved."""
        try:
            spec = self.catalog.get(final.model_id)
        except CatalogError:
            return None  # an unknown id: its Failure says so, and there is nothing to price or file it under
        if isinstance(final, Result):
            final.cost = cost_of(
                spec,
                self.catalog.provider_of(spec),
                final.metrics,
                cached_tokens=final.extra.get("cached_tokens", 0),
                hourly_usd=settings.hourly_usd,
            )
        try:
            final.history_id = self.store.record(
                context, spec, request, final, final.cost, secrets=self.secrets(credentials), store_io=settings.store_io
            )
        except Exception as exc:  # a locked or full database, a dropped PostgreSQL connection
            log.warning("run not recorded: %s", type(exc).__name__)
            return Notice(
                final.model_id, _("This run was not saved to history: {error}.").format(error=type(exc).__name__)
            )
        return None

    def secrets(self, credentials: Credentials) -> list[str]:
        """Every key a run could have used, so the store can scrub them: the session's, the self-hosted one, and
        the server's environment."""
        keys = list(credentials.api_keys.values())
        if credentials.self_hosted is not None:
            keys.append(credentials.self_hosted.api_key)
        keys += [os.environ.get(p.key_env, "") for p in self.catalog.providers.values() if p.key_env]
        return [k for k in keys if k]


def _owned_by(request: Request | Mapping[str, Request], session_id: str) -> Request | Mapping[str, Request]:
    """Tag requests with the asking session, so a shared model runs one request per session at a time."""
    if not session_id:
        return request
    if isinstance(request, Mapping):
        return {m: r if r.owner else replace(r, owner=session_id) for m, r in request.items()}
    return request if request.owner else replace(request, owner=session_id)


def _complete_failure(failure: Failure, request: Request, pieces: list[str], first_token_at: float | None) -> None:
    """Give a failure what the session itself saw: the text streamed so far and the times from arrival."""
    if not failure.partial_text and pieces:
        failure.partial_text = "".join(pieces)
    if failure.metrics is None:
        now = time.perf_counter()
        failure.metrics = CallMetrics(
            ttft_s=None if first_token_at is None else first_token_at - request.arrived,
            total_s=now - request.arrived,
        )
