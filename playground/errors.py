"""One error tree for the engine. Callers branch on ``code``, never on message text.

::

    PlaygroundError          message + hint (how to fix it) + code
     ├── CatalogError        a catalog file or entry is malformed, or a model id is unknown   (code "input")
     ├── InputError          text, labels, params or a CSV the user can fix                   (code "input")
     │    └── ImageError     an upload that is not a usable image                             (code "input")
     ├── MissingKeyError     an API model without its key or URL: unavailable, no call made   (code "auth")
     └── ProviderError       a call that went wrong; ``code`` says how:
                             auth, rate_limit, unreachable, timeout, bad_response, incomplete,
                             server_error, busy, input, budget

A backend turns a ``PlaygroundError`` into a ``Failure`` event with the same message, hint and code, so a page
shows it in that model's card only.
"""

from __future__ import annotations

AUTH = "auth"
RATE_LIMIT = "rate_limit"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
BAD_RESPONSE = "bad_response"
INCOMPLETE = "incomplete"
SERVER_ERROR = "server_error"
BUSY = "busy"  # admission control: the model's queue is full, no call was made
INPUT = "input"
CANCELLED = "cancelled"  # the user pressed Stop, or the page went away
INTERNAL = "internal"  # a bug: the message names the exception
BUDGET = "budget"  # a call on the server's keys that would pass a spending cap: refused before anything is sent

CODES = (
    AUTH,
    RATE_LIMIT,
    UNREACHABLE,
    TIMEOUT,
    BAD_RESPONSE,
    INCOMPLETE,
    SERVER_ERROR,
    BUSY,
    INPUT,
    CANCELLED,
    INTERNAL,
    BUDGET,
)


class PlaygroundError(Exception):
    """Something the user should see in words, with how to fix it."""

    code = INTERNAL

    def __init__(self, message: str, hint: str = "", code: str | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code
        self.retry_after_s = retry_after_s


class InputError(PlaygroundError, ValueError):
    """Input the user can fix: the message says how."""

    code = INPUT


class CatalogError(InputError):
    """A catalog entry is malformed, or a model id is not in the catalog."""


class ImageError(InputError):
    """An upload that cannot be used as an image (broken, too big, not an image)."""


class MissingKeyError(PlaygroundError):
    """No key (or no self-hosted URL) for this provider: shown as unavailable, and no call is made."""

    code = AUTH

    def __init__(self, status: str, how: str):
        super().__init__(status, how)
        self.status, self.how = status, how


class ProviderError(PlaygroundError):
    """A call to a model failed; ``code`` is one of CODES."""
