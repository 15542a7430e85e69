"""One column per model: its header, live text, notices, final metrics or its own error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from components.answer import safe_markdown, show_answer, show_partial
from components.costs import cost_caption
from playground.backends.base import Failure, Result
from playground.catalog import ModelSpec
from playground.metrics import CallMetrics
from playground.pricing import Cost

OPENNESS_BADGE = {"open": ":green-badge[open]", "closed": ":orange-badge[closed]"}


def metrics_line(m: CallMetrics) -> str:
    def fmt(value, unit, digits=2):
        return "–" if value is None else f"{value:.{digits}f} {unit}"

    parts = [
        f"TTFT {fmt(m.ttft_s, 's')}",
        f"total {fmt(m.total_s, 's')}",
        f"{m.output_tokens if m.output_tokens is not None else '–'} tokens out",
        f"{fmt(m.tokens_per_s, 'tok/s', 1)}",
        f"{m.input_tokens if m.input_tokens is not None else '–'} tokens in",
    ]
    if m.cold:
        parts.append(f"cold start: +{m.load_s:.1f} s loading")
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
        st.markdown(f"**{spec.name}** {OPENNESS_BADGE[spec.openness]}")
        st.caption(f"{spec.license} · {spec.params or 'size not published'}")
        return cls(spec, notice=st.empty(), body=st.empty(), footer=st.container())

    def stream(self, text: str) -> None:
        self.body.markdown(safe_markdown(text) + " ▌")

    def finish(
        self, final: Result | Failure, render_result: Callable[[Result], None], notices: list[str], cost: Cost | None = None
    ) -> None:
        if notices:
            self.notice.warning(safe_markdown("\n\n".join(notices)))
        else:
            self.notice.empty()
        if isinstance(final, Failure):
            with self.body.container():
                st.error(final.message)
                if final.hint:
                    st.caption(f"How to fix: {final.hint}")
                if final.partial_text:
                    show_partial(final.partial_text)
            return
        with self.body.container():
            render_result(final)
        with self.footer:
            st.caption(metrics_line(final.metrics))
            cost_caption(cost)


def show_text(result: Result) -> None:
    show_answer(result.text)
