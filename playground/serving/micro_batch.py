"""Single classifications from many sessions, gathered into one forward pass per model.

A request waits at most ``WINDOW_S`` for company, then everything gathered goes through the model together. Texts
are grouped by their label set, since one pass scores one set of labels: thirty students on the same exercise
share one pass, a student with other labels gets a pass of their own right after.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WINDOW_S = 0.01  # how long the first request of a pass waits for others: small next to a forward pass


@dataclass(eq=False)
class Job:
    text: str
    labels: tuple[str, ...]
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None  # perf_counter: when its forward pass began
    finished: float | None = None
    result: Any = None
    error: Exception | None = None


class MicroBatcher:
    """Runs ``classify(texts, labels) -> one result per text`` on its own thread, a gathered group at a time."""

    def __init__(self, classify: Callable[[list[str], tuple[str, ...]], list[Any]], max_texts: int) -> None:
        self._classify = classify
        self._max_texts = max_texts
        self._jobs: queue.Queue[Job] = queue.Queue()
        self.passes = 0  # forward passes run so far (the bench and tests compare it with the requests served)
        threading.Thread(target=self._serve, daemon=True, name="micro-batcher").start()

    def classify(self, text: str, labels: tuple[str, ...]) -> Job:
        """Submit one text and wait for its pass; the job carries the result (or the error) and its times."""
        job = Job(text, labels)
        self._jobs.put(job)
        job.done.wait()
        return job

    def _gather(self) -> list[Job]:
        jobs = [self._jobs.get()]
        deadline = time.perf_counter() + WINDOW_S
        while len(jobs) < self._max_texts:
            try:
                jobs.append(self._jobs.get(timeout=max(0.0, deadline - time.perf_counter())))
            except queue.Empty:
                break
        return jobs

    def _serve(self) -> None:
        while True:
            groups: dict[tuple[str, ...], list[Job]] = {}
            for job in self._gather():
                groups.setdefault(job.labels, []).append(job)
            for labels, jobs in groups.items():
                started = time.perf_counter()
                self.passes += 1
                try:
                    results, error = self._classify([job.text for job in jobs], labels), None
                except Exception as exc:  # reported to every job of the pass; the batcher keeps serving
                    results, error = [None] * len(jobs), exc
                finished = time.perf_counter()
                for job, result in zip(jobs, results):
                    job.started, job.finished, job.result, job.error = started, finished, result, error
                    job.done.set()
