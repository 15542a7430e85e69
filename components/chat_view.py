"""A chat per column: each chosen model keeps its own thread, every message goes to all of them.

The answers run on background threads (``playground.conversations``), so this script only draws: it polls each
column's turn while any is running. A click (stop one column, regenerate one answer) reruns the page, which picks
the other columns' streams up where they are: one column's stop never stops another.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.answer import safe_markdown
from components.result_card import Card, openness_badge, show_text
from components.session import get_playground, run_context
from components.settings import run_settings
from playground import Asking, Catalog, CatalogError, Conversation, Credentials, GenParams, ModelSpec
from playground.conversations import Thread, Totals, Turn, export_json, export_markdown
from playground.formatting import format_count, format_usd
from playground.i18n import _

STATE = "chat_conversation"
POLL_S = 0.03  # how often the page looks for new text: a first token is shown within 30 ms of its arrival


def asking(credentials: Credentials, system: str, params: dict[str, GenParams], page: str = "generate") -> Asking:
    return Asking(get_playground(), credentials, run_context(page), run_settings(), system, params)


def conversation_for(model_ids: list[str]) -> Conversation:
    """This session's conversation with these models; other models start a new one."""
    current: Conversation | None = st.session_state.get(STATE)
    if current is None or current.model_ids != tuple(model_ids):
        if current is not None:
            current.stop_all()
        current = st.session_state[STATE] = Conversation(tuple(model_ids))
    return current


def start_over(model_ids: list[str]) -> Conversation:
    if (current := st.session_state.get(STATE)) is not None:
        current.stop_all()
    st.session_state[STATE] = Conversation(tuple(model_ids))
    return st.session_state[STATE]


def totals_line(totals: Totals) -> str:
    cost = _("unpriced") if totals.usd is None else format_usd(totals.usd)
    return _(
        "So far: {tin} tokens sent (the history goes again with each turn) · {tout} tokens received · {s} s · {cost}"
    ).format(
        tin=format_count(totals.input_tokens),
        tout=format_count(totals.output_tokens),
        s=f"{totals.seconds:.1f}",
        cost=cost,
    )


def show(catalog: Catalog, conversation: Conversation, ask: Asking) -> None:
    """One column per model under a toolbar; streams until every answer has ended."""
    if not conversation.turns:
        st.caption(
            _("Press Run, or write below: every model answers in its own column, and remembers the conversation.")
        )
        return
    toolbar = st.empty()  # drawn once the answers are in: the exports hold them, and editing waits for them
    live = {}
    for column, (model_id, thread) in zip(st.columns(len(conversation.threads)), conversation.threads.items()):
        with column:
            try:
                spec = catalog.get(model_id)
            except CatalogError as exc:
                st.error(str(exc))
                continue
            live[model_id] = _column(spec, thread, conversation, ask)
    _stream(live)
    with toolbar.container():
        _toolbar(catalog, conversation, ask)


@dataclass
class _Live:
    """A column whose last answer is still coming: where to draw it, and what to redraw when it ends."""

    card: Card
    turn: Turn
    totals: DeltaGenerator
    controls: DeltaGenerator
    thread: Thread
    conversation: Conversation
    ask: Asking


def _column(spec: ModelSpec, thread: Thread, conversation: Conversation, ask: Asking) -> _Live | None:
    st.markdown(f"**{spec.display_name}** {openness_badge(spec.openness)}")
    st.caption(f"{spec.runtime} {spec.precision}".strip() if spec.is_local else spec.params or "")
    card, drawn_finished = None, True
    for turn in thread.turns:
        with st.chat_message("user"):
            st.markdown(safe_markdown(turn.user))
        with st.chat_message("assistant"):
            if turn.trim is not None:
                st.caption(":material/content_cut: " + turn.trim.describe())
            card = Card(spec, notice=st.empty(), body=st.empty(), footer=st.container())
            # looked at once: an answer that ends while this column is drawn (an API's 58 ms) is finished by the
            # stream loop, not left as an empty card
            if drawn_finished := turn.done.is_set():
                card.finish(turn.final, show_text, turn.notices)
    totals = st.empty()
    totals.caption(totals_line(thread.totals()))
    controls = st.empty()
    _controls(controls, thread, conversation, ask, running=not drawn_finished)
    last = thread.turns[-1] if thread.turns else None
    return _Live(card, last, totals, controls, thread, conversation, ask) if last and not drawn_finished else None


def _controls(slot, thread: Thread, conversation: Conversation, ask: Asking, running: bool) -> None:
    if not thread.turns:
        slot.empty()
        return
    model_id, last = thread.model_id, thread.turns[-1]
    with slot.container():
        first, copy, _spare = st.columns(3)  # the first is always filled: it replaces Stop in place
        if running:  # as the card was drawn: the stream loop redraws these once it has drawn the end
            first.button(
                _("Stop"),
                key=f"chat_stop_{model_id}",
                icon=":material/stop:",
                on_click=conversation.stop,
                args=(model_id,),
            )
            return
        first.button(
            _("Regenerate"),
            key=f"chat_regenerate_{model_id}",
            icon=":material/refresh:",
            on_click=conversation.regenerate,
            args=(model_id, ask),
        )
        with copy.popover(_("Copy"), icon=":material/content_copy:"):
            st.code(last.answer, language=None, wrap_lines=True)


def _stream(live: dict[str, _Live | None]) -> None:
    """Redraw every running answer until it ends (a click reruns the page; the answers go on meanwhile)."""
    running = [column for column in live.values() if column is not None]
    while running:
        time.sleep(POLL_S)
        for column in list(running):
            turn, card = column.turn, column.card
            if turn.done.is_set():
                card.finish(turn.final, show_text, turn.notices)
                column.totals.caption(totals_line(column.thread.totals()))
                _controls(column.controls, column.thread, column.conversation, column.ask, running=False)
                running.remove(column)
            elif turn.text:
                card.stream(turn.text)
            elif turn.waiting is not None:
                card.waiting(turn.waiting)
            elif turn.progress:
                card.progress(turn.progress)  # the first token clears it, as it does a place in line


def _toolbar(catalog: Catalog, conversation: Conversation, ask: Asking) -> None:
    names = {m: catalog.models[m].display_name for m in conversation.model_ids if m in catalog.models}
    clear, edit, markdown, json_file = st.columns(4)
    clear.button(_("Clear the conversation"), icon=":material/delete:", key="chat_clear", on_click=_clear)
    last = _last_message(conversation)
    with edit.popover(_("Edit the last message"), icon=":material/edit:"):
        key = f"chat_edit_{conversation.id}_{conversation.turns}"
        st.text_area(_("Last message"), value=last, key=key)
        st.button(_("Send again to every model"), key="chat_resend", on_click=_resend, args=(conversation, key, ask))
    stem = f"conversation-{conversation.id}"
    markdown.download_button(
        _("Export as Markdown"), export_markdown(conversation, names), f"{stem}.md", "text/markdown", key="chat_md"
    )
    json_file.download_button(
        _("Export as JSON"), export_json(conversation, names), f"{stem}.json", "application/json", key="chat_json"
    )


def _last_message(conversation: Conversation) -> str:
    turns: list[Turn] = next(iter(conversation.threads.values())).turns
    return turns[-1].user if turns else ""


def _resend(conversation: Conversation, key: str, ask: Asking) -> None:
    if text := st.session_state.get(key, "").strip():
        conversation.edit_last(text, ask)


def _clear() -> None:
    if (current := st.session_state.pop(STATE, None)) is not None:
        current.stop_all()
