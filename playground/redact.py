"""Keys never reach storage, logs or exports: every text that is kept passes through ``scrub`` first."""

from __future__ import annotations

from typing import Iterable

REDACTED = "[redacted]"


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every given secret replaced by ``[redacted]``."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
