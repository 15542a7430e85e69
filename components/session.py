"""Per-process resources, per-session secrets and who the visitor is.

The catalog is shared by every session (it holds no secrets). Keys live only in this browser session's
``st.session_state``; they are handed to the engine call by call and never cached, stored or rendered back. The
visitor's id outlives a reload (``session_id``: a cookie's random token, hashed); keys and roles do not.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time

import streamlit as st

from playground import Catalog, Credentials, Endpoint, Playground, RunContext, load_catalog
from playground.access import ADMIN, INSTRUCTOR, STUDENT, Scope, ServerSettings
from playground.store import Store, default_url

KEYS = "api_keys"  # session_state: provider id -> key typed in the sidebar
UNLOCKED = "instructor_rooms"  # session_state: codes whose controls this session unlocked with the PIN
RERUN_STARTED = "rerun_started"  # session_state: perf_counter when app.py began this rerun (a click arrived)
ADMIN_SIGNED_IN = "admin_signed_in"  # session_state: True once the admin password was given in this session
SESSION_ID = "session_id"  # session_state: this visitor's id (``session_id``)
NEW_VISITOR = "new_visitor_token"  # session_state: the token this session made, until the browser sends it back
VISITOR_COOKIE = "playground_visitor"
VISITOR_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # what secrets.token_urlsafe(24) makes; anything else is replaced


@st.cache_resource
def _open_store(url: str) -> Store:
    return Store(url)


def get_store() -> Store:
    """One shared, thread-safe Store per database URL (PLAYGROUND_DB_URL, PLAYGROUND_DB, or the data folder)."""
    return _open_store(default_url())


def server_settings() -> dict:
    """The server-wide settings (the admin's, else the environment's, else the defaults): one store read."""
    return ServerSettings(get_store()).all()


def _use_app_navigation() -> None:
    """Make app.py's st.navigation the only navigation, even for a deep link on a fresh server.

    Streamlit treats a folder named pages/ as legacy auto-navigation until app.py has called st.navigation once,
    so the first visitor of /generate would get that page without app.py's sidebar. Every page imports this
    module, so the first such run switches the mode off and reruns through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_use_app_navigation()


@st.cache_resource
def get_catalog() -> Catalog:
    """The bundled catalog plus any extra files listed in PLAYGROUND_CATALOG (os.pathsep-separated)."""
    extra = [p for p in os.environ.get("PLAYGROUND_CATALOG", "").split(os.pathsep) if p]
    return load_catalog(*extra)


def get_playground() -> Playground:
    """The one engine entry point: the shared catalog and store (both process-wide resources), no user state."""
    return Playground(get_catalog(), get_store())


def session_id() -> str:
    """An opaque id for this visitor, recorded with their runs (history, rooms, arena, budget, their place in line).

    It is the hash of a random token kept in a browser cookie, so a reload on bad wifi keeps a student's runs, their
    seat in the room and what they spent; a new browser (or a cleared cookie) is a new visitor. The cookie holds no
    key and no role: an instructor's PIN and the admin's sign-in stay with the Streamlit session."""
    if (known := st.session_state.get(SESSION_ID)) is not None:
        return known
    token = _cookie(VISITOR_COOKIE)
    if not VISITOR_TOKEN.fullmatch(token):
        token = st.session_state[NEW_VISITOR] = secrets.token_urlsafe(24)
    st.session_state[SESSION_ID] = visitor_id(token)
    return st.session_state[SESSION_ID]


def visitor_id(token: str) -> str:
    """The id runs are recorded under: a hash, so an id seen in a room's export cannot be turned back into a cookie."""
    return hashlib.sha256(f"playground-visitor:{token}".encode()).hexdigest()[:32]


def _cookie(name: str) -> str:
    """A cookie the browser sent; empty when there is no browser behind this run (AppTest mocks the request)."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) else ""


def remember_visitor() -> None:
    """Give a new visitor's browser its token (a session cookie: gone when the browser closes; Secure over HTTPS)."""
    session_id()
    if token := st.session_state.get(NEW_VISITOR):
        st.html(
            f"<script>document.cookie = '{VISITOR_COOKIE}={token}; Path=/; SameSite=Strict'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True,
        )


def unlocked_rooms() -> set[str]:
    return st.session_state.setdefault(UNLOCKED, set())


def scope() -> Scope:
    """Who this session is: set on the server by the sign-in and the PIN check, never read from the browser."""
    rooms = frozenset(unlocked_rooms())
    role = ADMIN if st.session_state.get(ADMIN_SIGNED_IN) else INSTRUCTOR if rooms else STUDENT
    return Scope(session_id(), role, rooms)


def run_context(page: str, **tags) -> RunContext:
    viewer = scope()
    return RunContext(page, session_id=viewer.session_id, role=viewer.role, instructs=viewer.rooms, **tags)


def session_keys() -> dict[str, str]:
    return st.session_state.setdefault(KEYS, {})


def credentials(catalog: Catalog) -> Credentials:
    """What this session typed: its keys and its self-hosted endpoint. The server's own keys never pass through
    here; the engine adds them per call (``playground.credentials.resolve_access``), which also keeps the server's
    self-hosted key to the URL it was configured for."""
    keys = {pid: key for pid in catalog.providers if (key := session_keys().get(pid))}
    url = st.session_state.get("self_hosted_url", "").strip()
    model = st.session_state.get("self_hosted_model", "").strip()
    self_hosted = Endpoint(url, model, session_keys().get("self-hosted", "")) if url and model else None
    return Credentials(api_keys=keys, self_hosted=self_hosted)


def rerun_started() -> float:
    """When this rerun began in app.py, before the sidebar's store reads: a request made by a click arrived then."""
    return st.session_state.get(RERUN_STARTED) or time.perf_counter()
