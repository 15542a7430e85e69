"""The sidebar every page shares: the language, API keys, the self-hosted endpoint, and settings."""

from __future__ import annotations

import streamlit as st

from components.access_view import render_admin, render_spending
from components.language import language_switch
from components.session import session_keys
from components.settings import render_settings
from playground import Catalog
from playground.i18n import _


def _take_key(provider_id: str) -> None:
    """Move a typed key out of the widget into session state, so it is never sent back to the browser."""
    widget = f"key_input_{provider_id}"
    if key := st.session_state.get(widget, "").strip():
        session_keys()[provider_id] = key
    st.session_state[widget] = ""


def _key_input(provider_id: str, label: str, env_name: str) -> None:
    if provider_id in session_keys():
        left, right = st.columns([3, 1])
        left.caption(_("{provider}: key set for this browser session").format(provider=label))
        if right.button(_("Forget"), key=f"forget_{provider_id}"):
            session_keys().pop(provider_id)
            st.rerun()
        return
    st.text_input(
        label,
        type="password",
        key=f"key_input_{provider_id}",
        on_change=_take_key,
        args=(provider_id,),
        placeholder=env_name,
        help=_(
            "Kept in this browser session only. Or set {variable} in the environment or .streamlit/secrets.toml."
        ).format(variable=env_name),
    )


def render_sidebar(catalog: Catalog) -> None:
    with st.sidebar:
        language_switch()
        with st.expander(_("API keys (closed models)"), expanded=False):
            for provider in catalog.providers.values():
                if provider.kind == "openai-compat" and provider.id != "self-hosted":
                    _key_input(provider.id, provider.display_name, provider.key_env)
        with st.expander(_("Self-hosted endpoint (open models)"), expanded=False):
            st.caption(_("vLLM, Ollama, `transformers serve`: any OpenAI-compatible server."))
            st.text_input(_("Base URL"), key="self_hosted_url", placeholder="http://localhost:8000/v1")
            st.text_input(_("Model name"), key="self_hosted_model", placeholder="Qwen/Qwen2.5-0.5B-Instruct")
            _key_input("self-hosted", _("API key (optional)"), catalog.providers["self-hosted"].key_env)
        with st.expander(_("Your cost & history settings"), expanded=False):
            render_settings()
        render_spending()
        with st.expander(_("Server-wide settings (admin)"), expanded=False):
            render_admin()
