"""Several base URLs serving one model (vLLM, SGLang, TGI, Ollama or `transformers serve` replicas): requests go
round robin, and an endpoint that fails a health check or a call is skipped for a while.

A pool is kept per process, shared by every session, like the local model pool: each app replica learns by itself
which endpoints are down. A single URL needs no pool and is used as it is.

- ``failover(urls, attempt)`` leases a URL for one attempt of a call (the next usable one, in turn). The attempt
  reports its failure on the lease, which rests an endpoint that refused, timed out or failed on the server's side
  (a 4xx is the request's fault and rests nothing). A call refused before any token arrived (the request never
  reached a model) is tried once more on each other usable endpoint, so killing one server does not fail a
  student's call. Nothing is kept between calls but the pool's health: no thread-local, no hidden state.
- A health check (``GET {url}/models``; any HTTP answer below 500 counts as up) runs every ``HEALTH_INTERVAL_S``
  on a background thread while the pool is in use, and brings a rested endpoint back as soon as it answers.
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import openai

from playground.errors import InputError
from playground.events import Failure, Token
from playground.i18n import _

COOLDOWN_S = 30.0  # a failed endpoint is skipped this long, unless a health check finds it up sooner
HEALTH_INTERVAL_S = 10.0
HEALTH_TIMEOUT_S = 2.0
IDLE_STOP_S = 300.0  # health checks stop once a pool has not been used this long; the next pick restarts them
RETRY_STATUSES = (502, 503, 504)  # a proxy or server saying the model behind it is not there: safe to try another


def split_urls(urls: str | Iterable[str]) -> tuple[str, ...]:
    """Base URLs from a list, or from one comma-separated string (the sidebar field, PLAYGROUND_SELF_HOSTED_URL)."""
    parts = urls.split(",") if isinstance(urls, str) else urls
    return tuple(dict.fromkeys(u.strip().rstrip("/") for u in parts if u and u.strip()))


def is_healthy(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """Whether an OpenAI-compatible server answers at ``url``: any HTTP reply below 500 to ``GET /models``
    (401 from a server that wants a key still means it is up)."""
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=timeout_s) as reply:
            return reply.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


class EndpointPool:
    """Round robin over the URLs that are not resting. Thread-safe."""

    def __init__(
        self,
        urls: Iterable[str],
        cooldown_s: float = COOLDOWN_S,
        health_interval_s: float = HEALTH_INTERVAL_S,
        probe: Callable[[str], bool] = is_healthy,
    ) -> None:
        self.urls = split_urls(urls)
        self.cooldown_s = cooldown_s
        self.health_interval_s = health_interval_s
        self.probe = probe
        self._resting_until: dict[str, float] = {}
        self._turn = itertools.cycle(self.urls)
        self._lock = threading.Lock()
        self._last_used = 0.0
        self._watcher: threading.Thread | None = None

    def pick(self) -> str:
        """The next URL in turn that is not resting. When all rest, the one back soonest: the call then fails
        with that server's own error, which says more than "no endpoint"."""
        with self._lock:
            self._last_used = time.monotonic()
            self._watch()
            for _ in self.urls:
                url = next(self._turn)
                if self._resting_until.get(url, 0.0) <= self._last_used:
                    return url
            return min(self.urls, key=lambda u: self._resting_until.get(u, 0.0))

    def usable(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [u for u in self.urls if self._resting_until.get(u, 0.0) <= now]

    def rest(self, url: str) -> None:
        """Skip ``url`` for ``cooldown_s``."""
        with self._lock:
            self._resting_until[url] = time.monotonic() + self.cooldown_s

    def check(self) -> dict[str, bool]:
        """Probe every URL now: a down one rests, an up one is back in turn at once."""
        results = {url: self.probe(url) for url in self.urls}
        for url, up in results.items():
            if up:
                with self._lock:
                    self._resting_until.pop(url, None)
            else:
                self.rest(url)
        return results

    def _watch(self) -> None:
        """Start the background health checks if they are not running (called with the lock held)."""
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._check_while_used, name="endpoint-health", daemon=True)
            self._watcher.start()

    def _check_while_used(self) -> None:
        while time.monotonic() - self._last_used < IDLE_STOP_S:
            time.sleep(self.health_interval_s)
            self.check()


_pools: dict[tuple[str, ...], EndpointPool] = {}
_pools_lock = threading.Lock()


def pool_for(urls: str | Iterable[str]) -> EndpointPool:
    """The process-wide pool of these URLs (the same list, in any spelling of the string, gives the same pool)."""
    key = split_urls(urls)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = EndpointPool(key)
        return _pools[key]


@dataclass
class Lease:
    """One attempt of one call on one URL. The call reports its failure here; the lease rests the endpoint when
    the fault is the server's or the connection's, and remembers whether the request never reached a model."""

    url: str
    pool: EndpointPool | None = None  # None: a single URL, nothing to rest or fail over to
    refused: bool = False

    def report_failure(self, exc: BaseException) -> None:
        if self.pool is None:
            return
        refused = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
        status = getattr(exc, "status_code", None)
        if refused or isinstance(exc, openai.APITimeoutError) or (status is not None and status >= 500):
            self.pool.rest(self.url)
            self.refused = refused or status in RETRY_STATUSES


def check_base_url(urls: str | Iterable[str]) -> None:
    """Raise InputError when a base URL typed by a user cannot be an address at all (port 99999, no host, ftp:),
    before the HTTP client meets it with a raw ValueError."""
    for url in split_urls(urls):
        try:
            parts = urlsplit(url)  # raises ValueError on a broken IPv6 host
            port = parts.port  # raises ValueError when out of range or not a number
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0
        except ValueError:
            valid = False
        if not valid:
            message = _(
                "{url} is not a usable base URL: it needs http:// or https://, a host, and a port from 1 to 65535."
            )
            raise InputError(message.format(url=url), _("Write it like http://127.0.0.1:8000/v1."))


def failover(urls: Iterable[str], attempt: Callable[[Lease], Iterator]) -> Iterator:
    """Run ``attempt`` on a URL leased from ``urls``: the only one, or the next usable one of several. When an
    attempt fails before its first token because its endpoint refused it (the request never reached a model), run it
    again on the next usable endpoint of the same pool, at most once per endpoint."""
    urls = split_urls(urls)
    pool = pool_for(urls) if len(urls) > 1 else None
    refused_by: set[str] = set()
    while True:
        lease = Lease(pool.pick() if pool else (urls[0] if urls else ""), pool)
        streamed, held = False, None
        for event in attempt(lease):
            streamed = streamed or isinstance(event, Token)
            if isinstance(event, Failure) and not streamed and lease.refused:
                held = event  # another endpoint may take it
                break
            yield event
        if held is None:
            return
        refused_by.add(lease.url)
        if not set(pool.usable()) - refused_by:
            yield held
            return
