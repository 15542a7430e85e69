"""Server-wide limits for local models, read from the environment when a model's line is created."""

from __future__ import annotations

import os

from playground.events import Notice
from playground.i18n import _


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


def cap_prompt(n_prompt: int, context_budget: int, model_id: str) -> tuple[int, Notice | None]:
    """How many of the prompt's last tokens a local model reads (every runtime applies the same cap), and the
    notice that says plainly when it read less than the whole prompt (models beside it may have read more)."""
    kept = min(context_budget, max_prompt_tokens())
    if n_prompt <= kept:
        return n_prompt, None
    if kept < context_budget:
        message = _(
            "Prompt truncated from {n} to {kept} tokens: this server reads at most {kept} tokens of a prompt "
            "for local models (PLAYGROUND_MAX_PROMPT_TOKENS)."
        )
    else:
        message = _("Prompt truncated from {n} to {kept} tokens to fit the context window.")
    different = _("This model read only the end of your prompt, so models beside it may have answered a longer one.")
    return kept, Notice(model_id, f"{message.format(n=n_prompt, kept=kept)} {different}")
