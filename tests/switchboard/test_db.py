"""Migrations build and remove the schema on both databases; the models agree with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from redis import Redis
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from switchboard.db import alembic_config, current_revision, downgrade, make_engine, migrate
from switchboard.models import Base, CallEvent
from tests.fixtures.events import make_event
from tests.switchboard.apphost import make_app, make_settings
from workers.ingest import Ingestor, ingest_engine

TABLES = {"call_events", "callbacks", "sms_messages"}


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def head_revision(url: str) -> str | None:
    """The newest migration in the package: an upgrade must end there."""
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_upgrade_from_empty_then_downgrade_to_base(empty_db_url: str) -> None:
    assert table_names(empty_db_url) & TABLES == set()

    migrate(empty_db_url)
    assert TABLES <= table_names(empty_db_url)
    assert current_revision(empty_db_url) == head_revision(empty_db_url)

    downgrade(empty_db_url, "base")
    assert table_names(empty_db_url) & TABLES == set()
    assert current_revision(empty_db_url) is None

    migrate(empty_db_url)  # and up again: downgrade left nothing behind that blocks it
    assert TABLES <= table_names(empty_db_url)


def test_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def event_row(**overrides: object) -> CallEvent:
    values: dict[str, object] = {
        "event_id": "e1",
        "dedupe_key": "CA1:status:0:ringing",
        "kind": "call_started",
        "call_sid": "CA1",
        "occurred_at": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        "data": {"from_kind": "mobile"},
        "ingested_at": datetime.now(UTC),
    }
    values.update(overrides)
    return CallEvent(**values)


def test_times_come_back_as_utc_instants(engine: Engine) -> None:
    oslo_summer = timezone(timedelta(hours=2))
    with Session(engine) as session, session.begin():
        session.add(event_row(occurred_at=datetime(2026, 5, 17, 10, 0, tzinfo=oslo_summer)))
    with Session(engine) as session:
        stored = session.scalars(select(CallEvent)).one()
    assert stored.occurred_at == datetime(2026, 5, 17, 8, 0, tzinfo=UTC)
    assert stored.occurred_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(event_row(occurred_at=datetime(2026, 5, 17, 10, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_dedupe_key_is_unique(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add(event_row())
    with Session(engine) as session:
        session.add(event_row(event_id="e2"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        engine.dispose()


def synchronous(engine: Engine) -> int:
    """SQLite's `PRAGMA synchronous` on a pooled connection: 1 NORMAL, 2 FULL."""
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA synchronous")).scalar_one())


def test_the_ingest_commits_with_an_fsync_and_the_web_need_not(
    tmp_path: Path, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(tmp_path, redis_url)
    ingest = ingest_engine(settings)
    web = make_app(settings, redis_client).state.services.engine
    try:
        ingestor = Ingestor.from_settings(
            settings, redis=redis_client, engine=ingest, consumer="durable"
        )
        redis_client.xadd(settings.stream, make_event("call_started").to_fields())  # type: ignore[arg-type]
        ingestor.ensure_group()
        assert ingestor.run_once() == 1  # a batch committed on the ingest's connection
        assert synchronous(ingest) == 2
        assert synchronous(web) == 1
    finally:
        ingest.dispose()
        web.dispose()
