"""Real databases for the store tests: an SQLite file, and a real PostgreSQL 16 from the `pgserver` wheel.

``db_url`` is parametrized over both, so every store test runs on each engine. PostgreSQL starts once per test
session (about 4-7 s here) and each test gets a fresh database on it.
"""

from __future__ import annotations

import itertools
import warnings

import pytest

_fresh = itertools.count()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """One PostgreSQL server for the session, on a Unix socket in a temporary folder (no TCP port)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset in containers
        import pgserver

        server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server
    server.cleanup()


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
