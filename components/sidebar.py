"""The sidebar every page shares: API keys, the self-hosted endpoint, and settings."""

from __future__ import annotations

import streamlit as st

from components.costs import render_settings
from components.session import session_keys
from playground import Catalog


def _take_key(provider_id: str) -> None:
    """Move a typed key out of the widget into session state, so it is never sent back to the browser."""
    widget = f"key_input_{provider_id}"
    if key := st.session_state.get(widget, "").strip():
        session_keys()[provider_id] = key
    st.session_state[widget] = ""


def _key_input(provider_id: str, label: str, env_name: str) -> None:
    if provider_id in session_keys():
        left, right = st.columns([3, 1])
        left.caption(f"{label}: key set for this browser session")
        if right.button("Forget", key=f"forget_{provider_id}"):
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
        help=f"Kept in this browser session only. Or set {env_name} in the environment or .streamlit/secrets.toml.",
    )


def render_sidebar(catalog: Catalog) -> None:
    with st.sidebar:
        with st.expander("API keys (closed models)", expanded=False):
            for provider in catalog.providers.values():
                if provider.kind == "openai-compat" and provider.id != "self-hosted":
                    _key_input(provider.id, provider.name, provider.key_env)
        with st.expander("Self-hosted endpoint (open models)", expanded=False):
            st.caption("vLLM, Ollama, `transformers serve`: any OpenAI-compatible server.")
            st.text_input("Base URL", key="self_hosted_url", placeholder="http://localhost:8000/v1")
            st.text_input("Model name", key="self_hosted_model", placeholder="Qwen/Qwen2.5-0.5B-Instruct")
            _key_input("self-hosted", "API key (optional)", catalog.providers["self-hosted"].key_env)
        with st.expander("Cost & history settings", expanded=False):
            render_settings()
