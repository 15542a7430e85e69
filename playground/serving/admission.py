"""An honest line in front of each local model: bounded, one place per session, with places and measured ETAs.

A ``ModelLine`` lets ``slots`` requests work at once (1 for a one-at-a-time model, the batch size for a batched
one) and at most ``max_waiting`` more wait. A request past that bound is refused at once with code "busy", saying
how many wait and when to retry; no work is done for it. A session (``owner``) holds at most one place per line,
so a double click does not queue twice: a Streamlit rerun abandons the page of the run before it, so a session's
newer request replaces its older one (taking its place in line) and the older one is told to stop.

While a request waits, ``wait_turn`` yields ``Waiting(position, waiting, eta_s)``: again whenever its place
changes, and at least every ``REFRESH_S`` so the caller can cancel it (a generator can only be closed between
events). The ETA comes from the service times measured on this line; until one is measured it is ``None``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

from playground.errors import BUSY, CANCELLED, ProviderError
from playground.events import Event, Failure, Request, Waiting
from playground.i18n import _

REFRESH_S = 1.0
SMOOTHING = 0.3  # weight of the newest service time in the running average


@dataclass(eq=False)
class Ticket:
    owner: str
    arrived: float  # perf_counter: when the user's request arrived
    admitted: float | None = None  # when the model started on it
    superseded: bool = False  # the same session asked again: this run's page is gone, so it should stop


@dataclass(eq=False)
class ModelLine:
    model_id: str
    slots: int
    max_waiting: int
    _waiting: deque = field(default_factory=deque)
    _active: set = field(default_factory=set)
    _service_s: float | None = None  # running average of admission -> done, for the ETA
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def enter(self, owner: str = "", arrived: float | None = None) -> Ticket:
        """Take a place in line, or raise a busy ProviderError (nothing was queued) when the line is full."""
        with self._cond:
            ticket = Ticket(owner, time.perf_counter() if arrived is None else arrived)
            mine = [t for t in (*self._waiting, *self._active) if owner and t.owner == owner and not t.superseded]
            if earlier := next(iter(mine), None):
                earlier.superseded = True
                if earlier in self._waiting:  # the newer run takes its place in line
                    self._waiting[self._waiting.index(earlier)] = ticket
                    self._cond.notify_all()
                    return ticket
            if len(self._active) < self.slots and not self._waiting:
                ticket.admitted = time.perf_counter()
                self._active.add(ticket)
                return ticket
            if len(self._waiting) >= self.max_waiting:
                retry = self._eta(len(self._waiting) + 1)
                raise ProviderError(
                    _("The server is busy: {n} requests are waiting for this model.").format(n=len(self._waiting)),
                    hint=_("Try again in about {s} s; your prompt is kept.").format(s=math.ceil(retry))
                    if retry is not None
                    else _("Try again in a moment; your prompt is kept."),
                    code=BUSY,
                    retry_after_s=retry,
                )
            self._waiting.append(ticket)
            return ticket

    def wait_turn(self, ticket: Ticket) -> Generator[Waiting, None, None]:
        """Yield Waiting events until the ticket is admitted. Closing the generator gives the place up."""
        shown = None
        try:
            while True:
                with self._cond:
                    if self._started(ticket):
                        return
                    if (
                        shown == self._waiting.index(ticket) + 1
                    ):  # nothing moved: sleep until something does, or the refresh is due
                        self._cond.wait(REFRESH_S)
                        if self._started(ticket):
                            return
                    position = self._waiting.index(ticket) + 1
                    event = Waiting(self.model_id, position, len(self._waiting), self._eta(position))
                shown = position
                yield event
        finally:
            if ticket.admitted is None:
                self.leave(ticket)

    @staticmethod
    def _started(ticket: Ticket) -> bool:
        """True once the model has started on the ticket; raises when the session's newer run took its place."""
        if ticket.admitted is None and ticket.superseded:
            raise superseded()
        return ticket.admitted is not None

    def leave(self, ticket: Ticket, completed: bool = False) -> None:
        """Give the place or the slot back; a completed run's service time feeds the ETA."""
        with self._cond:
            if ticket in self._active:
                self._active.discard(ticket)
                if completed and ticket.admitted is not None:
                    took = time.perf_counter() - ticket.admitted
                    self._service_s = (
                        took if self._service_s is None else (1 - SMOOTHING) * self._service_s + SMOOTHING * took
                    )
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            while self._waiting and len(self._active) < self.slots:
                admitted = self._waiting.popleft()
                admitted.admitted = time.perf_counter()
                self._active.add(admitted)
            self._cond.notify_all()

    def _eta(self, position: int) -> float | None:
        """Seconds until the request at ``position`` starts: ``slots`` runs of the measured length go at once, and
        the oldest run in progress is already partly done."""
        if self._service_s is None:
            return None
        now = time.perf_counter()
        oldest = max((now - t.admitted for t in self._active), default=0.0)
        runs_ahead = math.ceil(position / self.slots)
        return round(max(0.0, runs_ahead * self._service_s - min(oldest, self._service_s)), 1)

    def counts(self) -> tuple[int, int]:
        """(working, waiting) right now."""
        with self._cond:
            return len(self._active), len(self._waiting)


def superseded() -> ProviderError:
    return ProviderError(
        _("Stopped: you started a newer run on this model."),
        hint=_("Only your latest run is kept."),
        code=CANCELLED,
    )


_LINES: dict[tuple, ModelLine] = {}
_LINES_GUARD = threading.Lock()


def line_for(key: tuple, model_id: str, slots: int, max_waiting: int) -> ModelLine:
    """The one line for this model and service in this process (created on first use)."""
    with _LINES_GUARD:
        if key not in _LINES:
            _LINES[key] = ModelLine(model_id, slots, max_waiting)
        return _LINES[key]


def serve_in_line(
    line: ModelLine, model_id: str, request: Request, work: Callable[[Ticket], Iterator[Event]]
) -> Iterator[Event]:
    """Run ``work(ticket)`` in the model's line, the same way for every local runtime.

    ``work`` loads what it needs, then ``yield from line.wait_turn(ticket)`` (so a load is not counted as a turn),
    then runs. A full line answers with a Failure and no work; once the session's newer run replaces this one,
    the answer stops at its next event (closing ``work``, which cancels it in the runtime); the slot is freed
    however the run ends.
    """
    try:  # admission first: a full line or a second run of the same session costs no work at all
        ticket = line.enter(request.owner, request.arrived)
    except ProviderError as exc:
        yield Failure.of(model_id, exc)
        return
    completed = False
    events = work(ticket)
    try:
        for event in events:
            if ticket.superseded and ticket.admitted is not None:  # nobody is waiting for this answer any more
                yield Failure.of(model_id, superseded())
                return
            yield event
        completed = True
    except ProviderError as exc:  # the session's newer run took this place while it waited
        yield Failure.of(model_id, exc)
    finally:
        events.close()
        line.leave(ticket, completed)
