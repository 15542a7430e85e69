"""Keys never reach storage, logs or exports: every text that is kept passes through ``scrub`` first.

A key can leak in more shapes than its exact spelling, so ``scrub`` also removes:

- credentials written into a URL (``https://user:pass@host``) and key-like query parameters (``?api_key=…``),
  whoever's they are: they are secrets by their position, not because the caller named them;
- a provider's masked echo of a key (``sk-abc1****wxyz``, as OpenAI words a 401);
- any run of 6 or more characters of a named key of 12 or more (a partial echo); a key of 4 to 11 characters
  wherever it appears, and one of 1 to 3 wherever it stands as a whole word.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"
FRAGMENT = 6  # the shortest piece of a named key that counts as a leak of it
_FRAGMENT_KEYS = 12  # keys at least this long are also matched piece by piece

# Each pattern starts only where a run of its characters starts (lookbehind), so a 100k-character answer is
# scanned in linear time: a bare \b or a leading [\w.-]* made them quadratic on long runs of word characters.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@?#]+@")
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:api[_-]?key|apikey|key|token|access[_-]?token|auth|secret|password|pass|sig|signature)=)"
    r"[^&\s#\"'<>]+",
    re.IGNORECASE,
)
_MASKED_ECHO = re.compile(r"(?<![\w.-])[\w.-]*[\w-]\*{3,}[\w-]+")  # key chars, 3+ stars, key chars: not Markdown


def scrub(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """``text`` with every given secret, URL credential, key-like query value and masked key echo replaced by
    ``[redacted]``."""
    if text is None:
        return None
    text = _MASKED_ECHO.sub(REDACTED, text)  # first: once a named key's piece is gone, its echo is unrecognisable
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):  # longest first: no half-redacted key
        text = _scrub_secret(text, secret)
    text = _URL_CREDENTIALS.sub(lambda m: m["scheme"] + REDACTED + "@", text)
    return _QUERY_SECRET.sub(lambda m: m["name"] + REDACTED, text)


def _scrub_secret(text: str, secret: str) -> str:
    if len(secret) < 4:  # "abc" inside an ordinary word is not a leak; the whole word is
        return re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", REDACTED, text)
    text = text.replace(secret, REDACTED)
    if len(secret) < _FRAGMENT_KEYS:
        return text
    pieces = {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    hits = [False] * len(text)
    for start in range(len(text) - FRAGMENT + 1):
        if text[start : start + FRAGMENT] in pieces:
            hits[start : start + FRAGMENT] = [True] * FRAGMENT
    if not any(hits):
        return text
    out, index = [], 0
    while index < len(text):
        if hits[index]:
            while index < len(text) and hits[index]:
                index += 1
            out.append(REDACTED)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def display_url(url: str) -> str:
    """A base URL fit to show or store: without user:password and without its query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url) or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else scrub(url) or ""
