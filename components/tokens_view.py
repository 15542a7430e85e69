"""The tokenizer lens, drawn: the text cut into each model's tokens (alternating colours, ids on hover), the count,
characters per token and the input cost; and tokens per 100 characters, English against Chinese."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from components.charts import LAYOUT
from components.language import fixed_labels
from components.result_card import openness_badge
from playground import Catalog
from playground.formatting import format_count, format_number
from playground.i18n import N_, _, is_chinese
from playground.tokens import NOT_PUBLIC, OK, SAMPLES, Lens, lens_models, look_all

DEFAULT_MODELS = ["smollm2-135m", "minilm-zero-shot", "gpt-4-turbo", "gpt-4o-mini", "ernie-4.5-turbo"]
CHOICES = {"en": N_("English sample"), "zh": N_("Chinese sample"), "own": N_("My own text")}
COLOURS = ("#dbeafe", "#fde68a")  # two light tints that alternate, so where a token ends is visible
MAX_PIECES = 3000  # a pasted book is counted whole but drawn only this far: the browser stays responsive


def inputs(catalog: Catalog) -> tuple[str, list[str]]:
    """The text (a sample in either language, or the user's own) and the chosen models."""
    default = "zh" if is_chinese() else "en"
    choice = st.radio(
        _("Text"),
        list(CHOICES),
        index=list(CHOICES).index(default),
        format_func=fixed_labels(CHOICES, lambda choice: _(CHOICES[choice])),
        horizontal=True,
        key="lens_choice",
    )
    text = st.text_area(
        _("Text to cut into tokens"),
        value=SAMPLES.get(choice, ""),
        height=140,
        key=f"lens_text_{choice}",  # one box per choice: switching back keeps what was typed
        placeholder=_("Paste or type any text"),
    )
    models = lens_models(catalog)
    chosen = st.multiselect(
        _("Models"),
        [m.id for m in models],
        default=[m for m in DEFAULT_MODELS if m in catalog.models],
        format_func=fixed_labels([m.id for m in models], lambda m: catalog.get(m).label),
        key="lens_models",
        placeholder=_("Choose models"),
    )
    return text, chosen


def token_html(lens: Lens) -> str:
    """The text as spans, one per piece, in alternating colours; hovering shows the token ids."""
    spans = []
    for i, piece in enumerate(lens.pieces[:MAX_PIECES]):
        ids = ", ".join(str(t) for t in piece.ids)
        title = _("token id {ids}").format(ids=ids) if len(piece.ids) == 1 else _("{n} tokens: ids {ids}")
        spans.append(
            f'<span title="{html.escape(title.format(n=len(piece.ids), ids=ids))}" '
            f'style="background:{COLOURS[i % 2]};border-radius:3px;padding:1px 0">{html.escape(piece.text)}</span>'
        )
    return (
        '<div class="token-lens" style="white-space:pre-wrap;line-height:1.9;color:#111">' + "".join(spans) + "</div>"
    )


def summary(lens: Lens) -> str:
    parts = [_("{n} tokens").format(n=format_count(lens.count))]
    if lens.chars_per_token:
        parts.append(_("{x} characters per token").format(x=format_number(lens.chars_per_token, 2)))
    if lens.spec.is_local:
        parts.append(_("no API fee: it runs on this machine"))
    elif lens.cost is not None:
        parts.append(_("{cost} as input").format(cost=lens.cost.label))
    return " · ".join(parts)


def show(lens: Lens) -> None:
    with st.container(border=True):
        st.markdown(f"**{lens.spec.display_name}** {openness_badge(lens.spec.openness)}")
        if lens.status == OK:
            own = _("its own ({name})") if lens.spec.is_local else "{name}"
            tokenizer = _("Tokenizer: {name}, {vocab} different tokens").format(
                name=own.format(name=lens.tokenizer), vocab=format_count(lens.vocab)
            )
            st.caption(tokenizer + " · " + summary(lens))
            st.html(token_html(lens))
            if len(lens.pieces) > MAX_PIECES:
                st.caption(_("The first {n} pieces are drawn; the count is for the whole text.").format(n=MAX_PIECES))
            return
        if lens.status == NOT_PUBLIC:
            st.warning(_("Tokenizer not public: {why}.").format(why=lens.note))
        else:
            st.info(_("Tokenizer not available here: {why}.").format(why=lens.note))
        if lens.last_usage:
            tokens, chars = lens.last_usage
            st.caption(
                _(
                    "The last real call in history: the vendor counted {tokens} input tokens for {chars} characters "
                    "({x} characters per token, the chat format's own tokens included)."
                ).format(
                    tokens=format_count(tokens), chars=format_count(chars), x=format_number(lens.chars_per_token, 2)
                )
            )
        else:
            st.caption(_("No call to this model is in history yet: its vendor's count appears here after one."))


def language_chart(catalog: Catalog, model_ids: list[str]) -> None:
    """Tokens per 100 characters of the English and the Chinese sample, per model that can count here."""
    per_language = {lang: look_all(catalog, model_ids, SAMPLES[lang]) for lang in ("en", "zh")}
    counted = [i for i, lens in enumerate(per_language["en"]) if lens.count]
    if not counted:
        st.caption(_("None of the chosen models has a tokenizer that runs here."))
        return
    names = [per_language["en"][i].spec.display_name for i in counted]
    fig = go.Figure()
    for lang, label in (("en", _("English sample")), ("zh", _("Chinese sample"))):
        values = [per_language[lang][i].tokens_per_100_chars for i in counted]
        fig.add_bar(x=names, y=values, name=label, text=[format_number(v, 0) for v in values], textposition="outside")
    fig.update_layout(
        title=_("Tokens per 100 characters"), yaxis_title=_("tokens"), barmode="group", **{**LAYOUT, "height": 360}
    )
    st.plotly_chart(fig, key="lens_languages")
    st.caption(
        _(
            "The two samples say the same thing. A Chinese character carries more meaning than a Latin letter, so "
            "fewer characters are needed; a tokenizer trained mostly on English cuts each one into several byte "
            "pieces, and an API bills every piece."
        )
    )
