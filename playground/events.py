"""The ground floor of the engine: what a user asks (``Request``), what they bring (``Credentials``), and the events
every run yields (``Token``, ``Notice``, ``Waiting``, then one ``Result`` or ``Failure``).

Everything else builds on this module; it imports only errors and metrics, so any layer may use it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from playground.errors import INTERNAL, PlaygroundError
from playground.metrics import CallMetrics


@dataclass(frozen=True)
class GenParams:
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 128
    seed: int | None = None  # None: a fresh draw each run (thirty students get thirty answers); an int repeats
    ignore_eos: bool = False  # benchmarks: generate exactly max_new_tokens (local models only)


DEFAULT_CAPTION_INSTRUCTION = "Describe this image in one sentence."


@dataclass(frozen=True)
class Request:
    """What the user asked, the same for every model in a side-by-side run."""

    task: str  # "generate", "classify" or "caption"
    prompt: str = ""
    system: str = ""
    params: GenParams = field(default_factory=GenParams)
    labels: tuple[str, ...] = ()  # classify
    image: Any = None  # caption: a PIL.Image
    arrived: float = field(default_factory=time.perf_counter, compare=False)  # the clock starts here (perf_counter)
    owner: str = ""  # who asked (a session id): a shared local model runs at most one request per owner at a time
    history: tuple[dict, ...] = ()  # a conversation's earlier turns, oldest first: {"role": "user"|"assistant", ...}


def chat_messages(request: Request, user_content: Any = None) -> list[dict]:
    """The system prompt (when given), the conversation so far, then the user's turn: the shape chat APIs and chat
    templates both take. Every backend builds its messages here, so every one of them sends the whole thread.

    ``user_content`` replaces the prompt text, e.g. with a list of text and image parts for a vision model.
    """
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [{"role": m["role"], "content": m["content"]} for m in request.history]
    return [*messages, {"role": "user", "content": request.prompt if user_content is None else user_content}]


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach an OpenAI-compatible server for one call."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Credentials:
    """Per-session secrets and settings, passed into each call and never kept by a backend.

    ``api_keys`` maps a provider id to its key; ``self_hosted`` is the user's own endpoint, if set.
    """

    api_keys: dict[str, str] = field(default_factory=dict, repr=False)
    self_hosted: Endpoint | None = None


@dataclass
class Token:
    model_id: str
    text: str


@dataclass
class Notice:
    """Something the user should know that is not an error: the prompt was truncated (kept with the result),
    or progress such as loading and downloading (``progress=True``, gone once the result arrives)."""

    model_id: str
    message: str
    progress: bool = False


@dataclass
class Waiting:
    """The request is in line for a shared model: its place (1 = next) and an honest estimate of the wait.

    Sent again whenever the place changes; cards show it live ("3rd in line · about 8 s")."""

    model_id: str
    position: int
    waiting: int  # how many requests are in line for this model, this one included
    eta_s: float | None = None


@dataclass
class Result:
    model_id: str
    text: str = ""
    metrics: CallMetrics = field(default_factory=CallMetrics)
    scores: dict[str, float] | None = None  # classify: label -> probability, None when unknown
    label: str | None = None  # classify: the predicted label
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"sent_size": (w, h)}
    cost: Any = None  # a pricing.Cost, set by the session once the call is priced
    energy: Any = None  # an energy.Energy, set by the session when the run settles
    history_id: int | None = None  # its row in the store's runs, set by the session once recorded


@dataclass
class Failure:
    model_id: str
    message: str
    hint: str = ""  # how to fix it, shown under the message
    metrics: CallMetrics | None = None
    partial_text: str = ""  # what arrived before the failure; shown labelled as partial
    code: str = INTERNAL  # one of playground.errors.CODES: callers branch on this, never on the message
    retry_after_s: float | None = None
    cost: Any = None
    energy: Any = None
    history_id: int | None = None

    @classmethod
    def of(cls, model_id: str, error: PlaygroundError) -> Failure:
        """What a raised PlaygroundError says, as this model's failure: message, hint, code and retry time."""
        return cls(model_id, error.message, hint=error.hint, code=error.code, retry_after_s=error.retry_after_s)


Event = Token | Notice | Waiting | Result | Failure
