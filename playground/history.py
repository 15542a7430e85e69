"""Every finished run, on every page, in one SQLite file; the dashboard's charts read it back.

WAL mode lets the dashboard read while runs are written. One connection per History, guarded by a lock, so the
worker threads of many sessions can share it; other processes on the same file wait on SQLite's own lock.
Keys never reach this file: a run is stored from the request and its final event, never the credentials, and
any secret the caller names is scrubbed from the text fields as well.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from playground import models_cache
from playground.backends.base import Failure, Request, Result
from playground.catalog import ModelSpec
from playground.pricing import Cost
from playground.redact import scrub as _scrub
from playground.retention import Retention

STORE_IO = "store_inputs_outputs"  # setting: False keeps only the metrics of each run
COLUMNS = (
    "ts", "page", "model_id", "model_name", "openness", "params", "input", "output",
    "ttft_s", "total_s", "load_s", "tokens_in", "tokens_out", "tokens_per_s",
    "cost_usd", "api_cost_usd", "hardware_cost_usd", "cost_source", "cold", "error",
)  # fmt: skip
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,              -- unix time the run finished
    page TEXT NOT NULL,
    model_id TEXT NOT NULL,
    model_name TEXT,
    openness TEXT,
    params TEXT,                   -- JSON
    input TEXT,                    -- NULL when inputs and outputs are not stored
    output TEXT,
    ttft_s REAL, total_s REAL, load_s REAL,
    tokens_in INTEGER, tokens_out INTEGER, tokens_per_s REAL,
    cost_usd REAL,                 -- NULL: unpriced
    api_cost_usd REAL, hardware_cost_usd REAL, cost_source TEXT,
    cold INTEGER NOT NULL DEFAULT 0,
    error TEXT                     -- NULL when the run succeeded
);
CREATE INDEX IF NOT EXISTS runs_ts ON runs (ts);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_path() -> Path:
    """``PLAYGROUND_DB`` if set, else playground.sqlite in the data folder."""
    return Path(os.environ.get("PLAYGROUND_DB") or models_cache.home() / "playground.sqlite").expanduser()




def _describe_input(request: Request) -> str:
    parts = [f"[system] {request.system}"] if request.system else []
    if request.prompt:
        parts.append(request.prompt)
    if request.image is not None and hasattr(request.image, "size"):
        parts.append(f"[image {request.image.size[0]}×{request.image.size[1]}]")
    return "\n".join(parts)


def _params(request: Request) -> str:
    params: dict[str, Any] = {"task": request.task, **dataclasses.asdict(request.params)}
    if request.labels:
        params["labels"] = list(request.labels)
    return json.dumps(params)


class History:
    def __init__(self, path: str | Path | None = None, retention: Retention | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.retention = retention or Retention.from_env()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut may lose the last run, never corrupt
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ settings (never keys)
    def get_setting(self, name: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, name: str, value: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, json.dumps(value)))

    # ------------------------------------------------------------ runs
    def record(
        self,
        page: str,
        spec: ModelSpec,
        request: Request,
        final: Result | Failure,
        cost: Cost | None,
        secrets: Iterable[str] = (),
        store_io: bool | None = None,
    ) -> int:
        """Store one finished run and return its row id. ``secrets`` (the session's keys) are scrubbed from every
        text field; ``store_io`` None means the saved setting (default: store)."""
        if store_io is None:
            store_io = bool(self.get_setting(STORE_IO, True))
        hidden = tuple(s for s in secrets if s)  # short keys too: scrub decides how to match each

        def keep(text: str | None) -> str | None:  # scrubbed first, so a clip never leaves half a key behind
            return self.retention.clip(_scrub(text, hidden))

        m = final.metrics
        if isinstance(final, Result):
            output = final.text or final.label or ""
            error = None
        else:
            output, error = final.partial_text, f"{final.message} {final.hint}".strip()
        row = {
            "ts": time.time(),
            "page": page,
            "model_id": spec.id,
            "model_name": spec.name,
            "openness": spec.openness,
            "params": keep(_params(request)),
            "input": keep(_describe_input(request)) if store_io else None,
            "output": keep(output) if store_io else None,
            "ttft_s": m.ttft_s if m else None,
            "total_s": m.total_s if m else None,
            "load_s": m.load_s if m else None,
            "tokens_in": m.input_tokens if m else None,
            "tokens_out": m.output_tokens if m else None,
            "tokens_per_s": m.tokens_per_s if m else None,
            "cost_usd": cost.usd if cost else None,
            "api_cost_usd": cost.api_usd if cost else None,
            "hardware_cost_usd": cost.hardware_usd if cost else None,
            "cost_source": cost.source if cost else None,
            "cold": int(bool(m and m.cold)),
            "error": keep(error),
        }
        sql = f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        with self._lock:
            row_id = self._db.execute(sql, tuple(row.values())).lastrowid
            self._prune()
            return row_id

    def _prune(self) -> None:
        """Delete the oldest runs beyond the retention's bound (called under the lock, after each insert)."""
        count = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        if excess := self.retention.excess(count):
            self._db.execute("DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY id LIMIT ?)", (excess,))

    def runs(self, pages: Iterable[str] = (), models: Iterable[str] = (), since: float | None = None):
        """Runs as a pandas DataFrame, oldest first, with a ``time`` column; empty filters mean everything."""
        import pandas as pd

        where, args = [], []
        for column, values in (("page", list(pages)), ("model_id", list(models))):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                args += values
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        sql = f"SELECT id, {', '.join(COLUMNS)} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            frame = pd.read_sql_query(sql + " ORDER BY ts, id", self._db, params=args)
        frame.insert(1, "time", pd.to_datetime(frame["ts"], unit="s", utc=True))
        frame["cold"] = frame["cold"].astype(bool)
        return frame

    def clear_runs(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM runs")


def to_csv(frame) -> str:
    return frame.drop(columns=["ts"]).to_csv(index=False)


def to_json(frame) -> str:
    return frame.drop(columns=["ts"]).to_json(orient="records", date_format="iso", indent=1, force_ascii=False)


def measured_speeds(frame):
    """Median TTFT and tokens/s per open model, from its successful warm runs: what a self-hosted box would do."""
    usable = frame[(frame["openness"] == "open") & frame["error"].isna() & ~frame["cold"] & frame["tokens_per_s"].notna()]
    return (
        usable.groupby(["model_id", "model_name"], as_index=False)
        .agg(ttft_s=("ttft_s", "median"), tokens_per_s=("tokens_per_s", "median"), runs=("id", "count"))
        .sort_values("model_name", ignore_index=True)
    )
