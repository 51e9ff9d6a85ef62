"""Alembic environment: runs on the connection that `switchboard.db` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from switchboard.db import make_engine
from switchboard.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use switchboard.db")

shared = config.attributes.get("connection")
if shared is not None:
    run(shared)
else:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: run migrations through switchboard.db.migrate(url)")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
