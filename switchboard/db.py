"""Database engines and migrations, for SQLite (the embedded default) and PostgreSQL.

Alembic runs from the installed package: `migrate(url)` builds its configuration in code, so no
`alembic.ini` has to sit in the working directory of `switchboard serve` or a container.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLSTATE read_only_sql_transaction: `default_transaction_read_only`, a hot standby.
PG_READ_ONLY = "25006"


def normalise_url(url: str) -> str:
    """Pick psycopg 3 for PostgreSQL URLs given the common way (`postgresql://`, `postgres://`)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, durable: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`. `durable=True` makes every commit survive a power cut on SQLite too
    (`synchronous=FULL`: one fsync of the write-ahead log per commit). Without it SQLite
    commits with `synchronous=NORMAL`, which syncs only at checkpoints, so the last commits
    before a power cut (not a crash of the process) may be lost. PostgreSQL syncs every commit
    by default either way.

    Durable is for a writer that lets go of its only other copy once the commit returns: the
    ingest deletes the stream entries of a batch right after committing it (workers/ingest.py).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    # A database error's text quotes the statement's parameters, a number among them, and it
    # ends up in logs and RQ's stored tracebacks: leave them out.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    synchronous = "FULL" if durable else "NORMAL"
    event.listen(engine, "connect", partial(_configure_sqlite, synchronous=synchronous))
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any, *, synchronous: str) -> None:
    # WAL lets the web process read while the ingest writes.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted and overwritten rows are zeroed, not left in free pages: a purged number must
        # not stay readable in the file (`checkpoint` takes it out of the write-ahead log).
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def checkpoint(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file and truncate it to nothing,
    so that what a purge overwrote is gone from the log too. Nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def write_refusal(engine: Engine) -> str | None:
    """Why the database refuses writes (a read-only SQLite file, a read-only PostgreSQL
    session or standby), or None when it takes them. Writes nothing: one no-op UPDATE of the
    migrations' own row, rolled back. Other failures raise."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            if connection.dialect.name == "postgresql":  # never queue behind a migration
                connection.execute(text("SET LOCAL lock_timeout = '2s'"))
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        except DBAPIError as exc:
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            if getattr(exc.orig, "sqlstate", None) == PG_READ_ONLY or "readonly" in message:
                return message
            raise
        finally:
            transaction.rollback()
    return None


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not as `sqlalchemy.url`: configparser would choke on a '%' in
    # a URL-encoded password.
    config.attributes["url"] = normalise_url(url)
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (all migrations by default)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Downgrade to `revision`; "base" drops every table the migrations created."""
    _run(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            action(config)
    finally:
        engine.dispose()
