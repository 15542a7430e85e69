"""The one store: runs, settings, classroom rooms, arena battles and votes, on SQLite or PostgreSQL.

A ``Store`` is thread-safe (SQLAlchemy's pool gives each call its own connection), so every session of a server
process shares one; callers cache it per process. Nothing that must be shared between replicas lives anywhere else.
Keys never reach it: a run is stored from the request and its final event, never the credentials, and any secret
the caller names is scrubbed from the text fields as well.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from playground.access import INSTRUCTOR, Scope
from playground.catalog import ModelSpec
from playground.context import RunContext
from playground.errors import InputError
from playground.events import Failure, Request, Result
from playground.hardware import detect
from playground.pricing import Cost
from playground.redact import scrub
from playground.retention import Retention
from playground.store.engine import as_url, connect, upgrade
from playground.store.frames import json_rows
from playground.store.group_commit import RunWriter
from playground.store.prompt_set_store import Cell, PromptSetStore
from playground.store.room_results import RoomResultsStore
from playground.store.schema import (
    RUN_COLUMNS,
    VOTE_CHOICES,
    battles,
    room_members,
    rooms,
    runs,
    settings,
    votes,
)
from playground.store.trust import TrustStore

STORE_IO = "store_inputs_outputs"  # setting: False keeps only the metrics of each run
# Bounds on what visitors write into shared rows: a 100 kB title or a 1 MB exercise is refused, not stored.
MAX_TITLE_CHARS = 120
MAX_NAME_CHARS = 40
MAX_EXERCISE_CHARS = 8_000  # the exercise as JSON: its prompt and settings


def bounded(text: str, limit: int, what: str) -> str:
    """``text`` when it fits ``limit`` characters, else an ``InputError`` naming the bound."""
    if len(text) > limit:
        raise InputError(
            f"The {what} is too long ({len(text):,} characters).", hint=f"Keep it under {limit:,} characters."
        )
    return text


def _describe_input(request: Request) -> str:
    parts = [f"[system] {request.system}"] if request.system else []
    if request.history:  # a follow-up: the turns it re-sent are stored as their own runs
        parts.append(f"[{len(request.history) // 2} earlier turns re-sent]")
    if request.prompt:
        parts.append(request.prompt)
    if request.image is not None and hasattr(request.image, "size"):
        parts.append(f"[image {request.image.size[0]}×{request.image.size[1]}]")
    return "\n".join(parts)


def _energy_columns(energy) -> dict[str, Any]:
    """A run's energy (a playground.energy.Energy, or None) as the runs table keeps it."""
    if energy is None:
        return {}
    return {
        "energy_wh": energy.wh,
        "energy_min_wh": energy.min_wh,
        "energy_max_wh": energy.max_wh,
        "gwp_g": energy.gwp_g,
        "energy_source": energy.source,
        "energy_zone": energy.zone,
    }


def _params(request: Request) -> str:
    params: dict[str, Any] = {"task": request.task, **dataclasses.asdict(request.params)}
    if request.labels:
        params["labels"] = list(request.labels)
    return json.dumps(params)


class Store(TrustStore, PromptSetStore, RoomResultsStore):
    """Everything the playground remembers, behind one engine per database URL."""

    def __init__(self, url: str | Path | None = None, retention: Retention | None = None) -> None:
        self.url = as_url(url)
        self.retention = retention or Retention.from_env()  # clips stored texts, prunes the oldest runs
        self.engine = connect(self.url)
        upgrade(self.engine)
        self._closed = False
        # the newest max_runs stay: anything at or below the id just past them goes (one statement, not COUNT + DELETE)
        past_the_newest = sa.select(runs.c.id).order_by(runs.c.id.desc()).limit(1).offset(self.retention.max_runs)
        self._run_writer = RunWriter(self._begin, sa.delete(runs).where(runs.c.id <= past_the_newest.scalar_subquery()))
        # this process's SQLite writers queue on a lock, woken the moment it frees, not in SQLite's busy handler,
        # which sleeps 1, 2, 5, 10... ms between tries (other processes still meet that handler)
        self._writing = threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        database = self.engine.url.database
        return Path(database) if self.engine.dialect.name == "sqlite" and database else None

    def close(self) -> None:
        """Release the connections; a closed store raises on every later call instead of reconnecting."""
        self.engine.dispose()
        self._closed = True

    def _connect(self) -> sa.Connection:
        if self._closed:
            raise sa.exc.ResourceClosedError("This store is closed.")
        return self.engine.connect()

    @contextmanager
    def _begin(self):
        """A connection in a transaction that commits when the block ends (rolls back on an error)."""
        if self._closed:
            raise sa.exc.ResourceClosedError("This store is closed.")
        with self._writing, self.engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------ settings (never keys)
    def get_setting(self, name: str, default: Any = None) -> Any:
        with self._connect() as conn:
            value = conn.execute(sa.select(settings.c.value).where(settings.c.name == name)).scalar()
        return json.loads(value) if value is not None else default

    def set_setting(self, name: str, value: Any) -> None:
        self._upsert(settings, {"name": name, "value": json.dumps(value)}, ["name"])

    # ------------------------------------------------------------ runs
    def record(
        self,
        context: RunContext | str,
        spec: ModelSpec,
        request: Request,
        final: Result | Failure,
        cost: Cost | None,
        secrets: Iterable[str] = (),
        store_io: bool | None = None,
        cell: Cell | None = None,
    ) -> int:
        """Store one finished run and return its id. ``context`` says who and where (a bare page name is accepted);
        ``secrets`` (the session's keys) are scrubbed from every text field; ``store_io`` None means the saved
        setting (default: store). ``cell``: the prompt-set cell this run answered, written in the same transaction
        with this run's id as its ``history_id`` (both rows land, or neither). Runs recorded at the same moment
        share one commit (``group_commit.RunWriter``); each call returns once its own run is committed."""
        if isinstance(context, str):
            context = RunContext(context)
        if store_io is None:
            store_io = bool(self.get_setting(STORE_IO, True))
        if cost is None:
            cost = final.cost
        hidden = tuple(s for s in secrets if s)  # short keys too: scrub matches those as whole words

        def keep(text: str | None) -> str | None:  # scrubbed first, so a clip never leaves half a key behind
            return self.retention.clip(scrub(text, hidden))

        m = final.metrics
        local = detect().name if spec.is_local else None  # a failed local run ran here too
        if isinstance(final, Result):
            output, error, error_code = final.text or final.label or "", None, None
            endpoint, hardware = final.extra.get("endpoint"), final.extra.get("hardware") or local
        else:
            output, error, error_code = final.partial_text, f"{final.message} {final.hint}".strip(), final.code
            endpoint, hardware = None, local
        row = {
            "ts": time.time(),
            "page": context.page,
            "session_id": context.session_id or None,
            "room": context.room,
            "battle_id": context.battle_id,
            "conversation_id": context.conversation_id,
            "turn": context.turn,
            "model_id": spec.id,
            "model_name": spec.name,
            "openness": spec.openness,
            "params": keep(_params(request)),
            "input": keep(_describe_input(request)) if store_io else None,
            "output": keep(output) if store_io else None,
            "queue_s": m.queue_s if m else None,
            "load_s": m.load_s if m else None,
            "ttft_s": m.ttft_s if m else None,
            "decode_s": m.decode_s if m else None,
            "total_s": m.total_s if m else None,
            "tokens_in": m.input_tokens if m else None,
            "tokens_out": m.output_tokens if m else None,
            "tokens_per_s": m.tokens_per_s if m else None,
            "cost_usd": cost.usd if cost else None,
            "api_cost_usd": cost.api_usd if cost else None,
            "hardware_cost_usd": cost.hardware_usd if cost else None,
            "cost_source": cost.source if cost else None,
            "cold": int(bool(m and m.cold)),
            "hardware": hardware,
            "endpoint": keep(endpoint),
            "error": keep(error),
            "error_code": error_code,
            "partial": int(bool(isinstance(final, Failure) and final.partial_text)),
            **_energy_columns(getattr(final, "energy", None)),
        }
        return self._run_writer.write(row, None if cell is None else self._cell_row(cell, hidden))

    def runs(
        self,
        pages: Iterable[str] = (),
        models: Iterable[str] = (),
        since: float | None = None,
        room: str | None = None,
        scope: Scope | None = None,
        conversation_id: str | None = None,
    ):
        """Runs as a pandas DataFrame, oldest first, with a ``time`` column; empty filters mean everything.

        ``scope`` is who is looking: a student gets their session's runs, an instructor also their rooms', the
        admin everything. None is the server itself (benchmarks, aggregates that show no text)."""
        import pandas as pd

        query = sa.select(runs.c.id, *(runs.c[name] for name in RUN_COLUMNS)).order_by(runs.c.ts, runs.c.id)
        if pages := list(pages):
            query = query.where(runs.c.page.in_(pages))
        if models := list(models):
            query = query.where(runs.c.model_id.in_(models))
        if since is not None:
            query = query.where(runs.c.ts >= since)
        if room is not None:
            query = query.where(runs.c.room == room)
        if scope is not None and not scope.is_admin:
            query = query.where(sa.or_(runs.c.session_id == scope.session_id, runs.c.room.in_(sorted(scope.rooms))))
        if conversation_id is not None:
            query = query.where(runs.c.conversation_id == conversation_id)
        with self._connect() as conn:
            frame = pd.read_sql_query(query, conn)
        frame.insert(1, "time", pd.to_datetime(frame["ts"], unit="s", utc=True))
        frame["cold"] = frame["cold"].astype(bool)
        frame["partial"] = frame["partial"].astype(bool)
        return frame

    def clear_runs(self) -> None:
        with self._begin() as conn:
            conn.execute(sa.delete(runs))

    def delete_own_runs(self, scope: Scope) -> int:
        """Delete this session's own runs (never a room's or another visitor's); returns how many."""
        if not scope.session_id:
            return 0
        with self._begin() as conn:
            return conn.execute(sa.delete(runs).where(runs.c.session_id == scope.session_id)).rowcount

    # ------------------------------------------------------------ classroom rooms
    def create_room(self, code: str, title: str, pin_hash: str) -> None:
        """A new room; an existing code raises ``InputError`` (codes are the room's identity)."""
        bounded(title, MAX_TITLE_CHARS, "title")
        try:
            with self._begin() as conn:
                conn.execute(sa.insert(rooms).values(code=code, title=title, pin_hash=pin_hash, created_at=time.time()))
        except sa.exc.IntegrityError:
            raise InputError(f"A room with the code {code} already exists.") from None

    def get_room(self, code: str) -> dict | None:
        """The room's row (pin_hash included, for checking a PIN), or None."""
        with self._connect() as conn:
            row = conn.execute(sa.select(rooms).where(rooms.c.code == code)).mappings().first()
        return dict(row) if row else None

    def set_exercise(self, code: str, exercise: dict) -> None:
        bounded(json.dumps(exercise, ensure_ascii=False), MAX_EXERCISE_CHARS, "exercise")
        self._update_room(code, exercise=exercise)

    def close_room(self, code: str) -> None:
        self._update_room(code, closed_at=time.time())

    def _update_room(self, code: str, **values: Any) -> None:
        with self._begin() as conn:
            if not conn.execute(sa.update(rooms).where(rooms.c.code == code).values(**values)).rowcount:
                raise InputError(f"There is no room with the code {code}.")

    def join_room(self, code: str, session_id: str, display_name: str) -> None:
        """Add a member, or rename one who joins again from the same session."""
        bounded(display_name, MAX_NAME_CHARS, "name")
        try:
            self._upsert(
                room_members,
                {"room": code, "session_id": session_id, "display_name": display_name, "joined_at": time.time()},
                ["room", "session_id"],
                keep=("joined_at",),
            )
        except sa.exc.IntegrityError:
            raise InputError(f"There is no room with the code {code}.") from None

    def room_members(self, code: str) -> list[dict]:
        """Members in the order they joined."""
        query = sa.select(room_members).where(room_members.c.room == code).order_by(room_members.c.joined_at)
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # ------------------------------------------------------------ blind arena
    def create_battle(
        self, battle_id: str, session_id: str, room: str | None, task: str, model_a: str, model_b: str, prompt: str
    ) -> None:
        row = {
            "id": battle_id,
            "session_id": session_id,
            "room": room,
            "task": task,
            "prompt": self.retention.clip(prompt),
        }
        with self._begin() as conn:
            conn.execute(sa.insert(battles).values(**row, model_a=model_a, model_b=model_b, created_at=time.time()))

    def mark_battle_shown(self, battle_id: str) -> None:
        """When the two answers were revealed (the first time only)."""
        query = sa.update(battles).where(battles.c.id == battle_id, battles.c.shown_at.is_(None))
        with self._begin() as conn:
            conn.execute(query.values(shown_at=time.time()))

    def get_battle(self, battle_id: str) -> dict | None:
        with self._connect() as conn:
            row = conn.execute(sa.select(battles).where(battles.c.id == battle_id)).mappings().first()
        return dict(row) if row else None

    def record_vote(
        self, battle_id: str, session_id: str, room: str | None, choice: str, anonymous: bool, turns: int = 1
    ) -> bool:
        """Count one vote; False when this battle already has one (a UNIQUE constraint, so replicas agree too).
        ``turns``: how many turns the battle ran before the vote (follow-ups included).

        Only the session the battle was shown to may vote on it: any other raises ``InputError``, whatever a page
        checked before."""
        if choice not in VOTE_CHOICES:
            raise InputError(f"A vote is one of {', '.join(VOTE_CHOICES)}, not {choice!r}.")
        battle = self.get_battle(battle_id)
        if battle is None:
            raise InputError(f"There is no battle {battle_id}.")
        if battle["session_id"] != session_id:
            raise InputError("This battle was not shown to this session, so its vote cannot count.")
        row = {"battle_id": battle_id, "session_id": session_id, "room": room, "choice": choice, "turns": turns}
        try:
            with self._begin() as conn:
                conn.execute(sa.insert(votes).values(**row, anonymous=bool(anonymous), created_at=time.time()))
        except sa.exc.IntegrityError:
            return False
        return True

    def votes(self, room: str | None = None):
        """Votes with their battle's task and models, oldest first, as a pandas DataFrame."""
        import pandas as pd

        query = (
            sa.select(votes, battles.c.task, battles.c.model_a, battles.c.model_b)
            .join(battles, battles.c.id == votes.c.battle_id)
            .order_by(votes.c.created_at, votes.c.id)
        )
        if room is not None:
            query = query.where(votes.c.room == room)
        with self._connect() as conn:
            frame = pd.read_sql_query(query, conn)
        frame["anonymous"] = frame["anonymous"].astype(bool)
        return frame

    def export_room(self, code: str, scope: Scope | None = None) -> dict:
        """Everything a room holds, JSON-ready, for the teacher to keep: never the PIN's hash, never a key.

        Only for the room's instructor or the admin when a ``scope`` is given (a page always gives one)."""
        if scope is not None and not scope.instructs(code):
            raise InputError("Only the room's instructor can export it.", hint="Unlock the room with its PIN.")
        room = self.get_room(code)
        if room is None:
            raise InputError(f"There is no room with the code {code}.")
        room.pop("pin_hash")
        with self._connect() as conn:
            room_battles = conn.execute(
                sa.select(battles).where(battles.c.room == code).order_by(battles.c.created_at)
            ).mappings()
            room_battles = [dict(row) for row in room_battles]
        return {
            "room": room,
            "members": self.room_members(code),
            "runs": json_rows(self.runs(room=code).drop(columns=["time"])),
            "battles": room_battles,
            "votes": json_rows(self.votes(room=code)),
            "prompt_set_cells": self.room_prompt_set_cells(code, Scope("", INSTRUCTOR, frozenset({code}))),
        }

    # ------------------------------------------------------------ helpers
    def _upsert(self, table: sa.Table, row: dict, keys: list[str], keep: tuple[str, ...] = ()) -> None:
        """Insert ``row``, or update it where ``keys`` match (columns in ``keep`` keep their first value)."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        changed = {name: value for name, value in row.items() if name not in keys and name not in keep}
        statement = insert(table).values(row).on_conflict_do_update(index_elements=keys, set_=changed)
        with self._begin() as conn:
            conn.execute(statement)
