"""Any OpenAI-compatible chat endpoint, through the openai SDK: OpenAI, Anthropic, Gemini, DeepSeek, Qianfan,
vLLM, Ollama, ``transformers serve``. Adding a provider is a catalog entry, never code here.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import httpx2 as httpx  # the openai SDK 3.x is built on httpx2
import openai

from playground import endpoints
from playground.backends.base import Credentials, Endpoint, Event, Failure, Request, Result, Token, chat_messages
from playground.catalog import ModelSpec, ProviderSpec
from playground.errors import MissingKeyError
from playground.metrics import Stopwatch

DEFAULT_TIMEOUT_S = 60.0

# One connection pool for every call in the process: building a client per call costs ~75 ms (TLS setup), which
# showed up in side-by-side wall time. It holds no credentials: each call's key goes on that call's request.
_HTTP = httpx.Client(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))


MissingKey = MissingKeyError  # the name this module's callers know


def resolve_endpoint(spec: ModelSpec, provider: ProviderSpec, credentials: Credentials) -> Endpoint:
    """Session settings first, then the environment. Raises MissingKey with how to fix it."""
    if provider.id == "self-hosted":
        own = credentials.self_hosted or Endpoint(
            os.environ.get("PLAYGROUND_SELF_HOSTED_URL", ""),
            os.environ.get("PLAYGROUND_SELF_HOSTED_MODEL", ""),
            os.environ.get(provider.key_env, ""),
        )
        if not own.base_url or not own.model:
            raise MissingKey(
                "needs a base URL and model name",
                "set them under 'Self-hosted endpoint' in the sidebar (or PLAYGROUND_SELF_HOSTED_URL and _MODEL).",
            )
        return Endpoint(endpoints.pick(own.base_url), own.model, own.api_key or "not-needed")
    key = credentials.api_keys.get(provider.id) or os.environ.get(provider.key_env, "")
    if not key and not provider.key_optional:
        raise MissingKey(
            f"needs {provider.key_env}",
            f"paste the key under 'API keys' in the sidebar, or set {provider.key_env} in the environment or .streamlit/secrets.toml.",
        )
    return Endpoint(endpoints.pick(provider.base_urls or provider.base_url), spec.source, key or "not-needed")


def explain(exc: Exception, endpoint: Endpoint) -> tuple[str, str]:
    """Turn an SDK exception into (message, hint) a workshop audience can act on."""
    if isinstance(exc, openai.APITimeoutError):
        return "The request timed out.", "The server may be overloaded; try again or raise the timeout."
    if isinstance(exc, openai.APIConnectionError):
        return f"Cannot reach {endpoint.base_url}.", "Check the URL and that the server is running (and the network)."
    if isinstance(exc, openai.AuthenticationError):
        return "The API key was rejected (401).", "Check the key for this provider in the sidebar."
    if isinstance(exc, openai.PermissionDeniedError):
        return "This key may not use this model (403).", "Check your plan or the model name."
    if isinstance(exc, openai.RateLimitError):
        return "Rate limited or out of quota (429).", "Wait a moment, or check the account's billing."
    if isinstance(exc, openai.NotFoundError):
        return f"Model '{endpoint.model}' was not found at {endpoint.base_url} (404).", "Check the model name."
    if isinstance(exc, openai.APIStatusError):
        return f"The server answered {exc.status_code}: {exc.message}", ""
    if isinstance(exc, httpx.HTTPError):  # e.g. a stream cut mid-way
        return f"The connection broke: {exc}", "Try again."
    return f"{type(exc).__name__}: {exc}", ""


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
    """Chat completions, streamed by default. ``messages`` builds the request for the task at hand."""

    batch_size: int | None = None  # one call per text

    def __init__(self, catalog_providers: dict[str, ProviderSpec], stream: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.providers = catalog_providers
        self.stream = stream
        self.timeout_s = timeout_s

    def messages(self, request: Request) -> list[dict]:
        return chat_messages(request)

    @endpoints.failover
    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials, **create_kwargs) -> Iterator[Event]:
        try:
            endpoint = resolve_endpoint(spec, self.providers[spec.provider], credentials)
        except MissingKey as exc:
            yield Failure(spec.id, f"{spec.name} is unavailable: it {exc.status}.", hint=exc.how, code=exc.code)
            return
        client = openai.OpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            max_retries=0,  # a workshop wants a fast, clear failure, not a silent minute of retries
            http_client=_HTTP,
        )
        kwargs = {"model": endpoint.model, "messages": self.messages(request), **_sampling(request), **create_kwargs}
        watch = Stopwatch(request.arrived)
        pieces: list[str] = []
        try:
            if self.stream:
                counts, raw = yield from self._stream(client, spec, kwargs, watch, pieces)
            else:
                completion = client.chat.completions.create(**kwargs)
                watch.stop()
                choice = completion.choices[0]
                pieces.append(choice.message.content or "")
                counts, raw = _usage(completion.usage), [choice.logprobs]
        except Exception as exc:
            endpoints.report_failure(endpoint.base_url, exc)
            message, hint = explain(exc, endpoint)
            watch.stop()
            yield Failure(spec.id, message, hint=hint, metrics=watch.metrics(), partial_text="".join(pieces))
            return
        watch.stop()
        cached = counts.pop("cached_tokens", 0)
        logprobs = [item for chunk in raw if chunk is not None for item in (chunk.content or [])]
        yield Result(
            spec.id,
            text="".join(pieces),
            metrics=watch.metrics(**counts),
            extra={"cached_tokens": cached, "logprobs": logprobs, "endpoint": endpoint.base_url},
        )

    def _stream(self, client, spec: ModelSpec, kwargs: dict, watch: Stopwatch, pieces: list[str]):
        """Yield tokens; return (usage counts, logprob blocks). Usage may come on the finish_reason chunk
        (vLLM, transformers serve) or on a final chunk with no choices (OpenAI with include_usage)."""
        try:
            stream = client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs)
        except openai.BadRequestError:  # some servers reject stream_options; usage may still arrive
            stream = client.chat.completions.create(stream=True, **kwargs)
        counts: dict[str, int] = {}
        logprobs = []
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    counts = _usage(chunk.usage)
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        watch.token()
                        pieces.append(choice.delta.content)
                        yield Token(spec.id, choice.delta.content)
                    if choice.logprobs is not None:
                        logprobs.append(choice.logprobs)
        return counts, logprobs
