"""Money on the server's keys: reserve the worst case before a call, settle the real cost after, atomically in the store.

A call made with a key the server holds (environment or secrets.toml) is capped per session, per room and per
server per day, and rate-limited per session. A key a student pasted into their own session is theirs: not capped.

Before the call the worst case is reserved: every prompt byte counted as a token (byte-level BPE never makes more
tokens than bytes) plus the chat template's overhead, and ``max_new_tokens`` out, at the model's genai-prices price.
The store checks that reservation against every cap in one locked transaction, so 30 threads or two replicas on one
PostgreSQL never overspend. After the call the reservation becomes the real cost; a call refused before any token
is refunded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from playground.access import RateLimiter, ServerSettings, may_use_server_keys
from playground.catalog import Catalog, ModelSpec
from playground.context import RunContext
from playground.credentials import resolve_access
from playground.errors import AUTH, BUDGET, PlaygroundError
from playground.events import Credentials, Failure, Request, Result
from playground.formatting import format_usd
from playground.i18n import _
from playground.pricing import api_cost

TEMPLATE_TOKENS = 16  # per message: role markers and separators of a chat template
IMAGE_TOKENS = 2_000  # a vision model's worst case for one image, before the text


class OverBudget(PlaygroundError):
    code = BUDGET


@dataclass(frozen=True)
class Caps:
    session_usd: float | None
    room_usd: float | None
    day_usd: float | None


@dataclass(frozen=True)
class Ticket:
    """A call admitted on the server's key: its reservation (None when nothing is priced), settled after."""

    model_id: str
    reservation: int | None


def worst_case_tokens(request: Request) -> tuple[int, int]:
    """An upper bound of the prompt's tokens, and the most the model may write."""
    texts = [request.system, request.prompt, *request.labels]
    prompt = sum(len(t.encode("utf-8")) for t in texts if t) + TEMPLATE_TOKENS * (1 + bool(request.system))
    if request.image is not None:
        prompt += IMAGE_TOKENS
    return prompt, request.params.max_new_tokens


def worst_case_usd(catalog: Catalog, spec: ModelSpec, request: Request) -> float | None:
    """What the call could cost at most, or None when the model has no price (nothing to reserve)."""
    tokens_in, tokens_out = worst_case_tokens(request)
    return api_cost(spec, catalog.provider_of(spec), tokens_in, tokens_out).usd


def uses_server_key(catalog: Catalog, spec: ModelSpec, credentials: Credentials) -> bool:
    """Whether this call would go out on a key (or a self-hosted URL) the server holds, not one the session brought."""
    provider = catalog.provider_of(spec)
    if spec.is_local or provider.kind != "openai-compat":
        return False
    try:
        return resolve_access(spec, provider, credentials).on_server
    except PlaygroundError:  # no key, or a URL that cannot be one: the call fails before it spends anything
        return False


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class Gate:
    """Admits calls on the server's keys (policy, rate limit, budget) and settles them. One per store per process."""

    def __init__(self, store, clock=time.time, limiter: RateLimiter | None = None) -> None:
        self.store = store
        self.settings = ServerSettings(store)
        self.clock = clock
        self.limiter = limiter or RateLimiter()

    def caps(self, values: dict, room: str | None) -> Caps:
        room_cap = self.store.room_budget(room) if room else None
        return Caps(values["budget_session_usd"], room_cap, values["budget_day_usd"])

    def admit(
        self,
        catalog: Catalog,
        spec: ModelSpec,
        request: Request,
        credentials: Credentials,
        context: RunContext,
        calls: int = 1,
    ) -> Ticket | None:
        """None for a call that is not on the server's key; else a ticket, or a raised ``OverBudget`` /
        ``RateLimited`` / ``PlaygroundError`` (code ``auth``) saying why not and who can change it. ``calls``: a
        batch of that many such requests, reserved together (batch evaluation)."""
        if not uses_server_key(catalog, spec, credentials):
            return None
        values = self.settings.all()
        scope = context.scope()
        member = bool(context.room) and self.store.is_member(context.room, context.session_id)
        if not may_use_server_keys(values["server_keys"], scope, context.room, member):
            raise PlaygroundError(
                _("The server's key for {name} is not open to this session.").format(name=spec.display_name),
                _("The admin lets only {who} use it. Paste your own key in the sidebar, or ask the admin.").format(
                    who=_("room members") if values["server_keys"] == "rooms" else _("the admin")
                ),
                code=AUTH,
            )
        if context.session_id and not scope.is_admin:
            self.limiter.take(context.session_id, values["api_calls_per_minute"])
        usd = (worst_case_usd(catalog, spec, request) or 0.0) * calls
        if not usd:
            return Ticket(spec.id, None)
        caps = self.caps(values, context.room)
        if scope.is_admin:
            caps = Caps(None, None, caps.day_usd)  # the admin is held only by the server's daily cap
        session = context.session_id or None
        outcome = self.store.reserve(usd, session, context.room, spec.id, _day(self.clock()), caps, self.clock())
        if isinstance(outcome, int):
            return Ticket(spec.id, outcome)
        raise over_budget(outcome, usd)

    def settle(self, ticket: Ticket | None, final: Result | Failure) -> None:
        """The real cost replaces the reservation; a call that failed before any answer costs nothing."""
        if ticket is None or ticket.reservation is None:
            return
        cost = final.cost.usd if final.cost is not None else None
        if isinstance(final, Failure) and not final.partial_text and cost is None:
            self.store.refund(ticket.reservation, self.clock())
        elif cost is not None:
            self.store.settle(ticket.reservation, cost, self.clock())
        # else: a broken call with no usage reported keeps its worst case as spent (the provider may bill it)


def over_budget(refusal, usd: float) -> OverBudget:
    """The refusal in words: which cap, what is left, what this call could cost, and who can raise it."""
    left = max(0.0, refusal.cap - refusal.used)
    who = {
        "session": _("the server's admin can raise the session budget"),
        "room": _("your instructor can raise the room's budget (up to the admin's ceiling)"),
        "day": _("the server's admin can raise the daily budget, or wait until tomorrow (UTC)"),
    }[refusal.cap_name]
    what = {
        "session": _("This session has {left} left of its {cap} on the server's keys"),
        "room": _("This room has {left} left of its {cap} on the server's keys"),
        "day": _("The server has {left} left of today's {cap} on its keys"),
    }[refusal.cap_name]
    return OverBudget(
        _("{what}; this call could cost up to {usd}.").format(
            what=what.format(left=format_usd(left), cap=format_usd(refusal.cap)), usd=format_usd(usd)
        ),
        _(
            "Nothing was sent. Shorten the prompt or lower max new tokens; {who}; or paste your own key in the sidebar "
            "(your own key is not capped)."
        ).format(who=who),
    )


_gates: dict[int, Gate] = {}
_gates_lock = threading.Lock()


def gate_for(store) -> Gate:
    """The process's gate for this store: its rate-limit buckets are shared by every session's calls."""
    with _gates_lock:
        gate = _gates.get(id(store))
        if gate is None or gate.store is not store:
            gate = _gates[id(store)] = Gate(store)
        return gate


def spending_line(spent: float, cap: float | None) -> str:
    """How much of a cap is spent, for the sidebar and the room's live view."""
    if cap is None:
        return format_usd(spent)
    return _("{spent} of {cap}").format(spent=format_usd(spent), cap=format_usd(cap))
