"""Server-wide limits for local models, read from the environment when a model's line is created."""

from __future__ import annotations

import os


def _int_setting(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def max_queue() -> int:
    """How many requests may wait for one model (not counting those it is working on); past it: busy."""
    return _int_setting("PLAYGROUND_MAX_QUEUE", 32)


def max_batch() -> int:
    """How many requests one batched model works on at once (30 students fit in one batch)."""
    return _int_setting("PLAYGROUND_MAX_BATCH", 32)


def max_prompt_tokens() -> int:
    """The longest prompt a local model reads, in tokens: one long prompt must not hold a shared model for minutes."""
    return _int_setting("PLAYGROUND_MAX_PROMPT_TOKENS", 2048)
