"""The store's reads for a room's prompt-set exercise, on SQLite and PostgreSQL: who reads which cells, and the
room's export holding them."""

from __future__ import annotations

import io
import json
import zipfile

from playground import rooms
from playground.access import ADMIN, INSTRUCTOR, Scope
from playground.store import Store

SET = {"name": "Tiny", "description": "", "rows": [{"id": "a", "prompt": "Hi"}, {"id": "b", "prompt": "Bye"}]}


def _run(store: Store, run_id: str, session: str, room: str | None, verdicts: list[str]) -> None:
    store.create_prompt_set_run(run_id, SET, ["m"], {}, session, room)
    for row, verdict in enumerate(verdicts):
        store.record_cell(run_id, row, "m", {"answer": f"secret of {session}", "checks": [], "verdict": verdict})
    store.finish_prompt_set_run(run_id, "done")


def test_each_reads_the_cells_they_may_and_the_export_holds_them(db_url):
    store = Store(db_url)
    for code in ("RMAAAAAA", "RMBBBBBB"):
        store.create_room(code, code, rooms.hash_pin("2468"))
    _run(store, "r1", "s1", "RMAAAAAA", ["pass", "fail"])
    _run(store, "r2", "s2", "RMAAAAAA", ["pass", "pass"])
    _run(store, "r3", "s1", "RMBBBBBB", ["fail"])
    _run(store, "r4", "s3", None, ["pass"])

    def cells(scope: Scope) -> list[tuple[str, int]]:
        return sorted((c["run_id"], c["row_index"]) for c in store.room_prompt_set_cells("RMAAAAAA", scope))

    teacher = Scope("t", INSTRUCTOR, frozenset({"RMAAAAAA"}))
    assert cells(teacher) == cells(Scope("root", ADMIN)) == [("r1", 0), ("r1", 1), ("r2", 0), ("r2", 1)]
    assert cells(Scope("s1")) == [("r1", 0), ("r1", 1)]  # a student: their own run in this room only
    assert cells(Scope("s3")) == [] and cells(Scope("t", INSTRUCTOR, frozenset({"RMBBBBBB"}))) == []
    rows = store.room_prompt_set_cells("RMAAAAAA", teacher)
    assert not any("answer" in row for row in rows)  # verdicts and numbers, never a student's text
    assert {(r["session_id"], r["set_name"]) for r in rows} == {("s1", "Tiny"), ("s2", "Tiny")}
    table = rooms.class_pass_rates(rows)
    assert table[["students", "runs", "cells", "passed"]].values.tolist() == [[2, 2, 4, 3]]

    assert [r["id"] for r in store.room_prompt_set_runs("RMAAAAAA", teacher)] == ["r2", "r1"]  # the newest first
    assert [r["id"] for r in store.room_prompt_set_runs("RMAAAAAA", Scope("s2"))] == ["r2"]

    export = store.export_room("RMAAAAAA", teacher)
    assert len(export["prompt_set_cells"]) == 4 and "secret" not in rooms.export_json(export)
    with zipfile.ZipFile(io.BytesIO(rooms.export_csv_zip(export))) as archive:
        assert archive.read("prompt_set_cells.csv").decode().count("\n") == 5  # a header and four cells
    assert json.loads(rooms.export_json(export))["prompt_set_cells"][0]["set_name"] == "Tiny"
