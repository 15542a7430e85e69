"""The session's language: ``?lang=zh`` / ``?lang=zh_CN`` / ``?lang=en`` in the URL, or the sidebar's choice.

app.py calls ``apply_language`` at the top of every script run, before anything is drawn, so page titles, the
sidebar and the page all speak it. The choice is kept in session_state (the URL's ``lang`` is dropped when
Streamlit changes page), and written back to the URL so a copied link opens in the same language. A run that skips
app.py (a fragment rerun) finds the language in session_state through ``use_language_source``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground.i18n import LANGUAGES, _, parse_language, set_language, use_language_source

LANGUAGE = "language"  # session_state: this session's language (kept even on runs that draw no sidebar)
SWITCH = "language_switch"  # the sidebar selectbox's key


def _session_language() -> str | None:
    """This session's choice, when asked from a script thread (a worker thread has no session)."""
    return st.session_state.get(LANGUAGE) if get_script_run_ctx(suppress_warning=True) else None


use_language_source(_session_language)


def apply_language() -> str:
    if (asked := st.query_params.get("lang")) is not None:
        st.session_state[LANGUAGE] = parse_language(asked)
    language = st.session_state.setdefault(LANGUAGE, parse_language(None))
    set_language(language)
    return language


def openness_words(values):
    """A column of "open"/"closed" in the page's language, for tables and chart labels."""
    return values.map({"open": _("open"), "closed": _("closed")})


def _chosen() -> None:
    st.session_state[LANGUAGE] = st.session_state[SWITCH]
    st.query_params["lang"] = st.session_state[SWITCH]
    _redraw_choices()


def _redraw_choices() -> None:
    """Hand every widget its own value again, so the browser redraws the chosen options with their labels in the
    new language (it otherwise keeps showing the labels it was sent before). Choices are strings, numbers or lists;
    booleans are buttons and checkboxes (no options to relabel, and a button refuses a value) and are left alone."""
    for key in list(st.session_state):
        value = st.session_state[key]
        if (
            key in (LANGUAGE, SWITCH)
            or isinstance(value, bool)
            or not isinstance(value, str | int | float | list | tuple)
        ):
            continue
        try:
            st.session_state[key] = value
        except StreamlitAPIException:
            continue


def language_switch() -> None:
    """Bilingual label on purpose: whoever landed in the wrong language must still find it."""
    st.session_state[SWITCH] = st.session_state.get(LANGUAGE, parse_language(None))
    st.selectbox("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key=SWITCH, on_change=_chosen)


def fixed_labels(options: Iterable[Hashable], label: Callable[[Any], str] = _) -> Callable[[Any], str]:
    """A widget's ``format_func`` with its labels worked out now, in this run's language: Streamlit (and AppTest)
    may call it again outside the script run, where the session's language is not set."""
    labels = {option: label(option) for option in options}
    return labels.__getitem__
