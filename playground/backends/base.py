"""The contract every backend follows.

A backend is one small class with one generator method, ``execute(spec, request, credentials)``. It yields
``Token`` events as text arrives and ends with exactly one ``Result`` or ``Failure``. It holds no per-user state
and never stores credentials: they come with each call. The request and event types live in ``playground.events``.
"""

from __future__ import annotations

from typing import Iterator, Protocol

from playground.catalog import ModelSpec
from playground.events import Credentials, Event, Request


class Backend(Protocol):
    """``batch_size``: texts a classifier takes in one pass (batch evaluation), or None for one call per text."""

    batch_size: int | None

    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials) -> Iterator[Event]: ...
