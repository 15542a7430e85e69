"""Any OpenAI-compatible chat endpoint, through the openai SDK: OpenAI, Anthropic, Gemini, DeepSeek, Qianfan,
vLLM, Ollama, ``transformers serve``. Adding a provider is a catalog entry, never code here.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from http.cookiejar import CookieJar
from typing import Any, Iterator

import httpx2 as httpx  # the openai SDK 3.x is built on httpx2
import openai
from openai.types.chat import ChatCompletion

import playground.endpoints as endpoints
import playground.errors as errors
from playground.catalog import ModelSpec, ProviderSpec
from playground.credentials import Access, resolve_access
from playground.errors import InputError, MissingKeyError, PlaygroundError, ProviderError
from playground.events import (
    Credentials,
    Endpoint,
    Event,
    Failure,
    Notice,
    Request,
    Result,
    Token,
    chat_messages,
)  # fmt: skip
from playground.i18n import _
from playground.metrics import Stopwatch
from playground.params import check_params
from playground.redact import display_url, scrub

TIMEOUT_SETTING = "PLAYGROUND_API_TIMEOUT_S"  # seconds an API call may wait for its next byte
DEFAULT_TIMEOUT_S = 60.0
AUTO_RETRY_MAX_S = 2.0  # a 429 asking for at most this wait is retried once; a longer one is reported with its wait


class _NoCookies(CookieJar):
    """A jar that never keeps a cookie: the pool below is shared by every user, so a ``Set-Cookie`` from one
    user's call must not ride along on another's. No provider API needs cookies."""

    def set_cookie(self, cookie) -> None:
        return None

    def extract_cookies(self, response, request) -> None:
        return None


# One connection pool for every call in the process: building a client per call costs ~75 ms (TLS setup), which
# showed up in side-by-side wall time. It holds no credentials (each call's key goes on that call's request) and
# no cookies.
_HTTP = httpx.Client(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20), cookies=_NoCookies())


def api_timeout_s() -> float:
    """The ``PLAYGROUND_API_TIMEOUT_S`` setting (environment), else 60 s; read per call so a change applies."""
    try:
        value = float(os.environ.get(TIMEOUT_SETTING, "") or DEFAULT_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def retry_after_s(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), if the server sent one."""
    if headers is None:
        return None
    try:
        if millis := headers.get("retry-after-ms"):
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _short(text: Any, limit: int = 200) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(exc: Exception, endpoint: Endpoint, tokens: int = 0, timeout_s: float = DEFAULT_TIMEOUT_S) -> ProviderError:
    """Turn what the SDK or the connection raised into a ProviderError with a code, a message and a hint.

    ``tokens`` is how many text chunks had arrived: a break after some is ``incomplete``, never "cannot reach".
    A 404 is ``input``: the user fixes it, by the model name or the base URL.
    """
    url = display_url(endpoint.base_url)
    slow_hint = _(
        "The server is overloaded or stalled; try again, or raise {setting} (now {s:.0f} s) if it is just slow."
    ).format(setting=TIMEOUT_SETTING, s=timeout_s)
    if isinstance(exc, PlaygroundError):
        return exc if isinstance(exc, ProviderError) else ProviderError(exc.message, exc.hint, code=exc.code)
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        if not tokens:
            return ProviderError(_("No answer within {s:.0f} s.").format(s=timeout_s), slow_hint, code=errors.TIMEOUT)
        return ProviderError(
            _("The server went quiet for {s:.0f} s after {n} tokens.").format(s=timeout_s, n=tokens),
            slow_hint,
            code=errors.TIMEOUT,
        )
    if isinstance(exc, openai.APIConnectionError) and not tokens:
        return ProviderError(
            _("Cannot reach {url}.").format(url=url),
            _("Check the URL and that the server is running (and the network)."),
            code=errors.UNREACHABLE,
        )
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):  # the stream was cut
        return ProviderError(
            _("The connection broke after {n} tokens: the answer is incomplete.").format(n=tokens),
            _("The server or the network dropped the call; try again."),
            code=errors.INCOMPLETE,
        )
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, endpoint, url)
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError)):
        return ProviderError(
            _("The server sent a malformed reply after {n} tokens.").format(n=tokens),
            _("{url} is not answering like an OpenAI-compatible API; check the base URL.").format(url=url),
            code=errors.BAD_RESPONSE,
        )
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        return ProviderError(
            _("The server reported an error after {n} tokens: {message}").format(
                n=tokens, message=_short(scrub(exc.message, [endpoint.api_key]))
            ),
            _("Try again; if it repeats, the provider has a problem."),
            code=errors.SERVER_ERROR,
        )
    return ProviderError(f"{type(exc).__name__}: {_short(scrub(str(exc), [endpoint.api_key]))}", code=errors.INTERNAL)


def _status_error(exc: openai.APIStatusError, endpoint: Endpoint, url: str) -> ProviderError:
    status, detail = exc.status_code, _short(scrub(exc.message, [endpoint.api_key]))  # a provider may echo the key
    if status == 401:
        return ProviderError(
            _("The API key was rejected (401)."), _("Check the key for this provider in the sidebar."), code=errors.AUTH
        )
    if status == 403:
        return ProviderError(
            _("This key may not use this model (403)."), _("Check your plan or the model name."), code=errors.AUTH
        )
    if status == 404:
        return ProviderError(
            _("Model '{model}' was not found at {url} (404).").format(model=endpoint.model, url=url),
            _("Check the model name, and that the base URL ends where the API starts (often /v1)."),
            code=errors.INPUT,
        )
    if status == 429:
        wait = retry_after_s(exc.response.headers)
        message = _("Rate limited or out of quota (429).")
        if wait is not None:
            message += " " + _("Retry in {s:.0f} s.").format(s=max(1.0, wait))
        return ProviderError(
            message, _("Wait a moment, or check the account's billing."), code=errors.RATE_LIMIT, retry_after_s=wait
        )
    if status >= 500:
        return ProviderError(
            _("The server failed ({status}): {detail}").format(status=status, detail=detail),
            _("A problem on the provider's side; try again in a moment."),
            code=errors.SERVER_ERROR,
        )
    if status in (400, 413, 422):
        return ProviderError(
            _("The server refused the request ({status}): {detail}").format(status=status, detail=detail),
            _("Check the parameters and the prompt's length."),
            code=errors.INPUT,
        )
    return ProviderError(
        _("The server answered {status}: {detail}").format(status=status, detail=detail), code=errors.BAD_RESPONSE
    )


def _usage(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    counts = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
    details = getattr(usage, "prompt_tokens_details", None)
    if details is not None and getattr(details, "cached_tokens", None):
        counts["cached_tokens"] = details.cached_tokens
    return counts


def _sampling(request: Request) -> dict[str, Any]:
    p = request.params
    kwargs: dict[str, Any] = {"max_tokens": p.max_new_tokens, "temperature": p.temperature, "top_p": p.top_p}
    if p.seed is not None:
        kwargs["seed"] = p.seed
    return kwargs


class OpenAIChatBackend:
    """Chat completions, streamed by default. ``messages`` builds the request for the task at hand.

    Every way a provider can fail ends in a Failure with a code (see ``explain``); text that arrived before it is
    kept as ``partial_text``. A 429 that asks for a wait of at most ``AUTO_RETRY_MAX_S`` is retried once.
    """

    batch_size: int | None = None  # one call per text

    def __init__(self, catalog_providers: dict[str, ProviderSpec], stream: bool = True, timeout_s: float | None = None):
        self.providers = catalog_providers
        self.stream = stream
        self.timeout_s = timeout_s  # None: the PLAYGROUND_API_TIMEOUT_S setting

    def messages(self, request: Request) -> list[dict]:
        return chat_messages(request)

    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials, **create_kwargs) -> Iterator[Event]:
        try:
            check_params(request.params)
            access = resolve_access(spec, self.providers[spec.provider], credentials)
        except InputError as exc:
            yield Failure.of(spec.id, exc)
            return
        except MissingKeyError as exc:
            yield Failure(
                spec.id,
                _("{name} is unavailable: it {status}.").format(name=spec.display_name, status=exc.status),
                hint=exc.how,
                code=exc.code,
            )
            return
        yield from endpoints.failover(
            access.base_urls, lambda lease: self._call(spec, request, access, lease, create_kwargs)
        )

    def _call(
        self, spec: ModelSpec, request: Request, access: Access, lease: endpoints.Lease, create_kwargs
    ) -> Iterator[Event]:
        """One attempt on the leased URL; a failure is reported on the lease, which rests a failing endpoint."""
        endpoint = Endpoint(lease.url, access.model, access.api_key)
        timeout_s = self.timeout_s or api_timeout_s()
        client = openai.OpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            max_retries=0,  # a workshop wants a fast, clear failure, not a silent minute of retries
            http_client=_HTTP,
        )
        kwargs = {"model": endpoint.model, "messages": self.messages(request), **_sampling(request), **create_kwargs}
        watch = Stopwatch(request.arrived)
        pieces: list[str] = []
        for attempt in (1, 2):
            try:
                if self.stream:
                    counts, raw = yield from self._stream(client, spec, kwargs, watch, pieces)
                else:
                    counts, raw = self._complete(client, kwargs, watch, pieces)
                break
            except Exception as exc:
                lease.report_failure(exc)
                error = explain(exc, endpoint, len(pieces), timeout_s)
                wait = error.retry_after_s
                if attempt == 1 and error.code == errors.RATE_LIMIT and wait is not None and wait <= AUTO_RETRY_MAX_S:
                    yield Notice(spec.id, _("Rate limited: retrying once in {s:.1f} s.").format(s=wait), progress=True)
                    time.sleep(wait)
                    continue
                watch.stop()
                yield Failure(
                    spec.id,
                    error.message,
                    hint=error.hint,
                    code=error.code,
                    metrics=watch.metrics(),
                    partial_text="".join(pieces),
                    retry_after_s=wait,
                )
                return
        watch.stop()
        if not counts:
            yield Notice(spec.id, _("The server reported no token usage: token counts, tokens/s and cost are unknown."))
        cached = counts.pop("cached_tokens", 0)
        logprobs = [item for chunk in raw if chunk is not None for item in (chunk.content or [])]
        yield Result(
            spec.id,
            text="".join(pieces),
            metrics=watch.metrics(**counts),
            extra={"cached_tokens": cached, "logprobs": logprobs, "endpoint": display_url(endpoint.base_url)},
        )

    @staticmethod
    def _complete(client, kwargs: dict, watch: Stopwatch, pieces: list[str]):
        completion = client.chat.completions.create(**kwargs)
        watch.stop()
        if not isinstance(completion, ChatCompletion) or not completion.choices:  # e.g. an HTML page with status 200
            raise ProviderError(
                _("The server's answer is not a chat completion: {start}").format(start=_short(completion, 80)),
                _("Check the base URL: it should be the API's (often ending in /v1), not a web page."),
                code=errors.BAD_RESPONSE,
            )
        choice = completion.choices[0]
        pieces.append(choice.message.content or "")
        return _usage(completion.usage), [choice.logprobs]

    def _stream(self, client, spec: ModelSpec, kwargs: dict, watch: Stopwatch, pieces: list[str]):
        """Yield tokens; return (usage counts, logprob blocks). Usage may come on the finish_reason chunk
        (vLLM, transformers serve) or on a final chunk with no choices (OpenAI with include_usage).

        A stream that parses to no chunk at all (an HTML page) is a bad response; one that ends without a
        finish_reason was cut short and is incomplete."""
        try:
            stream = client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs)
        except openai.BadRequestError:  # some servers reject stream_options; usage may still arrive
            stream = client.chat.completions.create(stream=True, **kwargs)
        counts: dict[str, int] = {}
        logprobs = []
        chunks, finished = 0, False
        with stream:
            for chunk in stream:
                chunks += 1
                if getattr(chunk, "usage", None) is not None:
                    counts = _usage(chunk.usage)
                for choice in getattr(chunk, "choices", None) or ():
                    if choice.delta and choice.delta.content:
                        watch.token()
                        pieces.append(choice.delta.content)
                        yield Token(spec.id, choice.delta.content)
                    if choice.logprobs is not None:
                        logprobs.append(choice.logprobs)
                    finished = finished or bool(choice.finish_reason)
            content_type = stream.response.headers.get("content-type", "")
        if not chunks:
            raise ProviderError(
                _("The server's answer is not an event stream (content type '{type}').").format(type=content_type),
                _("Check the base URL: it should be the API's (often ending in /v1), not a web page."),
                code=errors.BAD_RESPONSE,
            )
        if not finished:
            raise ProviderError(
                _("The stream ended after {n} tokens without a finish reason: the answer may be cut short.").format(
                    n=len(pieces)
                ),
                _("The server or a proxy closed the stream early; try again."),
                code=errors.INCOMPLETE,
            )
        return counts, logprobs
