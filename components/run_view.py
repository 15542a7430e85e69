"""Run one request on several models at once and render their columns as the events arrive.

Every page goes through here, so every page streams, isolates errors and measures the same way. Worker threads
live in the runner; only this (the script thread) calls st.*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import streamlit as st

from components.result_card import Card, show_text
from components.session import get_playground, run_context
from components.settings import run_settings
from playground import (
    Catalog,
    CatalogError,
    Credentials,
    Failure,
    InputError,
    Notice,
    Request,
    Result,
    Token,
    Waiting,
)

Final = Result | Failure


@dataclass
class Outcome:
    """What a side-by-side run left behind: each model's final event and the notices worth keeping."""

    finals: dict[str, Final] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)


def _cards(catalog: Catalog, model_ids: list[str]) -> dict[str, Card | None]:
    cards = {}
    for column, model_id in zip(st.columns(len(model_ids)), model_ids):
        with column:
            try:
                cards[model_id] = Card.open(catalog.get(model_id))
            except CatalogError as exc:
                st.error(str(exc))
                cards[model_id] = None
    return cards


def render_side_by_side(
    catalog: Catalog,
    model_ids: list[str],
    request: Request | Mapping[str, Request],
    credentials: Credentials,
    render_result: Callable[[Result], None] = show_text,
    room: str | None = None,
) -> Outcome:
    """Stream every model into its own column; return what each model ended with. ``room`` tags the runs with a
    classroom room."""
    cards = _cards(catalog, model_ids)
    texts: dict[str, str] = {}
    outcome = Outcome()
    page = next(iter(request.values())).task if isinstance(request, Mapping) else request.task
    events = get_playground().run(model_ids, request, credentials, run_context(page, room=room), run_settings())
    try:
        _render_events(events, cards, texts, outcome, render_result)
    except InputError as exc:  # settings out of range: said once, before any model was asked
        st.error(exc.message)
        if exc.hint:
            st.caption(exc.hint)
    outcome.finals = {m: outcome.finals[m] for m in model_ids if m in outcome.finals}  # redrawn in the picked order
    return outcome


def _render_events(events, cards: dict, texts: dict[str, str], outcome: Outcome, render_result) -> None:
    for event in events:
        card = cards.get(event.model_id)
        if card is None:
            continue
        if isinstance(event, Token):
            texts[event.model_id] = texts.get(event.model_id, "") + event.text
            card.stream(texts[event.model_id])
        elif isinstance(event, Waiting):
            card.waiting(event)
        elif isinstance(event, Notice):
            if event.progress:
                card.progress(event.message)
            else:
                outcome.notices.setdefault(event.model_id, []).append(event.message)
                card.keep(event.message)
        else:
            outcome.finals[event.model_id] = event  # priced (.cost) and recorded by the engine
            card.finish(event, render_result, outcome.notices.get(event.model_id, []))


def render_finished(catalog: Catalog, outcome: Outcome, render_result: Callable[[Result], None] = show_text) -> None:
    """Show the last run again after a rerun (a widget changed) without running the models."""
    for model_id, card in _cards(catalog, list(outcome.finals)).items():
        if card is not None:
            card.finish(outcome.finals[model_id], render_result, outcome.notices.get(model_id, []))
