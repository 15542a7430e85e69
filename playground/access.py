"""Who may see and do what: a student (every visitor), an instructor (a room's PIN), the admin (the server's password).

Scopes are decided here and applied by the store's queries, never only by hiding a widget:

- a **student** sees their own runs and the rooms they joined;
- an **instructor** also sees the runs, votes and spending of the rooms whose PIN they entered;
- the **admin** (``PLAYGROUND_ADMIN_PASSWORD``, in the environment or ``.streamlit/secrets.toml``) sees everything
  and alone sets the server-wide settings (``ServerSettings``).

Wrong passwords and PINs are counted in the store, per target, so a reload or another replica does not reset them,
and each failure past the first few doubles the wait before the next try (``Lockout``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from playground.errors import RATE_LIMIT, InputError, PlaygroundError
from playground.i18n import _

STUDENT, INSTRUCTOR, ADMIN = "student", "instructor", "admin"
ADMIN_PASSWORD = "PLAYGROUND_ADMIN_PASSWORD"
SECRETS_FILES = (Path(".streamlit/secrets.toml"), Path("~/.streamlit/secrets.toml"))  # where Streamlit reads them
SECRETS_FILES_ENV = "STREAMLIT_SECRETS_FILES"  # Streamlit's own override of those, space-separated as its CLI reads it
ADMIN_TARGET = "admin"

Clock = Callable[[], float]


@dataclass(frozen=True)
class Scope:
    """What one browser session may see: its own runs, the rooms it instructs, or everything (the admin)."""

    session_id: str
    role: str = STUDENT
    rooms: frozenset[str] = frozenset()  # rooms whose instructor PIN this session entered

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def instructs(self, room: str | None) -> bool:
        return self.is_admin or (room is not None and room in self.rooms)


def server_secret(name: str) -> str:
    """A server-side setting from ``.streamlit/secrets.toml``, else the environment; empty when neither has it.

    The file wins, as it does under Streamlit (which copies a secrets file's top-level values into ``os.environ``).
    The engine reads the file itself, so it works without Streamlit."""
    for path in [Path(p) for p in os.environ.get(SECRETS_FILES_ENV, "").split()] or SECRETS_FILES:
        value = _secrets_in(path.expanduser()).get(name)
        if value not in ("", None):
            return str(value)
    return os.environ.get(name, "")


def _secrets_in(path: Path) -> dict[str, Any]:
    """A secrets file's contents; empty when it is missing or unreadable (no secrets.toml is the normal case).

    Read on every lookup, never cached: it holds keys, and a small TOML parses in microseconds."""
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


# ---------------------------------------------------------------- server-wide settings (the admin's alone)

SERVER_KEYS_CHOICES = ("everyone", "rooms", "admin")  # who may use the server's API keys
ROOM_CREATION_CHOICES = ("everyone", "admin")


@dataclass(frozen=True)
class Setting:
    name: str  # the store's settings key
    env: str  # the environment / secrets.toml name that sets its default before start-up
    default: Any
    parse: Callable[[Any], Any]


def _usd(value: Any) -> float:
    usd = float(value)
    if not math.isfinite(usd) or usd < 0:
        raise ValueError(value)
    return usd


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if str(value) not in options:
            raise ValueError(value)
        return str(value)

    return parse


def _zone(value: Any) -> str:
    """An electricity-mix zone as EcoLogits names them: an ISO 3166-1 alpha-3 code, or WOR for the world."""
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(value)
    return code


def _per_minute(value: Any) -> float:
    rate = float(value)
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(value)
    return rate


SETTINGS = {
    s.name: s
    for s in (
        Setting("budget_session_usd", "PLAYGROUND_BUDGET_SESSION_USD", 0.50, _usd),
        Setting("budget_day_usd", "PLAYGROUND_BUDGET_DAY_USD", 20.0, _usd),
        Setting("budget_room_max_usd", "PLAYGROUND_BUDGET_ROOM_MAX_USD", 5.0, _usd),  # instructors set up to this
        Setting("server_keys", "PLAYGROUND_SERVER_KEYS", "everyone", _choice(SERVER_KEYS_CHOICES)),
        Setting("api_calls_per_minute", "PLAYGROUND_API_CALLS_PER_MINUTE", 10.0, _per_minute),
        Setting("room_creation", "PLAYGROUND_ROOM_CREATION", "everyone", _choice(ROOM_CREATION_CHOICES)),
        Setting("default_hourly_usd", "PLAYGROUND_HOURLY_USD", None, _usd),  # None: the detected machine's rate
        Setting("store_prompts", "PLAYGROUND_STORE_PROMPTS", True, lambda v: str(v).lower() not in ("0", "false")),
        Setting("electricity_zone", "PLAYGROUND_ELECTRICITY_ZONE", "WOR", _zone),  # carbon per kWh (playground.energy)
    )
}
SERVER_PREFIX = "server."  # the store's settings table holds them under this prefix


class ServerSettings:
    """Server-wide settings: the admin's value in the store, else the environment or secrets.toml, else a default.

    Anyone reads them (a student's page shows the caps); only an admin ``Scope`` writes them."""

    def __init__(self, store) -> None:
        self.store = store

    def get(self, name: str) -> Any:
        """One setting, in one read of its row (a run asks for its electricity zone)."""
        return _parsed(SETTINGS[name], self.store.get_setting(SERVER_PREFIX + name), self.fallback(name))

    def all(self) -> dict[str, Any]:
        """Every setting in one read of the store (a call checks several)."""
        saved = self.store.settings_with_prefix(SERVER_PREFIX)
        return {
            name: _parsed(setting, saved.get(SERVER_PREFIX + name), self.fallback(name))
            for name, setting in SETTINGS.items()
        }

    @staticmethod
    def fallback(name: str) -> Any:
        """A setting before any admin chose it: secrets.toml or the environment (``server_secret``), else its default."""
        setting = SETTINGS[name]
        return _parsed(setting, server_secret(setting.env) or None, setting.default)

    def set(self, scope: Scope, name: str, value: Any) -> None:
        if not scope.is_admin:
            raise InputError(
                _("Only the admin can change server-wide settings."),
                _("Sign in as admin in the sidebar (the server's PLAYGROUND_ADMIN_PASSWORD)."),
            )
        try:
            parsed = SETTINGS[name].parse(value)
        except (TypeError, ValueError):
            raise InputError(_("{value} is not a valid value here.").format(value=value)) from None
        self.store.set_setting(SERVER_PREFIX + name, parsed)


def _parsed(setting: Setting, raw: Any, otherwise: Any) -> Any:
    """``raw`` as the setting's value; ``otherwise`` when there is none or it is bad (a bad value is ignored)."""
    if raw is None:
        return otherwise
    try:
        return setting.parse(raw)
    except (TypeError, ValueError):
        return otherwise


def may_use_server_keys(policy: str, scope: Scope, room: str | None, is_member: bool) -> bool:
    """The admin's choice of who spends the server's keys: everyone, room members (and instructors), or the admin."""
    if scope.is_admin or policy == "everyone":
        return True
    return policy == "rooms" and room is not None and (is_member or scope.instructs(room))


def may_create_rooms(policy: str, scope: Scope) -> bool:
    return scope.is_admin or policy == "everyone"


# ---------------------------------------------------------------- passwords and PINs

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def scrypt_equal(given: str, expected: str) -> bool:
    """Whether ``given`` is the secret ``expected`` holds: an ``scrypt$n$r$p$salt$hash`` string (as rooms store
    PINs), or the password itself, compared through scrypt with a fresh salt in constant time."""
    if expected.startswith("scrypt$"):
        try:
            _scheme, n, r, p, salt, digest = expected.split("$")
            candidate = hashlib.scrypt(given.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
        except ValueError:
            return False
        return hmac.compare_digest(candidate.hex(), digest)
    salt = secrets.token_bytes(16)
    return hmac.compare_digest(
        hashlib.scrypt(given.encode(), salt=salt, **_SCRYPT), hashlib.scrypt(expected.encode(), salt=salt, **_SCRYPT)
    )


FREE_TRIES = 3  # wrong tries before any wait
FIRST_DELAY_S = 2.0  # then 2 s, 4 s, 8 s, ... doubling per wrong try
MAX_DELAY_S = 300.0  # never more than five minutes: a guesser is slowed, the real instructor is not shut out


def delay_after(failures: int) -> float:
    """The wait after ``failures`` wrong tries in a row."""
    if failures <= FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_TRIES - 1))


class LockedOut(PlaygroundError):
    """Too many wrong tries: the next one is accepted after ``retry_after_s``."""

    code = RATE_LIMIT


@dataclass
class Lockout:
    """Wrong tries counted in the store per target ("admin", "room:CODE"), with growing waits between tries."""

    store: Any
    clock: Clock = time.time

    def check(self, target: str, given: str, expected: str) -> bool:
        """True when ``given`` matches; False when it does not (counted). Raises ``LockedOut`` while a wait runs,
        without even comparing, so a guesser learns nothing from trying early."""
        now = self.clock()
        if (wait := self.store.locked_until(target) - now) > 0:
            raise LockedOut(
                _("Too many wrong tries. Try again in {seconds} s.").format(seconds=math.ceil(wait)),
                _("The wait doubles with each wrong try; the right one resets it."),
                retry_after_s=wait,
            )
        if expected and scrypt_equal(given, expected):
            self.store.sign_in_succeeded(target)
            return True
        self.store.sign_in_failed(target, now, delay_after)
        return False


def room_target(code: str) -> str:
    return f"room:{code}"


def admin_password() -> str:
    return server_secret(ADMIN_PASSWORD)


# ---------------------------------------------------------------- rate limit


class RateLimited(PlaygroundError):
    code = RATE_LIMIT


@dataclass
class RateLimiter:
    """A token bucket per session: ``per_minute`` calls, refilled evenly. Kept in this process: a browser session
    stays on one replica for its whole life (its WebSocket)."""

    clock: Clock = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # session -> (tokens, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, session_id: str, per_minute: float) -> None:
        """Spend one call, or raise ``RateLimited`` saying when the next one is allowed."""
        rate = per_minute / 60.0
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(session_id, (per_minute, now))
            tokens = min(per_minute, tokens + (now - at) * rate)
            if tokens < 1.0 - 1e-9:  # float dust from the refill must not refuse a call that is due
                wait = (1.0 - tokens) / rate
                self._buckets[session_id] = (tokens, now)
                raise RateLimited(
                    _("Too many API calls: this session may make {n} a minute.").format(n=f"{per_minute:g}"),
                    _("Try again in {seconds} s.").format(seconds=math.ceil(wait)),
                    retry_after_s=wait,
                )
            self._buckets[session_id] = (tokens - 1.0, now)
