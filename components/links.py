"""Deep links: a Learn-page button or a teacher's URL fills a page's inputs (``?prompt=``, ``?preset=``...)."""

from __future__ import annotations

import streamlit as st

from playground.formatting import format_count
from playground.i18n import _

MAX_LINKED_CHARS = 4000  # a deep link prepares a lesson, not a book: a 100 kB ?prompt= is cut here, and said so


def linked(name: str, default: str) -> str:
    """A widget's starting value: the URL's ``?name=`` when the page was opened from a link, else ``default``."""
    value = st.query_params.get(name, default)
    if len(value) > MAX_LINKED_CHARS:
        st.caption(
            _("The text from the link was {n} characters long; only its first {limit} are kept.").format(
                n=format_count(len(value)), limit=format_count(MAX_LINKED_CHARS)
            )
        )
        value = value[:MAX_LINKED_CHARS]
    return value


def linked_index(name: str, options: list[str], default: int = 0) -> int:
    """The position of the URL's ``?name=`` among ``options`` (for radios and selectboxes), else ``default``."""
    value = st.query_params.get(name)
    return options.index(value) if value in options else default


def seed_choice(column, key: str) -> int | None:
    """A fresh draw on every run unless the user fixes the seed (or a link does, with ``?seed=N``): at a
    temperature above 0, thirty students then read thirty answers, and a fixed seed repeats one exactly."""
    linked_seed = st.query_params.get("seed", "")
    fixed = column.checkbox(
        _("Fix the seed"),
        value=linked_seed.isdigit(),
        key=f"{key}_fix_seed",
        help=_("Off: each run draws new words. On: the same seed and settings give the same answer again."),
    )
    if not fixed:
        return None
    start = int(linked_seed) if linked_seed.isdigit() else 0
    return int(column.number_input(_("Seed"), 0, 2**31 - 1, min(start, 2**31 - 1), key=f"{key}_seed"))
