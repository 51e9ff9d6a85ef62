"""Fixtures shared by the whole suite: real Redis, real SQLite and real PostgreSQL.

- `redis_url` / `redis_client`: a flushed Redis (one embedded server per session).
- `db_url`: an empty, migrated database, once on SQLite and once on PostgreSQL; `engine` on it.
- `empty_db_url`: the same two, with no tables, for migration tests.
- `postgres_server`: the session's PostgreSQL, for tests that need their own databases.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from switchboard.db import make_engine, migrate

pytest_plugins = [
    "tests.fixtures.redis",
    "tests.fixtures.postgres",
    "tests.fixtures.serve",
    "tests.fixtures.browser",
    "tests.fixtures.oidc",
]

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def _postgres_database(request: pytest.FixtureRequest, *, template: str) -> Iterator[str]:
    # Looked up lazily, so that a SQLite-only selection never starts PostgreSQL.
    server = request.getfixturevalue("postgres_server")
    name = server.create_database(template=template)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "switchboard.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from _postgres_database(
            request, template=request.getfixturevalue("postgres_template")
        )


@pytest.fixture(params=DIALECTS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        yield from _postgres_database(request, template="template0")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
