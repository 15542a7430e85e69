"""The session's language: ``?lang=zh`` / ``?lang=zh_CN`` / ``?lang=en`` in the URL, or the sidebar's choice.

app.py calls ``apply_language`` at the top of every script run, before anything is drawn, so page titles, the
sidebar and the page all speak it. The choice is kept in session_state (the URL's ``lang`` is dropped when
Streamlit changes page), and written back to the URL so a copied link opens in the same language.
"""

from __future__ import annotations

import streamlit as st

from playground.i18n import LANGUAGES, parse_language, set_language

LANGUAGE = "language"  # session_state key, and the sidebar selectbox's key


def apply_language() -> str:
    if (asked := st.query_params.get("lang")) is not None:
        st.session_state[LANGUAGE] = parse_language(asked)
    language = st.session_state.setdefault(LANGUAGE, parse_language(None))
    set_language(language)
    return language


def _chosen() -> None:
    st.query_params["lang"] = st.session_state[LANGUAGE]


def language_switch() -> None:
    st.selectbox("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key=LANGUAGE, on_change=_chosen)
