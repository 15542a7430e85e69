"""Who asked for a run, and from where: recorded with every run so rooms, the arena and the dashboard can group."""

from __future__ import annotations

from dataclasses import dataclass

from playground.access import STUDENT, Scope


@dataclass(frozen=True)
class RunContext:
    page: str  # "generate", "classify", "caption", "arena", "room", "bench", "evaluate", ...
    session_id: str = ""  # an opaque id of the browser session (never a key, never a cookie)
    room: str | None = None  # the classroom room code, when the run belongs to one
    battle_id: str | None = None  # the blind-arena battle, when it belongs to one
    conversation_id: str | None = None  # the multi-turn conversation, when the run is one of its turns
    turn: int | None = None  # which turn of that conversation (1 = the first message)
    role: str = STUDENT  # playground.access: student, instructor or admin (set by the server, never the browser)
    instructs: frozenset[str] = frozenset()  # rooms whose PIN this session entered

    def scope(self) -> Scope:
        return Scope(self.session_id, self.role, self.instructs)
