"""Group commit for history: runs recorded while another commit is under way go in together, in the next one.

A prompt set's local model finishes its rows in the same batch step, so 16 cells arrive at once; written one
transaction each they queued behind each other (``bench.prompt_sets``: the last waited ~25 ms for 15 others, while
its own write took ~1 ms). Here the first writer to find the store free commits everything waiting: the runs in
one multi-row INSERT (ids back in the rows' order), their prompt-set cells in one more, one prune, one commit.
Every caller still returns only once its run is committed, with its own id or its own error: a batch that fails is
retried one run at a time, so one bad row (a cell already stored) never sinks the others. A lone writer is a batch
of one, the plain transaction it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from playground.store.schema import prompt_set_cells, runs


@dataclass
class _Write:
    row: dict  # the runs row
    cell: dict | None  # its prompt-set cell's row, without history_id
    run_id: int | None = None
    error: BaseException | None = None
    done: bool = False


class RunWriter:
    """``write(row, cell)`` inserts a run (and its cell, in the same transaction) and returns the run's id."""

    def __init__(self, begin: Callable, prune: sa.Delete) -> None:
        self._begin, self._prune = begin, prune
        self._pending: list[_Write] = []
        self._guard = threading.Lock()  # over _pending
        self._turn = threading.Lock()  # one committer at a time

    def write(self, row: dict, cell: dict | None = None) -> int:
        job = _Write(row, cell)
        with self._guard:
            self._pending.append(job)
        with self._turn:
            if not job.done:  # no committer took it while this thread waited: commit everything waiting
                with self._guard:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        if job.error is not None:
            raise job.error
        return job.run_id

    def _commit(self, batch: list[_Write]) -> None:
        try:
            with self._begin() as conn:
                ids = _insert(conn, batch)
                conn.execute(self._prune)  # in the same transaction: at most max_runs remain after every commit
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            for job in batch:  # find the bad one: each alone, so the others still land
                self._commit([job])
            return
        except BaseException as exc:  # an interrupt: no caller may be left waiting for a commit that will not come
            for job in batch:
                job.error, job.done = exc, True
            raise
        for job, run_id in zip(batch, ids):
            job.run_id, job.done = run_id, True


def _insert(conn: sa.Connection, batch: list[_Write]) -> list[int]:
    """The batch's runs in one INSERT (SQLAlchemy's insertmanyvalues keeps the ids in the rows' order), then its
    cells, each with its run's id."""
    statement = sa.insert(runs).returning(runs.c.id, sort_by_parameter_order=True)
    ids = list(conn.execute(statement, _same_keys([job.row for job in batch])).scalars())
    cells = [job.cell | {"history_id": run_id} for job, run_id in zip(batch, ids) if job.cell is not None]
    if cells:
        conn.execute(sa.insert(prompt_set_cells), _same_keys(cells))
    return ids


def _same_keys(rows: list[dict]) -> list[dict]:
    """A many-row INSERT needs every row to name the same columns: a column some rows leave out is NULL in them."""
    names = {name for row in rows for name in row}
    return [{name: row.get(name) for name in names} for row in rows]
