"""Model answers are untrusted text: render them as Markdown that loads nothing by itself.

An answer with ``![x](http://host/pixel.png)`` would make every viewer's browser fetch from that host, leaking
their IP address from a tool that teaches where data goes. So an image becomes a plain link labelled with its alt
text (fetched only if someone clicks it), any other ``![`` is shown as text, and raw HTML is escaped. Code spans
and fenced code are left as they are: Markdown never loads anything from inside them.
"""

from __future__ import annotations

import re

import streamlit as st

from playground.i18n import _

_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]+`)", re.DOTALL)
_INLINE_IMAGE = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\(\s*<?(?P<url>[^)\s>]+)>?(?:\s+[\"'(][^)\n]*)?\)")


def safe_markdown(text: str) -> str:
    """``text`` as Markdown in which no image, HTML element or other auto-loaded content remains."""
    parts = _CODE.split(text)
    for index in range(0, len(parts), 2):  # even parts are outside code
        parts[index] = _neutralize(parts[index])
    return "".join(parts)


def _neutralize(text: str) -> str:
    text = text.replace("<", "&lt;")
    text = _INLINE_IMAGE.sub(lambda m: _image_link(m["alt"], m["url"]), text)
    return text.replace("![", "!\\[")  # reference-style images and anything left: literal text


def _image_link(alt: str, url: str) -> str:
    label = alt.strip().replace("[", "").replace("]", "") or url
    return f"[🖼 {label}]({url})"


def show_answer(text: str, empty: str = "") -> None:
    """An answer in the current container; ``empty`` is shown when there is no text."""
    st.markdown(safe_markdown(text) if text else empty or _("_(empty answer)_"))
