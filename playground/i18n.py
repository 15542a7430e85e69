"""Translations for every user-facing string, engine messages included.

``_("text")`` looks the text up in the gettext catalog (``locales/<lang>/LC_MESSAGES/messages.mo``) of the
language chosen for the current context. The language is a ContextVar, so each Streamlit session (a script
thread) and the worker threads it starts (the runner copies the context) keep their own language.
Model answers are never passed through here.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def _translations(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES_DIR, languages=[language], fallback=True)


def set_language(language: str) -> None:
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _language.get()


def _(message: str) -> str:
    """The message in the current language (itself when there is no translation)."""
    return _translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_language.get()).ngettext(singular, plural, n)
