"""How much history keeps: a bound on each stored text and on the number of runs.

Without it, 3,400 runs with 100k-character prompts made a 347 MB file. The store calls ``clip`` on every text
field it writes and, after each insert, deletes all but the newest ``max_runs`` runs. Both limits are settings
(``PLAYGROUND_HISTORY_MAX_CHARS``, ``PLAYGROUND_HISTORY_MAX_RUNS``), so the worst case is their product.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_CHARS_SETTING = "PLAYGROUND_HISTORY_MAX_CHARS"
MAX_RUNS_SETTING = "PLAYGROUND_HISTORY_MAX_RUNS"
DEFAULT_MAX_CHARS = 20_000  # a long prompt or answer, whole; a pasted book, its start
DEFAULT_MAX_RUNS = 5_000  # a term of workshops
MARKER = "\n[… {n} more characters not stored]"
MIN_CHARS = 64  # the least a text keeps: room for the marker itself (a smaller setting is raised to this)


@dataclass(frozen=True)
class Retention:
    max_chars: int = DEFAULT_MAX_CHARS  # per stored text field, at least MIN_CHARS (the marker must fit)
    max_runs: int = DEFAULT_MAX_RUNS  # the oldest runs beyond this are deleted (by the store)

    @classmethod
    def from_env(cls) -> Retention:
        chars = max(MIN_CHARS, _positive(MAX_CHARS_SETTING, DEFAULT_MAX_CHARS))
        return cls(chars, _positive(MAX_RUNS_SETTING, DEFAULT_MAX_RUNS))

    def clip(self, text: str | None) -> str | None:
        """``text`` cut so that, with a marker saying how much was left out, it fits ``max_chars``."""
        if text is None or len(text) <= self.max_chars:
            return text
        keep = max(0, self.max_chars - len(MARKER.format(n=len(text))))  # the marker's longest possible form
        return text[:keep] + MARKER.format(n=len(text) - keep)


def _positive(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default
