"""`switchboard backup` and `switchboard restore`: a round trip through real calls and the ingest.

Calls are played by the simulator through the real app and ingested; the backup is taken with
the app and the ingest still holding the database; the database is then lost, restored, and
`/api/stats` must give the figures of the moment of the backup. Replaying the stream afterwards
(the events the backup holds, and those that came after it) must count each event once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient

from sim.call_trial import simulator_for
from sim.twilio import TwilioSimulator, hang_up_after, press
from sim.twilio.scripts import Action
from switchboard.db import make_engine
from switchboard.settings import Settings
from tests.fixtures.cli import run_cli
from tests.fixtures.postgres import find_pg_bin
from tests.fixtures.redis import stream_entries
from tests.switchboard.apphost import auth, make_app, make_settings
from workers.ingest import Ingestor

OSLO = ZoneInfo("Europe/Oslo")
MAIN = "+4756375000"
WINDOW = {"from": "2026-11-24", "to": "2026-11-27"}
Entries = list[dict[bytes, bytes]]


@contextmanager
def service(settings: Settings) -> Iterator[TestClient]:
    app = make_app(settings)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.services.engine.dispose()  # a stopped service holds no file open


def simulator(client: TestClient, settings: Settings) -> TwilioSimulator:
    config = client.app.state.services.ctx.config  # type: ignore[attr-defined]
    start = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)
    return simulator_for(http=client, settings=settings, config=config, start=start)


def play(sim: TwilioSimulator, calls: list[tuple[str, str, list[Action]]]) -> None:
    """Each call: (caller, Oslo time on 25 November, script)."""
    for number, at, script in calls:
        when = datetime.fromisoformat(f"2026-11-25T{at}").replace(tzinfo=OSLO)
        sim.place_call(from_=number, to=MAIN, script=script, at=when)
    sim.run()


def ingest(settings: Settings, client: redis.Redis) -> tuple[Ingestor, Entries]:
    """Ingest what the stream holds; returns the consumer and the entries it read."""
    entries = [fields for _id, fields in stream_entries(client, settings.stream)]
    engine = make_engine(settings.sqlalchemy_url)
    ingestor = Ingestor.from_settings(settings, redis=client, engine=engine, consumer="test")
    ingestor.ensure_group()
    try:
        while ingestor.run_once():
            pass
    finally:
        engine.dispose()
    return ingestor, entries


def stats(client: TestClient) -> dict[str, object]:
    response = client.get("/api/stats", params=WINDOW, headers=auth("manager"))
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def cli_env(settings: Settings) -> dict[str, str]:
    # pg_dump and pg_restore on PATH, as on a host with the PostgreSQL client installed.
    path = (
        f"{find_pg_bin()}:{os.environ['PATH']}" if "postgresql" in settings.sqlalchemy_url else ""
    )
    return {"SWITCHBOARD_DATABASE_URL": settings.sqlalchemy_url, **({"PATH": path} if path else {})}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, redis_url) -> Settings:
    """Settings on a migrated database of each kind, and nothing else in it."""
    if request.param == "sqlite":
        return make_settings(tmp_path, redis_url)
    url = request.getfixturevalue("db_url_postgresql")
    return make_settings(tmp_path, redis_url, database_url=url)


@pytest.fixture
def db_url_postgresql(postgres_server, postgres_template) -> Iterator[str]:
    name = postgres_server.create_database(template=postgres_template)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


def lose(settings: Settings) -> None:
    """The disaster: the SQLite file and its WAL are gone; PostgreSQL's call data is wiped."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for lost in path.parent.glob(path.name + "*"):
            lost.unlink()
        return
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE calls, call_events CASCADE")
    finally:
        engine.dispose()


def test_a_backup_restores_the_statistics_and_a_replay_counts_nothing_twice(
    tmp_path, database, redis_client
) -> None:
    settings, env = database, cli_env(database)
    sqlite = settings.sqlalchemy_url.startswith("sqlite")
    backup = tmp_path / "backups" / "switchboard-2026-11-25.dump"
    backup.parent.mkdir()
    with service(settings) as client:
        sim = simulator(client, settings)
        play(
            sim,
            [("+4791234567", "10:00", [press("1")]), ("+4741234567", "10:30", [hang_up_after(4)])],
        )
        _, before = ingest(settings, redis_client)
        at_backup = stats(client)
        # While the app and its database connections are up: the online backup.
        made = run_cli("backup", str(backup), cwd=tmp_path, env=env)
        assert made.returncode == 0, made.stderr
        done = f": {len(before)} events, 2 calls" if sqlite else ""
        assert f"to {backup}{done}" in made.stdout
        # ... but no restore while the service has the database open.
        refused = run_cli("restore", str(backup), cwd=tmp_path, env=env)
        assert refused.returncode == 1
        assert "is in use by:\n  pid " in refused.stderr
        play(sim, [("+4798765432", "11:00", [press("2")])])
        _, after = ingest(settings, redis_client)
        at_the_end = stats(client)
    assert at_the_end["calls"] != at_backup["calls"]  # the third call is not in the backup

    lose(settings)
    restored = run_cli("restore", str(backup), cwd=tmp_path, env=env)
    assert restored.returncode == 0, restored.stderr
    assert f"from {backup}{done}" in restored.stdout

    with service(settings) as client:
        assert stats(client) == at_backup
        # The stream is replayed from the start: every event of the backup comes again.
        for fields in before + after:
            redis_client.xadd(settings.stream, fields)
        replay, _ = ingest(settings, redis_client)
        assert (replay.duplicates_total, replay.ingested_total) == (len(before), len(after))
        assert stats(client) == at_the_end


@contextmanager
def holding_open(database: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with the database open, as a running service has."""
    code = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "db.execute('SELECT count(*) FROM calls').fetchone(); print('open', flush=True); "
        "sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stdout.readline() == "open\n"
        try:
            yield process
        finally:
            process.stdin.close()  # the holder reads to the end of its stdin, then exits
            process.wait(timeout=10)


def count_calls(settings: Settings) -> int:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM calls").scalar_one())
    finally:
        engine.dispose()


def test_restore_refuses_a_database_in_use_unless_forced(tmp_path, redis_url, redis_client) -> None:
    settings = make_settings(tmp_path, redis_url)
    database = Path(settings.sqlalchemy_url.removeprefix("sqlite:///"))
    backup = "empty.db"  # relative to the working directory, as an operator types it
    assert run_cli("backup", backup, cwd=tmp_path, env=cli_env(settings)).returncode == 0
    with service(settings) as client:
        play(simulator(client, settings), [("+4791234567", "10:00", [press("1")])])
    ingest(settings, redis_client)
    with holding_open(database) as holder:
        refused = run_cli("restore", backup, cwd=tmp_path, env=cli_env(settings))
        assert refused.returncode == 1
        assert f"error: {database} is in use by:\n  pid {holder.pid}: " in refused.stderr
        assert "stop `switchboard serve`" in refused.stderr
        assert count_calls(settings) == 1  # untouched
        forced = run_cli("restore", "--force", backup, cwd=tmp_path, env=cli_env(settings))
        assert forced.returncode == 0, forced.stderr
    assert count_calls(settings) == 0


def test_bad_files_are_refused_with_a_reason(tmp_path, redis_url) -> None:
    settings = make_settings(tmp_path, redis_url)
    env = cli_env(settings)
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    cases = [
        (("backup", str(text)), 1, f"error: {text} exists already; choose a new file name"),
        (("restore", str(tmp_path / "missing.db")), 2, "no such file"),
        (("restore", str(text)), 1, f"error: {text} is not a usable SQLite backup: file is not"),
    ]
    for args, code, message in cases:
        result = run_cli(*args, cwd=tmp_path, env=env)
        assert (result.returncode, "Traceback" in result.stderr) == (code, False), result.stderr
        assert message in result.stderr
    assert count_calls(settings) == 0
    assert not list(tmp_path.glob("*.partial"))


def test_without_pg_dump_on_path_the_command_is_printed_not_the_password(tmp_path) -> None:
    env = {
        "SWITCHBOARD_DATABASE_URL": "postgresql://switchboard:s3cret-pw@db.example/switchboard",
        "PATH": str(Path(sys.executable).parent),  # python, but no PostgreSQL client
    }
    result = run_cli("backup", str(tmp_path / "x.dump"), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "error: pg_dump is not on PATH, so nothing was done; run this where it is" in (
        result.stderr
    )
    assert (
        "  PGPASSWORD=… pg_dump --format=custom --no-owner "
        f"--file={tmp_path / 'x.dump'} postgresql://switchboard@db.example/switchboard"
    ) in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert not (tmp_path / "x.dump").exists()
