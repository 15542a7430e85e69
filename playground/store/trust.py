"""The store's part in trust: spending reserved and settled atomically, sign-in attempts, rooms' budgets and members.

Every check-then-write runs in one locked transaction: ``BEGIN IMMEDIATE`` on SQLite (one writer at a time across
processes), a transaction-scoped advisory lock on PostgreSQL (one at a time across replicas). So a cap is checked
against every reservation that committed before, and none can slip in between.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import sqlalchemy as sa

from playground.errors import InputError
from playground.store.schema import (
    REFUNDED,
    RESERVED,
    SETTLED,
    room_members,
    rooms,
    settings,
    sign_in_attempts,
    spending,
)

_SPENDING_LOCK_ID = 7_001_017  # PostgreSQL advisory lock for spending and sign-in attempts


@dataclass(frozen=True)
class Refusal:
    """A reservation the store refused: which cap, how big, and how much of it is used (reserved or spent)."""

    cap_name: str  # "session", "room" or "day"
    cap: float
    used: float


class TrustStore:
    """Mixed into ``Store``: needs ``engine``, ``_connect`` and ``_begin``."""

    @contextmanager
    def _locked(self) -> Iterator[sa.Connection]:
        with self._connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                if self.engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SPENDING_LOCK_ID})")
                yield conn

    # ------------------------------------------------------------ server settings
    def settings_with_prefix(self, prefix: str) -> dict:
        import json

        query = sa.select(settings.c.name, settings.c.value).where(settings.c.name.startswith(prefix, autoescape=True))
        with self._connect() as conn:
            return {name: json.loads(value) for name, value in conn.execute(query)}

    # ------------------------------------------------------------ rooms
    def room_budget(self, code: str) -> float | None:
        with self._connect() as conn:
            return conn.execute(sa.select(rooms.c.budget_usd).where(rooms.c.code == code)).scalar()

    def set_room_budget(self, code: str, usd: float | None) -> None:
        self._update_room(code, budget_usd=usd)

    def is_member(self, code: str, session_id: str) -> bool:
        query = sa.select(room_members.c.session_id).where(
            room_members.c.room == code, room_members.c.session_id == session_id
        )
        with self._connect() as conn:
            return conn.execute(query).first() is not None

    # ------------------------------------------------------------ spending on the server's keys
    def reserve(
        self,
        usd: float,
        session_id: str | None,
        room: str | None,
        model_id: str,
        day: str,
        caps,
        now: float | None = None,
    ) -> int | Refusal:
        """Hold ``usd`` against every cap that applies (``caps``: session_usd, room_usd, day_usd; None = no cap) and
        return the reservation's id, or the first cap it would pass. Checked and written in one locked transaction."""
        if usd < 0:
            raise InputError("A reservation is never negative.")
        used = sa.func.coalesce(spending.c.spent_usd, spending.c.reserved_usd)
        wanted = [
            ("session", caps.session_usd, session_id, spending.c.session_id == session_id),
            ("room", caps.room_usd, room, spending.c.room == room),
            ("day", caps.day_usd, day, spending.c.day == day),
        ]
        checks = [(name, cap, where) for name, cap, key, where in wanted if cap is not None and key is not None]
        with self._locked() as conn:
            if checks:
                sums = [sa.func.coalesce(sa.func.sum(sa.case((where, used), else_=0.0)), 0.0) for *_, where in checks]
                row = conn.execute(sa.select(*sums).where(spending.c.state != REFUNDED)).one()
                for (name, cap, _where), so_far in zip(checks, row):
                    if so_far + usd > cap + 1e-12:
                        return Refusal(name, cap, so_far)
            values = {"session_id": session_id, "room": room, "day": day, "model_id": model_id}
            values |= {"reserved_usd": usd, "state": RESERVED, "created_at": time.time() if now is None else now}
            return conn.execute(sa.insert(spending).values(values).returning(spending.c.id)).scalar_one()

    def settle(self, reservation: int, usd: float, now: float | None = None) -> None:
        """The real cost of a reserved call replaces its worst case."""
        self._close_reservation(reservation, SETTLED, usd, now)

    def refund(self, reservation: int, now: float | None = None) -> None:
        """A call that cost nothing: its reservation is released."""
        self._close_reservation(reservation, REFUNDED, 0.0, now)

    def _close_reservation(self, reservation: int, state: str, usd: float, now: float | None) -> None:
        query = sa.update(spending).where(spending.c.id == reservation, spending.c.state == RESERVED)
        with self._begin() as conn:
            conn.execute(query.values(state=state, spent_usd=usd, settled_at=time.time() if now is None else now))

    def spent(self, session_id: str | None = None, room: str | None = None, day: str | None = None) -> float:
        """Money used on the server's keys (settled, plus reservations still running) by a session, room or day."""
        used = sa.func.coalesce(spending.c.spent_usd, spending.c.reserved_usd)
        query = sa.select(sa.func.coalesce(sa.func.sum(used), 0.0)).where(spending.c.state != REFUNDED)
        for column, value in ((spending.c.session_id, session_id), (spending.c.room, room), (spending.c.day, day)):
            if value is not None:
                query = query.where(column == value)
        with self._connect() as conn:
            return float(conn.execute(query).scalar_one())

    # ------------------------------------------------------------ sign-in attempts
    def locked_until(self, target: str) -> float:
        """When the next try at ``target`` is accepted (0: now)."""
        query = sa.select(sign_in_attempts.c.locked_until).where(sign_in_attempts.c.target == target)
        with self._connect() as conn:
            return conn.execute(query).scalar() or 0.0

    def sign_in_failed(self, target: str, now: float, delay_after: Callable[[int], float]) -> int:
        """Count a wrong try and start its wait; returns the wrong tries in a row."""
        with self._locked() as conn:
            row = conn.execute(sa.select(sign_in_attempts).where(sign_in_attempts.c.target == target)).first()
            failures = (row.failures if row else 0) + 1
            values = {"failures": failures, "last_failure_at": now, "locked_until": now + delay_after(failures)}
            if row:
                conn.execute(sa.update(sign_in_attempts).where(sign_in_attempts.c.target == target).values(values))
            else:
                conn.execute(sa.insert(sign_in_attempts).values(target=target, **values))
            return failures

    def sign_in_succeeded(self, target: str) -> None:
        with self._begin() as conn:
            conn.execute(sa.delete(sign_in_attempts).where(sign_in_attempts.c.target == target))
