"""Which language a prompt is in, as far as the catalog's ``languages`` field needs to know, and what to say when
a model was not trained on it: offline, every embedded generator is English-only, and a Chinese prompt then gets
invented English. The card says so and names a local model that reads the language."""

from __future__ import annotations

import re

from playground.catalog import Catalog, ModelSpec
from playground.i18n import _

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


def prompt_language(text: str) -> str | None:
    """ "zh" when Chinese characters make up a fifth or more of the letters, else None (not worth a warning)."""
    letters = len(_LETTER.findall(text))
    return "zh" if letters and len(_HAN.findall(text)) >= max(2, letters / 5) else None


def language_warning(catalog: Catalog, spec: ModelSpec, text: str) -> str | None:
    """The card's notice when ``spec`` does not read the prompt's language, with a local model that does."""
    language = prompt_language(text)
    if language is None or spec.reads(language):
        return None
    fetch = next(
        (
            m
            for m in catalog.models.values()
            if m.is_local and language in m.languages and set(spec.tasks) & set(m.tasks)
        ),
        None,
    )
    said = _("{name} was not trained on Chinese: expect an answer that is made up, or not in Chinese.").format(
        name=spec.display_name
    )
    if fetch is not None:
        said += " " + _("For Chinese, use {model}: fetch it once while online with `make prefetch`.").format(
            model=fetch.display_name
        )
    return said
