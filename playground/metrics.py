"""One way of measuring every call, whatever the backend.

The clock starts when the user's request arrives (``Request.arrived``), not when a model starts on it. A call's
time then splits into parts that are never hidden in each other::

    arrival ──queue──▶ start ──load──▶ ready ──prefill──▶ first token ──decode──▶ end
            queue_s            load_s          (ttft_s − queue_s − load_s)         decode_s
            └────────────────────── ttft_s ───────────────┘
            └──────────────────────────────────── total_s ─────────────────────────────┘
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class CallMetrics:
    """Timings in seconds, all counted from the request's arrival, and token counts of one call.

    tokens/s = (output tokens - 1) / decode_s: the first token's wait is TTFT, not throughput.
    """

    ttft_s: float | None = None
    total_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    queue_s: float = 0.0  # arrival until a model starts on the request (waiting in line, or for a busy model)
    load_s: float = 0.0  # a cold call's model load, inside ttft_s and total_s
    cold: bool = False

    @property
    def first_token_after_start_s(self) -> float | None:
        """What the model itself took to answer: TTFT less the wait in line and the load."""
        return None if self.ttft_s is None else max(0.0, self.ttft_s - self.queue_s - self.load_s)

    @property
    def decode_s(self) -> float | None:
        return None if self.ttft_s is None or self.total_s is None else max(0.0, self.total_s - self.ttft_s)

    @property
    def tokens_per_s(self) -> float | None:
        span = self.decode_s
        if not span or not self.output_tokens or self.output_tokens < 2:
            return None
        return (self.output_tokens - 1) / span


class Stopwatch:
    """Marks arrival, start, first token and end of one call on the monotonic clock (``time.perf_counter``).

    ``arrived`` is when the request arrived; ``started()`` marks when a model begins work on it, so the time in
    between is the queue wait. A backend that never calls ``started()`` had no wait beyond its own work.
    """

    def __init__(self, arrived: float | None = None) -> None:
        self.arrived = time.perf_counter() if arrived is None else arrived
        self.start: float | None = None
        self.load_s = 0.0
        self.first: float | None = None
        self.end: float | None = None

    def started(self, at: float | None = None) -> None:
        if self.start is None:
            self.start = time.perf_counter() if at is None else at

    def token(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def stop(self) -> None:
        """Mark the end once; later calls keep the first end (error paths may call it again)."""
        if self.end is None:
            self.end = time.perf_counter()
        if self.first is None:  # non-streaming: the whole answer arrives at once
            self.first = self.end

    @property
    def queue_s(self) -> float:
        return 0.0 if self.start is None else max(0.0, self.start - self.arrived)

    def metrics(self, **counts) -> CallMetrics:
        if self.end is None:
            self.stop()
        counts.setdefault("load_s", self.load_s)
        counts.setdefault("cold", self.load_s > 0)
        return CallMetrics(
            ttft_s=self.first - self.arrived, total_s=self.end - self.arrived, queue_s=self.queue_s, **counts
        )
