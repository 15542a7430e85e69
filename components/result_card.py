"""One column per model: its header, live text, notices, final metrics or its own error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from components.costs import cost_caption
from playground.backends.base import Failure, Result
from playground.catalog import ModelSpec
from playground.formatting import format_count, format_seconds, format_tokens_per_s
from playground.i18n import _
from playground.metrics import CallMetrics
from playground.pricing import Cost


def openness_badge(openness: str) -> str:
    return f":green-badge[{_('open')}]" if openness == "open" else f":orange-badge[{_('closed')}]"


def metrics_line(m: CallMetrics) -> str:
    def seconds(value):
        return "–" if value is None else format_seconds(value)

    def count(value):
        return "–" if value is None else format_count(value)

    parts = [
        _("TTFT {seconds}").format(seconds=seconds(m.ttft_s)),
        _("total {seconds}").format(seconds=seconds(m.total_s)),
        _("{count} tokens out").format(count=count(m.output_tokens)),
        "–" if m.tokens_per_s is None else format_tokens_per_s(m.tokens_per_s),
        _("{count} tokens in").format(count=count(m.input_tokens)),
    ]
    if m.cold:
        parts.append(_("cold start: +{seconds} loading").format(seconds=format_seconds(m.load_s, 1)))
    return " · ".join(parts)


@dataclass
class Card:
    """Placeholders in one model's column, filled as its events arrive."""

    spec: ModelSpec
    notice: st.delta_generator.DeltaGenerator
    body: st.delta_generator.DeltaGenerator
    footer: st.delta_generator.DeltaGenerator

    @classmethod
    def open(cls, spec: ModelSpec) -> "Card":
        st.markdown(f"**{spec.display_name}** {openness_badge(spec.openness)}")
        st.caption(f"{spec.license} · {spec.params or _('size not published')}")
        return cls(spec, notice=st.empty(), body=st.empty(), footer=st.container())

    def stream(self, text: str) -> None:
        self.body.markdown(text + " ▌")

    def finish(
        self, final: Result | Failure, render_result: Callable[[Result], None], notices: list[str], cost: Cost | None = None
    ) -> None:
        if notices:
            self.notice.warning("\n\n".join(notices))
        else:
            self.notice.empty()
        if isinstance(final, Failure):
            with self.body.container():
                st.error(final.message)
                if final.hint:
                    st.caption(_("How to fix: {hint}").format(hint=final.hint))
                if final.partial_text:
                    st.markdown(final.partial_text)
            return
        with self.body.container():
            render_result(final)
        with self.footer:
            st.caption(metrics_line(final.metrics))
            cost_caption(cost)


def show_text(result: Result) -> None:
    st.markdown(result.text or _("_(empty answer)_"))
