"""Translations for every user-facing string, engine messages included.

``_("text")`` looks the text up in the gettext catalog (``locales/<lang>/LC_MESSAGES/messages.mo``) of the
language chosen for the current context. The language is a ContextVar, so each Streamlit session (a script
thread) and the worker threads it starts (the runner copies the context) keep their own language. Where nothing
set it (a fragment rerun, which skips app.py), the app's registered ``language_source`` is asked instead.
Model answers are never passed through here.

``make i18n`` extracts the strings (Babel, ``babel.cfg``), updates the ``.po`` files and compiles them; ``make
setup`` compiles them. A ``.mo`` that is missing or older than its ``.po`` (a fresh checkout, a translation just
edited) is compiled in memory from the ``.po`` instead, so the app never shows stale text.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Callable

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
_language: ContextVar[str | None] = ContextVar("language", default=None)
_language_source: list[Callable[[], str | None]] = []


def _mo_bytes(po_path: Path) -> bytes:
    """The compiled catalog. Babel's own compile command is not used: its %-format check misreads "90% of" as a
    placeholder, while every string here uses str.format braces (tests/test_i18n.py checks those match)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as po:
        catalog = read_po(po)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _compiled_from_po(po_path: Path) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(_mo_bytes(po_path)))


def compile_catalogs() -> None:
    """Write each language's .mo beside its .po (``make setup`` and ``make i18n`` call this)."""
    for po in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        po.with_suffix(".mo").write_bytes(_mo_bytes(po))
        print(f"compiled {po.with_suffix('.mo')}")


@cache
def _translations(language: str) -> gettext.NullTranslations:
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        return _compiled_from_po(po)
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[language], fallback=True)


def parse_language(value: str | None) -> str:
    """A language code from a URL or a setting (``zh``, ``zh_CN``, ``zh-Hans``, ``en-US``...) as one of LANGUAGES."""
    code = (value or "").strip().replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    return DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def use_language_source(source: Callable[[], str | None]) -> None:
    """Where to find the language when this context has none set (the app passes its session's choice)."""
    _language_source[:] = [source]


def current_language() -> str:
    language = _language.get()
    if language is None and _language_source and (language := _language_source[0]()) in LANGUAGES:
        _language.set(language)  # kept in this context, so worker threads started from it (copied) inherit it
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def is_chinese() -> bool:
    return current_language() == "zh_CN"


def _(message: str) -> str:
    """The message in the current language (itself when there is no translation)."""
    return _translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet: a constant or a key, translated where it is shown."""
    return message


def pgettext(context: str, message: str) -> str:
    """The message where the same English word needs two translations (the "Caption" page vs the button)."""
    return _translations(current_language()).pgettext(context, message)
