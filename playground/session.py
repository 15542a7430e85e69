"""THE way to run models: fan out, price each finished call, record it, and yield the events.

Pages, batch evaluation, the arena, rooms and benchmarks all go through ``Playground``, so every run is priced and
stored the same way, failures and timeouts included (with their partial output)::

    playground = Playground(catalog, store)
    for event in playground.run(["smollm2-135m", "gpt-4o-mini"], request, credentials, RunContext("generate")):
        ...  # Token / Notice / Waiting as they come; each model ends with one Result or Failure carrying .cost
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from playground.access import server_secret
from playground.budget import Gate, Ticket, gate_for
from playground.catalog import Catalog
from playground.context import RunContext
from playground.energy import LEDGER, Share, account
from playground.errors import BUDGET, INPUT, CatalogError, PlaygroundError
from playground.evaluation import ModelEvaluation, Progress, evaluate
from playground.events import Credentials, Event, Failure, Notice, Request, Result, Token
from playground.hardware import detect
from playground.i18n import _
from playground.languages import language_warning
from playground.metrics import CallMetrics
from playground.params import check_params
from playground.pricing import cost_of
from playground.runner import DEFAULT_MODEL_TIMEOUT_S, run_side_by_side
from playground.store.prompt_set_store import Cell

log = logging.getLogger(__name__)
EVALUATION_ANSWER_TOKENS = 16  # an API classifier answers with a label (backends/api_classify.py)


@dataclass(frozen=True)
class RunSettings:
    """A session's choices that change how runs are priced and stored."""

    hourly_usd: float = field(default_factory=lambda: detect().default_usd_per_hour)  # local models' machine time
    store_io: bool = True  # False: history keeps the metrics of each run, not the prompt or the answer
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S


class Playground:
    """A catalog plus a store. Holds no per-user state: credentials, context and settings come with each call.

    Calls on the server's own API keys pass its ``Gate`` first (who may, the rate limit, the budget): the worst case
    is reserved before anything is sent and the real cost settled after."""

    def __init__(self, catalog: Catalog, store, gate: Gate | None = None) -> None:
        self.catalog = catalog
        self.store = store
        self.gate = gate or gate_for(store)

    def run(
        self,
        model_ids: Iterable[str],
        request: Request | Mapping[str, Request],
        credentials: Credentials | None = None,
        context: RunContext = RunContext("api"),
        settings: RunSettings | None = None,
        record: bool = True,
    ) -> Iterator[Event]:
        """Every model's events as they happen; each final is priced (``.cost``) and recorded before it is yielded.

        A model that fails or times out is recorded as a failure with the text it had streamed so far.
        ``record=False``: finals come priced but unrecorded, and the caller must ``record`` each one (a prompt set
        writes a run together with its checked cell).
        """
        credentials = credentials or Credentials()
        settings = settings or RunSettings()
        model_ids = list(dict.fromkeys(model_ids))
        for own in request.values() if isinstance(request, Mapping) else [request]:
            check_params(own.params)  # raises InputError: one clear message, before any model is asked
        request = _owned_by(request, context.session_id)
        tickets: dict[str, Ticket | None] = {}
        for model_id in list(model_ids):
            own = request[model_id] if isinstance(request, Mapping) else request
            refused = self._admit(model_id, own, credentials, context, tickets)
            if refused is not None:  # nothing is sent: the card says why, the other models run
                model_ids.remove(model_id)
                if (unsaved := self.settle(refused, own, credentials, context, settings, record=record)) is not None:
                    yield unsaved
                yield refused
        for model_id in model_ids:  # before any token: the card says it first
            own = request[model_id] if isinstance(request, Mapping) else request
            if model_id in self.catalog.models and (
                warning := language_warning(self.catalog, self.catalog.get(model_id), own.prompt)
            ):
                yield Notice(model_id, warning)
        streamed: dict[str, list[str]] = {m: [] for m in model_ids}
        shares = {m: LEDGER.open() for m in model_ids if (s := self.catalog.models.get(m)) and s.is_local}
        first_token_at: dict[str, float] = {}
        events = (
            run_side_by_side(self.catalog, model_ids, request, credentials, settings.timeout_s) if model_ids else ()
        )
        for event in LEDGER.closing(shares, events):
            if isinstance(event, Token):
                streamed[event.model_id].append(event.text)
                first_token_at.setdefault(event.model_id, time.perf_counter())
            elif isinstance(event, (Result, Failure)):
                own = request[event.model_id] if isinstance(request, Mapping) else request
                if isinstance(event, Failure):
                    _complete_failure(event, own, streamed[event.model_id], first_token_at.get(event.model_id))
                share = LEDGER.close(shares.pop(event.model_id, None))
                if (unsaved := self.settle(event, own, credentials, context, settings, share, record)) is not None:
                    yield unsaved
                self._close_ticket(tickets.pop(event.model_id, None), event)
            yield event

    def _admit(
        self, model_id: str, request: Request, credentials: Credentials, context: RunContext, tickets: dict
    ) -> Failure | None:
        """Let a call on the server's key through the gate (its ticket goes into ``tickets``), or say why not."""
        try:
            spec = self.catalog.get(model_id)
        except CatalogError:
            return None  # the runner reports the unknown id
        try:
            tickets[model_id] = self.gate.admit(self.catalog, spec, request, credentials, context)
        except PlaygroundError as exc:
            return Failure.of(model_id, exc)
        except Exception as exc:  # the store cannot be read: spending cannot be checked, so nothing is spent
            log.warning("budget not checked: %s", type(exc).__name__)
            return Failure(
                model_id,
                _("The budget on the server's keys could not be checked ({error}).").format(error=type(exc).__name__),
                _("Nothing was sent. Try again, or paste your own key in the sidebar."),
                code=BUDGET,
            )
        return None

    def _close_ticket(self, ticket: Ticket | None, final: Result | Failure) -> None:
        try:
            self.gate.settle(ticket, final)
        except Exception as exc:  # the reservation stays held: counted as spent, never as free
            log.warning("reservation not settled: %s", type(exc).__name__)

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
        summary = Request("classify", prompt=f"[{len(data.texts)} labelled texts]", labels=tuple(labels))
        longest = Request("classify", prompt=max(data.texts, key=len, default=""), labels=tuple(labels))
        longest = replace(longest, params=replace(longest.params, max_new_tokens=EVALUATION_ANSWER_TOKENS))
        tickets: dict[str, Ticket | None] = {}
        refused = {}
        for model_id in dict.fromkeys(model_ids):
            try:
                spec = self.catalog.get(model_id)
                tickets[model_id] = self.gate.admit(
                    self.catalog, spec, longest, credentials, context, calls=len(data.texts)
                )
            except PlaygroundError as exc:
                refused[model_id] = exc
        allowed = [m for m in dict.fromkeys(model_ids) if m not in refused]
        evaluations = evaluate(self.catalog, allowed, data, labels, credentials, progress, settings.timeout_s)
        for model_id, exc in refused.items():
            evaluations[model_id] = ev = ModelEvaluation(model_id)
            ev.failure, ev.error = Failure.of(model_id, exc), f"{exc.message} {exc.hint}".strip()
        for model_id, ev in evaluations.items():
            metrics = ev.call_metrics()
            if ev.failure is not None:
                final: Result | Failure = Failure(
                    model_id, ev.failure.message, ev.failure.hint, metrics, code=ev.failure.code
                )
            elif ev.metrics is None:  # a fixed label set of its own: nothing was scored
                final = Failure(model_id, ev.error, metrics=metrics, code=INPUT)
            else:
                score = f"accuracy {ev.metrics.accuracy:.3f}, macro-F1 {ev.metrics.macro_f1:.3f}"
                final = Result(model_id, text=f"{score} on {len(ev.predictions)} texts", metrics=metrics)
            self.settle(final, summary, credentials, context, settings, share=ev.share)
            self._close_ticket(tickets.get(model_id), final)
            ev.cost = final.cost
        return evaluations

    def settle(
        self,
        final: Result | Failure,
        request: Request,
        credentials: Credentials,
        context: RunContext,
        settings: RunSettings,
        share: Share | None = None,
        record: bool = True,
    ) -> Notice | None:
        """Price ``final`` (sets ``final.cost``), account its energy (``final.energy``, from ``share``, what a local
        call used of this process) and, unless ``record`` is False, ``record`` it."""
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
        final.energy = account(spec, final, share, self.store)
        return self.record(final, request, credentials, context, settings) if record else None

    def record(
        self,
        final: Result | Failure,
        request: Request,
        credentials: Credentials,
        context: RunContext,
        settings: RunSettings,
        cell: Cell | None = None,
    ) -> Notice | None:
        """Write a settled ``final`` to history (sets ``final.history_id``), with its prompt-set ``cell`` in the same
        transaction if given. A store that cannot be written never breaks a run: the returned Notice says the run
        was not saved."""
        try:
            spec = self.catalog.get(final.model_id)
        except CatalogError:
            return None
        try:
            final.history_id = self.store.record(
                context,
                spec,
                request,
                final,
                final.cost,
                secrets=self.secrets(credentials),
                store_io=settings.store_io,
                cell=cell,
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
        keys += [server_secret(p.key_env) for p in self.catalog.providers.values() if p.key_env]
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
