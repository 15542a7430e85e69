"""Which database, how to connect to it, and bringing its schema up to date.

``PLAYGROUND_DB_URL`` picks the database. Without it, an SQLite file in WAL mode (``PLAYGROUND_DB`` or
data/playground.sqlite), so one machine needs nothing set up; ``postgresql+psycopg://…`` lets several app
replicas share one store.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import playground.models_cache as models_cache

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK_ID = 7_001_016  # a PostgreSQL advisory lock: replicas starting together migrate one at a time
_migrating = threading.Lock()  # the same within one process (SQLite holds its own write lock across processes)


def default_path() -> Path:
    """``PLAYGROUND_DB`` if set, else playground.sqlite in the data folder."""
    return Path(os.environ.get("PLAYGROUND_DB") or models_cache.home() / "playground.sqlite").expanduser()


def default_url() -> str:
    """``PLAYGROUND_DB_URL`` if set, else the SQLite file at ``default_path()``."""
    return os.environ.get("PLAYGROUND_DB_URL") or f"sqlite:///{default_path()}"


def as_url(target: str | Path | None) -> str:
    """A database URL from a URL, a plain SQLite file path (older callers), or None for the default."""
    if target is None:
        return default_url()
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).expanduser()}"


def connect(url: str) -> sa.Engine:
    """An engine with a thread-safe connection pool; SQLite files get WAL, a busy timeout and real transactions."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if parsed.database:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below start transactions, DDL included
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a power cut may lose the last run, never corrupt
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # IMMEDIATE takes the write lock up front (waiting up to the busy timeout) for transactions that read first
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def upgrade(engine: sa.Engine) -> None:
    """Run every Alembic migration not yet applied (``command.upgrade(cfg, "head")``), one process at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migrating, engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(sqlite_immediate=True)
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
