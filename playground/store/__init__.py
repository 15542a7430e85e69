"""Everything the playground remembers: runs, settings, classroom rooms, arena battles and votes.

One schema (``schema.py``), brought up to date by Alembic migrations at startup (``migrations/``). SQLite in WAL
mode by default; PostgreSQL (``PLAYGROUND_DB_URL=postgresql+psycopg://…``) when several app replicas share it.
"""

from playground.store.engine import default_path, default_url
from playground.store.frames import measured_speeds, to_csv, to_json
from playground.store.prompt_set_store import Cell
from playground.store.schema import VOTE_CHOICES
from playground.store.store import STORE_IO, Store

__all__ = [
    "STORE_IO",
    "VOTE_CHOICES",
    "Cell",
    "Store",
    "default_path",
    "default_url",
    "measured_speeds",
    "to_csv",
    "to_json",
]
