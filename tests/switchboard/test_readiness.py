"""`/readyz` notices a database that answers reads but refuses writes: the ingest could not
store a single event and the API could not record a callback, so the instance is not ready."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import make_url

from switchboard.settings import Settings
from tests.switchboard.apphost import make_app, make_settings


@contextmanager
def read_only(db_url: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """The database refuses writes as an operator would meet it: a SQLite file made read-only
    (immutable too when we are root, whom file modes do not stop), or a PostgreSQL database
    set to read-only transactions."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        root = os.geteuid() == 0
        if root:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            if root:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        return
    server = request.getfixturevalue("postgres_server")
    server.execute(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on')
    yield  # the database is dropped after the test


def readiness(settings: Settings) -> Response:
    app = make_app(settings)
    try:
        with TestClient(app) as client:
            return client.get("/readyz")
    finally:
        app.state.services.engine.dispose()


def test_a_database_that_refuses_writes_makes_the_instance_unready(
    tmp_path: Path, redis_url: str, db_url: str, request: pytest.FixtureRequest
) -> None:
    settings = make_settings(tmp_path, redis_url, database_url=db_url)
    assert readiness(settings).status_code == 200  # the probe itself writes nothing
    with read_only(db_url, request):
        ready = readiness(settings)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["redis"] == "ok"
    assert checks["database"].startswith("read-only: "), checks
    assert (
        "read-only transaction" in checks["database"] or "readonly database" in checks["database"]
    )
