"""Deep links: a Learn-page button or a teacher's URL fills a page's inputs (``?prompt=``, ``?preset=``...)."""

from __future__ import annotations

import streamlit as st


def linked(name: str, default: str) -> str:
    """A widget's starting value: the URL's ``?name=`` when the page was opened from a link, else ``default``."""
    return st.query_params.get(name, default)


def linked_index(name: str, options: list[str], default: int = 0) -> int:
    """The position of the URL's ``?name=`` among ``options`` (for radios and selectboxes), else ``default``."""
    value = st.query_params.get(name)
    return options.index(value) if value in options else default
