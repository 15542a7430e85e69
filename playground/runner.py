"""Side by side means concurrent: one request fans out to N models on worker threads, and their events merge
into one stream tagged by model. A slow or failing model never blocks or breaks the others.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from playground.backends.base import Credentials, Event, Failure, Request, Result
from playground.backends.registry import backend_for
from playground.catalog import Catalog, CatalogError

DEFAULT_MODEL_TIMEOUT_S = 180.0
_DONE = object()


@dataclass
class _Finished:
    model_id: str


def _work(catalog: Catalog, model_id: str, request: Request, credentials: Credentials, out: queue.Queue) -> None:
    """Run one model to completion on this thread; every outcome, even a crash, ends in a Result or Failure."""
    try:
        spec = catalog.get(model_id)
        backend = backend_for(catalog, spec, request.task)
        if backend is None:
            out.put(Failure(model_id, f"{spec.name} cannot do '{request.task}'.", hint=f"It does: {', '.join(spec.tasks)}."))
            return
        for event in backend.execute(spec, request, credentials):
            out.put(event)
    except CatalogError as exc:
        out.put(Failure(model_id, str(exc), hint="Check the model id in playground/catalog.toml."))
    except Exception as exc:  # a bug in one backend must not take the page down
        out.put(Failure(model_id, f"Unexpected error: {type(exc).__name__}: {exc}"))
    finally:
        out.put(_Finished(model_id))


def run_side_by_side(
    catalog: Catalog,
    model_ids: list[str],
    request: Request,
    credentials: Credentials | None = None,
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S,
) -> Iterator[Event]:
    """Yield every model's events as they happen. Each model ends with one Result or Failure.

    A model still running after ``timeout_s`` gets a timeout Failure and its later events are dropped; its
    thread is a daemon and finishes on its own (Python threads cannot be killed).
    """
    credentials = credentials or Credentials()
    events: queue.Queue = queue.Queue()
    for model_id in dict.fromkeys(model_ids):
        threading.Thread(target=_work, args=(catalog, model_id, request, credentials, events), daemon=True).start()
    pending = set(model_ids)
    ended: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while pending:
        try:
            event = events.get(timeout=max(0.0, min(0.25, deadline - time.monotonic())))
        except queue.Empty:
            if time.monotonic() >= deadline:
                for model_id in sorted(pending - ended):
                    yield Failure(model_id, f"No answer within {timeout_s:.0f} s.", hint="The model or server is too slow; try fewer tokens.")
                return
            continue
        if isinstance(event, _Finished):
            pending.discard(event.model_id)
            continue
        if event.model_id in ended:
            continue
        if isinstance(event, (Result, Failure)):
            ended.add(event.model_id)
        yield event


def run_one(catalog: Catalog, model_id: str, request: Request, credentials: Credentials | None = None) -> Result | Failure:
    """Run a single model and return its final event (for batch jobs, benchmarks and tests)."""
    final = None
    for event in run_side_by_side(catalog, [model_id], request, credentials):
        if isinstance(event, (Result, Failure)):
            final = event
    return final
