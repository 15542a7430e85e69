"""One way of measuring every call, whatever the backend."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class CallMetrics:
    """Timings (perf_counter seconds, relative to start) and token counts of one call.

    tokens/s = (output tokens - 1) / (end - TTFT): the first token's wait is TTFT, not throughput.
    A cold call's model load is timed in ``load_s`` and kept out of TTFT and total.
    """

    ttft_s: float | None = None
    total_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    load_s: float = 0.0
    cold: bool = False

    @property
    def tokens_per_s(self) -> float | None:
        if self.ttft_s is None or self.total_s is None or not self.output_tokens or self.output_tokens < 2:
            return None
        span = self.total_s - self.ttft_s
        return (self.output_tokens - 1) / span if span > 0 else None


class Stopwatch:
    """Marks start, first token and end of one call on the monotonic clock."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.end: float | None = None

    def token(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def stop(self) -> None:
        """Mark the end once; later calls keep the first end (error paths may call it again)."""
        if self.end is None:
            self.end = time.perf_counter()
        if self.first is None:  # non-streaming: the whole answer arrives at once
            self.first = self.end

    def metrics(self, **counts) -> CallMetrics:
        if self.end is None:
            self.stop()
        return CallMetrics(ttft_s=self.first - self.start, total_s=self.end - self.start, **counts)
