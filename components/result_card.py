"""One column per model: its header, live text, notices, final metrics or its own error."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import streamlit as st

from components.answer import safe_markdown, show_answer
from components.session import get_catalog
from playground import CallMetrics, Cost, Failure, ModelSpec, Result, Waiting
from playground.formatting import format_bytes
from playground.hardware import display_name as display_hardware
from playground.i18n import _, current_language


def openness_badge(openness: str) -> str:
    return ":green-badge[" + _("open") + "]" if openness == "open" else ":orange-badge[" + _("closed") + "]"


def _ordinal(n: int) -> str:
    if current_language() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def waiting_line(event: Waiting) -> str:
    """Where this request is in line for a shared model, and roughly how long until it starts."""
    line = _("{place} in line").format(place=_ordinal(event.position))
    if event.eta_s is not None:
        line += " · " + _("about {seconds} s").format(seconds=f"{event.eta_s:.0f}")
    return line


def metrics_line(m: CallMetrics, hardware: str = "") -> str:
    """The wait a user went through, in the order it happened: line, load, first token, decode."""
    parts = []
    if m.queue_s >= 0.05:
        parts.append(_("waited {s} s in line").format(s=f"{m.queue_s:.1f}"))
    if m.cold:
        parts.append(_("loaded the model in {s} s").format(s=f"{m.load_s:.1f}"))
    generated = m.output_tokens != 0  # a classifier or an image model writes no tokens: no "first token", no "0 out"
    if generated and (after_start := m.first_token_after_start_s) is not None:
        key = _("first token {s} s later") if parts else _("first token after {s} s")
        parts.append(key.format(s=f"{after_start:.2f}"))
        parts.append(_("TTFT {s} s from arrival").format(s=f"{m.ttft_s:.2f}"))
    if m.tokens_per_s is not None:
        parts.append(_("{rate} tok/s").format(rate=f"{m.tokens_per_s:.1f}"))
    if m.total_s is not None:
        parts.append(_("total {s} s").format(s=f"{m.total_s:.2f}"))
    if generated and (m.output_tokens is not None or m.input_tokens is not None):
        parts.append(_("{n} tokens out").format(n="–" if m.output_tokens is None else m.output_tokens))
    if m.input_tokens is not None:
        parts.append(_("{n} tokens in").format(n=m.input_tokens))
    if hardware:
        parts.append(_("on {hardware}").format(hardware=display_hardware(hardware)))
    return " · ".join(parts)


STREAM_INTERVAL_S = 0.1  # redraw a streaming answer at most this often: each redraw re-renders the whole text


@dataclass
class Card:
    """Placeholders in one model's column, filled as its events arrive."""

    spec: ModelSpec
    notice: st.delta_generator.DeltaGenerator
    body: st.delta_generator.DeltaGenerator
    footer: st.delta_generator.DeltaGenerator
    drawn_at: float = 0.0
    passing: bool = False  # the notice slot shows something that ends when tokens come (place in line, reading)
    showing: str = ""  # what the passing notice says now: a page polling every 30 ms redraws it only when it changes
    kept: list[str] = field(default_factory=list)  # notices that stay on the card (a cut prompt, a language)

    @classmethod
    def open(cls, spec: ModelSpec) -> Card:
        st.markdown(f"**{spec.display_name}** {openness_badge(spec.openness)}")
        licence = get_catalog().license_of(spec.license).display_name
        size = spec.params or _("size not published")
        runs_as = f" · {spec.runtime} {spec.precision}".rstrip() if spec.is_local and spec.precision else ""
        st.caption(f"{licence} · {size}{runs_as}")
        # st.empty, not a bare container: it replaces the last run's footer now, so old metrics never sit greyed
        # under a new answer
        return cls(spec, notice=st.empty(), body=st.empty(), footer=st.empty())

    def stream(self, text: str) -> None:
        """Show the answer so far, at most every STREAM_INTERVAL_S: tokens between redraws are kept, not lost."""
        if self.passing:  # the model has started on it: "in line" or "reading the prompt" is over
            self._show_kept()
            self.passing, self.showing = False, ""
        if (now := time.monotonic()) - self.drawn_at >= STREAM_INTERVAL_S:
            self.drawn_at = now
            self.body.markdown(safe_markdown(text) + " ▌")

    def waiting(self, event: Waiting) -> None:
        if (line := waiting_line(event)) != self.showing:
            self.notice.info(line, icon=":material/hourglass_top:")
            self.passing, self.showing = True, line

    def progress(self, message: str) -> None:
        """Work before the first token (loading, reading the prompt): shown until the answer starts."""
        if message != self.showing:
            self.notice.info(safe_markdown(message))
            self.passing, self.showing = True, message

    def keep(self, message: str) -> None:
        self.kept.append(message)
        self._show_kept()
        self.passing, self.showing = False, ""

    def _show_kept(self) -> None:
        if self.kept:
            self.notice.info(safe_markdown("\n\n".join(self.kept)))  # a notice may quote the model's answer
        else:
            self.notice.empty()

    def finish(
        self,
        final: Result | Failure,
        render_result: Callable[[Result], None],
        notices: list[str],
    ) -> None:
        if notices:
            self.notice.warning(safe_markdown("\n\n".join(notices)))
        else:
            self.notice.empty()
        if isinstance(final, Failure):
            with self.body.container():
                st.error(final.message)
                if final.hint:
                    st.caption(_("How to fix: {hint}").format(hint=final.hint))
                if final.retry_after_s:
                    st.caption(_("Try again in {s} s.").format(s=f"{final.retry_after_s:.0f}"))
                if final.partial_text:
                    st.caption(_("Partial answer: the call failed before it finished."))
                    render_result(Result(final.model_id, text=final.partial_text))
            if final.metrics is not None:
                with self.footer.container():
                    st.caption(metrics_line(final.metrics))
                    energy_caption(final.energy)
            return
        with self.body.container():
            render_result(final)
        with self.footer.container():
            st.caption(metrics_line(final.metrics, final.extra.get("hardware") or final.extra.get("endpoint", "")))
            if footprint := _footprint(final.extra):
                st.caption(footprint)
            cost_caption(final.cost)
            energy_caption(final.energy)


def energy_caption(energy) -> None:
    """The call's energy and carbon, saying whether it was measured or estimated; the method in the tooltip."""
    if energy is not None:
        st.caption(_("Energy: {figure}").format(figure=energy.label), help=energy.detail)


def _footprint(extra: dict) -> str:
    """A local model's size on disk and in memory, as the runtime reported it."""
    parts = []
    if extra.get("disk_bytes"):
        parts.append(_("{size} on disk").format(size=format_bytes(extra["disk_bytes"])))
    if extra.get("memory_bytes"):
        parts.append(_("{size} in memory").format(size=format_bytes(extra["memory_bytes"])))
    return " · ".join(parts)


def show_text(result: Result) -> None:
    show_answer(result.text)


def cost_caption(cost: Cost | None) -> None:
    """The cost slot under an answer: the amount, where the price comes from, and the rates in a tooltip."""
    if cost is not None:
        st.caption(
            _("Cost {amount} · {source}").format(amount=cost.label, source=cost.source), help=cost.detail or None
        )
