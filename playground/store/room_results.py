"""The store's read side for a room's prompt-set exercise: the class's runs and cells, within what the viewer may see.

Only queries: cells are written by ``PromptSetStore.record_cell`` as a run goes (``playground.prompt_set_runs``).
An instructor (or the admin) reads every run in the room; anyone else only their own session's.
"""

from __future__ import annotations

import sqlalchemy as sa

from playground.access import Scope
from playground.store.schema import prompt_set_cells, prompt_set_runs


def _in_room(query: sa.Select, room: str, scope: Scope) -> sa.Select:
    query = query.where(prompt_set_runs.c.room == room)
    if not scope.instructs(room):
        query = query.where(prompt_set_runs.c.session_id == scope.session_id)
    return query


class RoomResultsStore:
    """Mixed into ``Store``: needs its ``_connect``."""

    def room_prompt_set_runs(self, room: str, scope: Scope) -> list[dict]:
        """The room's prompt-set runs the viewer may see, newest first, without their set and cells."""
        c = prompt_set_runs.c
        query = _in_room(sa.select(c.id, c.session_id, c.set_name, c.models, c.status, c.created_at), room, scope)
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(c.created_at.desc(), c.id)).mappings()]

    def room_prompt_set_cells(self, room: str, scope: Scope) -> list[dict]:
        """Every cell of those runs, with its run's session, set name and start: what the class's pass rates add up.
        Verdicts and numbers only, never an answer's text."""
        r, c = prompt_set_runs.c, prompt_set_cells.c
        query = sa.select(
            c.run_id, c.row_index, c.model_id, c.verdict, c.manual_verdict, c.latency_s, c.cost_usd,
            r.session_id, r.set_name, r.created_at,
        ).join_from(prompt_set_cells, prompt_set_runs, c.run_id == r.id)  # fmt: skip
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(_in_room(query, room, scope).order_by(c.id)).mappings()]
