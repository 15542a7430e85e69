"""Classroom rooms: codes nobody can guess, the instructor's PIN, the exercise handed out, and what the class did.

A room is a code (the join link carries it), a title and a PIN hash. Everything students do in it (runs, battles,
votes, prompt-set runs) is stored tagged with the code, so the live view and the exports are queries over the store.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from playground.errors import InputError
from playground.events import GenParams
from playground.i18n import _
from playground.prompt_set_report import verdict_of
from playground.store.frames import safe_csv
from playground.store.store import MAX_EXERCISE_CHARS

PROMPT_SET = "prompt_set"  # the exercise's task when it hands out a prompt set
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector without mistakes
CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes, about 40 bits: not worth guessing, and codes are never listed
PIN_MIN_LENGTH = 4
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~16 MiB and a few tens of ms per check: cheap once, costly to brute-force


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes) in its stored form, or None when it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    return code if len(code) == CODE_LENGTH and all(c in ALPHABET for c in code) else None


def hash_pin(pin: str) -> str:
    """scrypt with a random salt, stored as ``scrypt$n$r$p$salt$hash`` (hex)."""
    if len(pin) < PIN_MIN_LENGTH:
        raise InputError("The PIN is too short.", hint=f"Use at least {PIN_MIN_LENGTH} characters.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return "$".join(["scrypt", str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"]), salt.hex(), digest.hex()])


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True)
class Exercise:
    """What the instructor hands out: students open the room and find it filled in."""

    task: str  # "generate", "caption" or PROMPT_SET
    models: tuple[str, ...]
    prompt: str = ""
    sample_image: str = ""  # caption: a key of playground.images.SAMPLE_PHOTOS
    params: GenParams = field(default_factory=GenParams)
    blind: bool = False  # a blind battle between two of ``models`` instead of a side-by-side run
    prompt_set: dict | None = None  # PROMPT_SET: the validated set (``PromptSet.as_data``), built in or uploaded

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "models": list(self.models)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Exercise:
        return cls(
            task=raw["task"],
            models=tuple(raw.get("models", ())),
            prompt=raw.get("prompt", ""),
            sample_image=raw.get("sample_image", ""),
            params=GenParams(**raw.get("params", {})),
            blind=bool(raw.get("blind", False)),
            prompt_set=raw.get("prompt_set"),
        )

    def check_size(self) -> None:
        """The store keeps an exercise of at most MAX_EXERCISE_CHARS of JSON: say so before it refuses one."""
        size = len(json.dumps(self.to_dict(), ensure_ascii=False))
        if size > MAX_EXERCISE_CHARS:
            raise InputError(
                _("This exercise is too large to hand out ({n} characters).").format(n=f"{size:,}"),
                _("Keep it under {most} characters: a shorter prompt set or fewer rows.").format(
                    most=f"{MAX_EXERCISE_CHARS:,}"
                ),
            )


# ---------------------------------------------------------------- live aggregates


@dataclass
class RoomSummary:
    """What the room's live view shows; every figure is read from the store, never kept in a session."""

    members: list[str]  # display names, in the order they joined
    runners: int  # sessions that ran at least one model
    runs: int
    spent_usd: float
    latency: pd.DataFrame  # one row per finished run: model, queue_s, ttft_s, total_s (its distribution)
    spend: pd.DataFrame  # model, runs, usd
    tally: pd.DataFrame  # model_id, outcome (won, tie, both_bad, lost), votes: by model, as sides are shuffled


def summarize(members: pd.DataFrame, runs: pd.DataFrame, votes: pd.DataFrame) -> RoomSummary:
    """The room at a glance; its leaderboard is ``arena.leaderboard`` of the same votes.

    ``members`` has display_name; ``runs`` the store's run columns (model_name, session_id, queue_s, ttft_s,
    total_s, cost_usd, error); ``votes`` model_a, model_b, choice, anonymous."""
    ok = runs[runs["error"].isna()] if not runs.empty else runs
    latency = ok[["model_name", "queue_s", "ttft_s", "total_s"]].rename(columns={"model_name": "model"})
    spend = (
        runs.groupby("model_name", as_index=False)
        .agg(runs=("model_name", "size"), usd=("cost_usd", "sum"))
        .rename(columns={"model_name": "model"})
        if not runs.empty
        else pd.DataFrame(columns=["model", "runs", "usd"])
    )
    return RoomSummary(
        members=list(members["display_name"]) if not members.empty else [],
        runners=int(runs["session_id"].nunique()) if not runs.empty else 0,
        runs=len(runs),
        spent_usd=float(runs["cost_usd"].fillna(0).sum()) if not runs.empty else 0.0,
        latency=latency,
        spend=spend,
        tally=tally_by_model(votes),
    )


OUTCOMES = ("won", "tie", "both_bad", "lost")


def tally_by_model(votes: pd.DataFrame) -> pd.DataFrame:
    """Each model's votes by outcome. "A" and "B" mean nothing across a class: every student's pair is drawn and
    shuffled anew, so a vote for A is a vote for whichever model that student saw on the left."""
    rows = [
        (model, "won" if choice == side else "lost" if choice in ("a", "b") else choice)
        for a, b, choice in votes[["model_a", "model_b", "choice"]].itertuples(index=False)
        for model, side in ((a, "a"), (b, "b"))
    ] if not votes.empty else []  # fmt: skip
    frame = pd.DataFrame(rows, columns=["model_id", "outcome"])
    return frame.groupby(["model_id", "outcome"], as_index=False).size().rename(columns={"size": "votes"})


def class_pass_rates(cells: list[dict]) -> pd.DataFrame:
    """Each model's pass rate over the class's runs of each prompt set: every student's answered cells added up,
    a person's verdict first (as the matrix counts it). ``cells`` are ``Store.room_prompt_set_cells`` rows.

    Columns set_name, model_id, students, runs, cells, passed, pass_rate; the newest set first."""
    columns = ["set_name", "model_id", "students", "runs", "cells", "passed", "pass_rate"]
    if not cells:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(cells)
    frame["passed"] = [verdict_of(c) == "pass" for c in cells]
    newest = frame.groupby("set_name")["created_at"].max()
    table = frame.groupby(["set_name", "model_id"], as_index=False).agg(
        students=("session_id", "nunique"),
        runs=("run_id", "nunique"),
        cells=("run_id", "size"),
        passed=("passed", "sum"),
    )
    table["pass_rate"] = table["passed"] / table["cells"]
    table["newest"] = table["set_name"].map(newest)
    return table.sort_values(["newest", "model_id"], ascending=[False, True], ignore_index=True)[columns]


# ---------------------------------------------------------------- export


def export_json(export: dict[str, Any]) -> str:
    """The store's room export (room, members, runs, battles, votes) as one JSON document."""
    return json.dumps(export, indent=1, ensure_ascii=False, default=str)


def export_csv_zip(export: dict[str, Any]) -> bytes:
    """One CSV per table of the room export, zipped: spreadsheets open each one as it is (formulas as text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in export.items():
            if isinstance(rows, list):
                archive.writestr(f"{name}.csv", safe_csv(pd.DataFrame(rows)))
            elif isinstance(rows, dict):
                archive.writestr(f"{name}.csv", safe_csv(pd.DataFrame([rows])))
    return buffer.getvalue()
