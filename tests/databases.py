"""Real databases for the store tests: an SQLite file, and a real PostgreSQL 16 from the `pgserver` wheel.

``db_url`` is parametrized over both, so every store test runs on each engine. PostgreSQL starts once per test
session (about 4-7 s here) and each test gets a fresh database on it.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings

import pytest

_fresh = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the session, on a Unix socket in its own temporary folder (no TCP port).

    Not under pytest's tmp_path: as root, pgserver runs PostgreSQL as a "pgserver" user that must traverse the
    folder's parents, and another pytest session on the machine resets its base folder to 0700 (and prunes old
    ones), which would cut the server off mid-run."""
    pgdata = tempfile.mkdtemp(prefix="playground-pgdata-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset in containers
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(pgdata, ignore_errors=True)


def sqlalchemy_url(uri: str) -> str:
    """pgserver's ``postgresql://`` URI with the psycopg 3 driver SQLAlchemy needs."""
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A new, empty database on the session's PostgreSQL."""
    name = f"store_test_{next(_fresh)}"
    postgres_server.psql(f"CREATE DATABASE {name};")
    return sqlalchemy_url(postgres_server.get_uri(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty store database: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_url")
