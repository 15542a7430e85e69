"""Side by side means concurrent: one request fans out to N models on worker threads, and their events merge
into one stream tagged by model. A slow or failing model never blocks or breaks the others.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Mapping

from playground.backends.registry import backend_for
from playground.catalog import Catalog
from playground.classify import BatchRequest
from playground.errors import INPUT, INTERNAL, TIMEOUT, PlaygroundError
from playground.events import Credentials, Event, Failure, Request, Result
from playground.i18n import _

DEFAULT_MODEL_TIMEOUT_S = 180.0
_DONE = object()


@dataclass
class _Finished:
    model_id: str


def _work(
    catalog: Catalog,
    model_id: str,
    request: Request,
    credentials: Credentials,
    out: queue.Queue,
    cancel: threading.Event,
) -> None:
    """Run one model on this thread; every outcome, even a crash, ends in a Result or Failure.

    When ``cancel`` is set (timeout, or the page went away) the backend's generator is closed, so a local model
    stops generating and frees its lock for the next user.
    """
    events = None
    try:
        spec = catalog.get(model_id)
        backend = backend_for(catalog, spec, request.task)
        if backend is None:
            out.put(
                Failure(
                    model_id,
                    _("{name} cannot do '{task}'.").format(name=spec.display_name, task=request.task),
                    _("It does: {tasks}.").format(tasks=", ".join(spec.tasks)),
                    code=INPUT,
                )
            )
            return
        events = backend.execute(spec, request, credentials)
        for event in events:
            if cancel.is_set():
                break
            out.put(event)
    except PlaygroundError as exc:  # an unknown model id, bad input found late (no image, a broken one)
        out.put(Failure.of(model_id, exc))
    except Exception as exc:  # a bug in one backend must not take the page down
        out.put(
            Failure(
                model_id, _("Unexpected error: {error}").format(error=f"{type(exc).__name__}: {exc}"), code=INTERNAL
            )
        )
    finally:
        if events is not None:
            events.close()
        out.put(_Finished(model_id))


def run_side_by_side(
    catalog: Catalog,
    model_ids: list[str],
    request: Request | Mapping[str, Request],
    credentials: Credentials | None = None,
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S,
) -> Iterator[Event]:
    """Yield every model's events as they happen. Each model ends with one Result or Failure.

    ``request`` is shared by all models, or given per model id (when a model overrides the shared params).

    A model still running after ``timeout_s`` gets a timeout Failure and is cancelled: its backend is closed
    at its next event, so a local model stops generating and frees its lock.
    """
    credentials = credentials or Credentials()
    events: queue.Queue = queue.Queue()
    cancel = threading.Event()
    for model_id in dict.fromkeys(model_ids):
        own = request[model_id] if isinstance(request, Mapping) else request
        work_args = (catalog, model_id, own, credentials, events, cancel)
        # each worker runs in a copy of the caller's context, so it speaks the session's language (i18n)
        threading.Thread(target=contextvars.copy_context().run, args=(_work, *work_args), daemon=True).start()
    try:
        yield from _merge(events, set(model_ids), timeout_s, batch=isinstance(request, BatchRequest))
    finally:  # the deadline passed, or the consumer stopped listening
        cancel.set()


def _merge(events: queue.Queue, pending: set[str], timeout_s: float, batch: bool = False) -> Iterator[Event]:
    """A model ends with its first Result or Failure; a batch (one Result per text) only with a Failure or its end."""
    ended: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while pending:
        try:
            event = events.get(timeout=max(0.0, min(0.25, deadline - time.monotonic())))
        except queue.Empty:
            if time.monotonic() >= deadline:
                for model_id in sorted(pending - ended):
                    yield Failure(
                        model_id,
                        _("No answer within {s:.0f} s.").format(s=timeout_s),
                        _(
                            "The model or server is too slow, or the line is long: try fewer tokens, or run again later."
                        ),
                        code=TIMEOUT,
                    )
                return
            continue
        if isinstance(event, _Finished):
            pending.discard(event.model_id)
            continue
        if event.model_id in ended:
            continue
        if isinstance(event, Failure) or (isinstance(event, Result) and not batch):
            ended.add(event.model_id)
        yield event


def finals_of(
    catalog: Catalog,
    model_id: str,
    request: Request,
    credentials: Credentials | None = None,
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S,
) -> list[Result | Failure]:
    """One model's final events (one, or one per text of a ``BatchRequest``), with the runner's deadline and crash
    isolation, unpriced and unrecorded: for the engine's batch jobs (each pass is then recorded once, as a whole)
    and for tests of a backend.

    What a user or a benchmark runs goes through ``Playground.run_one`` instead, which prices and records."""
    return [
        e
        for e in run_side_by_side(catalog, [model_id], request, credentials, timeout_s)
        if isinstance(e, (Result, Failure))
    ]


def final_of(catalog: Catalog, model_id: str, request: Request, *args, **kwargs) -> Result | Failure:
    """The last of ``finals_of`` (same arguments): a single request's Result or Failure."""
    return finals_of(catalog, model_id, request, *args, **kwargs)[-1]
