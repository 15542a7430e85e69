"""Which key goes to which URL: pure functions, no side effects.

A model's access is decided from the session's credentials first, then the server's configuration (its
``.streamlit/secrets.toml``, else its environment: ``access.server_secret``). It also says whether the call spends
the server's key or endpoint, which ``playground.budget`` caps: one place knows where a key came from. Deciding it
moves no load balancer and opens no connection, so a model picker may ask on every redraw; the endpoint pool is asked
for a URL only inside a call (``playground.endpoints.failover``).

The server's self-hosted key (``PLAYGROUND_SELF_HOSTED_KEY``) goes only to the URL it was configured for: a student
who types another base URL sends their own key or none, never the instructor's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.access import server_secret
from playground.catalog import ModelSpec, ProviderSpec
from playground.endpoints import check_base_url, split_urls
from playground.errors import MissingKeyError
from playground.events import Credentials, Endpoint
from playground.i18n import _

SELF_HOSTED_URL = "PLAYGROUND_SELF_HOSTED_URL"  # the URL the server's own self-hosted key belongs to
SELF_HOSTED_MODEL = "PLAYGROUND_SELF_HOSTED_MODEL"
NO_KEY = "not-needed"  # what the SDK is given when a server wants no key: it refuses an empty one


@dataclass(frozen=True)
class Access:
    """Where one call may go (one URL, or several replicas of the same model) and with which key."""

    base_urls: tuple[str, ...]
    model: str
    api_key: str = field(default=NO_KEY, repr=False)
    on_server: bool = False  # the server's own key or endpoint: what the call spends is budgeted


def same_endpoint(url: str, other: str) -> bool:
    """Whether two base URLs name the same server and path (case of scheme and host, and a final / ignored)."""

    def norm(u: str) -> str:
        u = u.strip().rstrip("/")
        scheme, sep, rest = u.partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"

    return bool(url.strip()) and norm(url) == norm(other)


def self_hosted_key(url: str, typed_key: str, configured_url: str, configured_key: str) -> str:
    """The key for a self-hosted URL: the one the user typed, else the server's configured key, but only when the
    URL is the one it was configured for."""
    if typed_key:
        return typed_key
    return configured_key if configured_key and same_endpoint(url, configured_url) else ""


def resolve_access(spec: ModelSpec, provider: ProviderSpec, credentials: Credentials) -> Access:
    """Session settings first, then the server's configuration. Raises MissingKeyError with how to fix it."""
    if provider.id == "self-hosted":
        env_url, env_key = server_secret(SELF_HOSTED_URL), server_secret(provider.key_env)
        own = credentials.self_hosted or Endpoint(env_url, server_secret(SELF_HOSTED_MODEL))
        if not own.base_url or not own.model:
            raise MissingKeyError(
                _("needs a base URL and model name"),
                _("set them under 'Self-hosted endpoint' in the sidebar (or PLAYGROUND_SELF_HOSTED_URL and _MODEL)."),
            )
        check_base_url(own.base_url)  # a typed URL that cannot be an address: an input error, before any call
        key = self_hosted_key(own.base_url, own.api_key, env_url, env_key)
        on_server = credentials.self_hosted is None or (bool(env_key) and key == env_key)
        return Access(split_urls(own.base_url), own.model, key or NO_KEY, on_server)
    own = credentials.api_keys.get(provider.id, "")
    server = server_secret(provider.key_env) if provider.key_env else ""
    key = own or server
    if not key and not provider.key_optional:
        raise MissingKeyError(
            _("needs {env}").format(env=provider.key_env),
            _(
                "paste the key under 'API keys' in the sidebar, or set {env} in the environment or "
                ".streamlit/secrets.toml."
            ).format(env=provider.key_env),
        )
    # a typed key that is the server's own still spends the server's money
    return Access(split_urls(provider.base_urls or provider.base_url), spec.source, key or NO_KEY, own in ("", server))
