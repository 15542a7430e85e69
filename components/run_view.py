"""Run one request on several models at once and render their columns as the events arrive.

Every page goes through here, so every page streams, isolates errors and measures the same way. Worker threads
live in the runner; only this (the script thread) calls st.*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import streamlit as st

from components.answer import safe_markdown
from components.costs import settle
from components.result_card import Card, show_text
from playground.backends.base import Credentials, Failure, Notice, Request, Result, Token
from playground.catalog import Catalog, CatalogError
from playground.pricing import Cost
from playground.runner import run_side_by_side

Final = Result | Failure


@dataclass
class Outcome:
    """What a side-by-side run left behind: each model's final event and the notices worth keeping."""

    finals: dict[str, Final] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)
    costs: dict[str, Cost | None] = field(default_factory=dict)


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
) -> Outcome:
    """Stream every model into its own column; return what each model ended with."""
    cards = _cards(catalog, model_ids)
    texts: dict[str, str] = {}
    outcome = Outcome()
    for event in run_side_by_side(catalog, model_ids, request, credentials):
        card = cards.get(event.model_id)
        if card is None:
            continue
        if isinstance(event, Token):
            texts[event.model_id] = texts.get(event.model_id, "") + event.text
            card.stream(texts[event.model_id])
        elif isinstance(event, Notice):
            if not event.progress:
                outcome.notices.setdefault(event.model_id, []).append(event.message)
            card.notice.info(safe_markdown(event.message))  # a notice may quote the model's answer
        else:
            outcome.finals[event.model_id] = event
            model_request = request[event.model_id] if isinstance(request, Mapping) else request
            # the one place every page's runs are priced and written to history
            outcome.costs[event.model_id] = settle(catalog, model_request.task, model_request, event, credentials)
            card.finish(event, render_result, outcome.notices.get(event.model_id, []), outcome.costs[event.model_id])
    return outcome


def render_finished(catalog: Catalog, outcome: Outcome, render_result: Callable[[Result], None] = show_text) -> None:
    """Show the last run again after a rerun (a widget changed) without running the models."""
    for model_id, card in _cards(catalog, list(outcome.finals)).items():
        if card is not None:
            card.finish(outcome.finals[model_id], render_result, outcome.notices.get(model_id, []), outcome.costs.get(model_id))
