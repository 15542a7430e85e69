"""The store's part for prompt sets: a run of a set (its rows, models and params) and one cell per (row, model).

A cell is written once, as its answer is checked, so a page that reopens a run (another tab, another replica)
reads every cell done so far; its generation is also an ordinary run in ``runs`` (``history_id``), written in the
same transaction (``Store.record(..., cell=Cell(...))``): history and the matrix never disagree about a cell, and
a cell costs one commit, not two. A person's pass/fail and comment are the only later changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from playground.errors import InputError
from playground.i18n import _
from playground.redact import scrub
from playground.store.schema import prompt_set_cells, prompt_set_runs

MANUAL_VERDICTS = ("pass", "fail")


@dataclass(frozen=True)
class Cell:
    """One checked cell of a run: ``values`` holds the columns of prompt_set_cells (answer, checks, verdict...)."""

    run_id: str
    row_index: int
    model_id: str
    values: dict


class PromptSetStore:
    """Mixed into ``Store``: needs its ``_begin``, ``_connect`` and ``retention``."""

    def create_prompt_set_run(
        self,
        run_id: str,
        prompt_set: dict,
        models: list[str],
        params: dict,
        session_id: str = "",
        room: str | None = None,
        rerun_of: str | None = None,
    ) -> None:
        row = {
            "id": run_id,
            "session_id": session_id or None,
            "room": room,
            "set_name": prompt_set["name"],
            "prompt_set": prompt_set,
            "models": list(models),
            "params": params,
            "status": "running",
            "rerun_of": rerun_of,
            "created_at": time.time(),
        }
        with self._begin() as conn:
            conn.execute(sa.insert(prompt_set_runs).values(row))

    def finish_prompt_set_run(self, run_id: str, status: str) -> None:
        query = sa.update(prompt_set_runs).where(prompt_set_runs.c.id == run_id)
        with self._begin() as conn:
            conn.execute(query.values(status=status, finished_at=time.time()))

    def record_cell(self, run_id: str, row_index: int, model_id: str, cell: dict, secrets: Iterable[str] = ()) -> None:
        """One checked cell on its own, in one INSERT (a run's cells come with their generation's history row,
        through ``Store.record``)."""
        values = self._cell_row(Cell(run_id, row_index, model_id, cell), tuple(s for s in secrets if s))
        with self._begin() as conn:
            conn.execute(sa.insert(prompt_set_cells), values)

    def _cell_row(self, cell: Cell, hidden: tuple[str, ...]) -> dict:
        """The cell's row: its answer and error scrubbed of ``hidden`` and clipped like history's texts."""
        values = dict(cell.values)
        for name in ("answer", "error"):
            values[name] = self.retention.clip(scrub(values.get(name), hidden))
        return values | {
            "run_id": cell.run_id,
            "row_index": cell.row_index,
            "model_id": cell.model_id,
            "created_at": time.time(),
        }

    def mark_cell(self, run_id: str, row_index: int, model_id: str, manual_verdict: str | None, comment: str) -> None:
        """A person's pass/fail (None: back to the checks' verdict) and comment on one cell."""
        if manual_verdict not in (None, *MANUAL_VERDICTS):
            raise InputError(_("A verdict is pass or fail, not {value}.").format(value=manual_verdict))
        query = sa.update(prompt_set_cells).where(
            prompt_set_cells.c.run_id == run_id,
            prompt_set_cells.c.row_index == row_index,
            prompt_set_cells.c.model_id == model_id,
        )
        with self._begin() as conn:
            if not conn.execute(query.values(manual_verdict=manual_verdict, comment=comment or None)).rowcount:
                raise InputError(_("That cell has no answer yet."))

    def prompt_set_run(self, run_id: str) -> dict | None:
        with self._connect() as conn:
            row = conn.execute(sa.select(prompt_set_runs).where(prompt_set_runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def prompt_set_cells(self, run_id: str) -> list[dict]:
        query = (
            sa.select(prompt_set_cells)
            .where(prompt_set_cells.c.run_id == run_id)
            .order_by(prompt_set_cells.c.row_index, prompt_set_cells.c.id)
        )
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def prompt_set_runs(
        self, session_id: str | None = None, set_name: str | None = None, limit: int = 50
    ) -> list[dict]:
        """The newest runs first, without their set and cells: a session's own, or every one of a set's name."""
        c = prompt_set_runs.c
        query = sa.select(c.id, c.set_name, c.models, c.status, c.rerun_of, c.created_at, c.finished_at)
        if session_id is not None:
            query = query.where(c.session_id == session_id)
        if set_name is not None:
            query = query.where(c.set_name == set_name)
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(c.created_at.desc()).limit(limit)).mappings()]
