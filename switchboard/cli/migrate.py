"""`switchboard migrate`: bring the database up to the newest schema."""

from __future__ import annotations

import argparse

from switchboard.cli.command import Subparsers, load_settings, say
from switchboard.settings import Settings


def register(subparsers: Subparsers) -> None:
    migrate = subparsers.add_parser(
        "migrate",
        help="apply the database migrations (alembic upgrade head)",
        description=(
            "Bring the database at SWITCHBOARD_DATABASE_URL (default: a SQLite file under "
            "./var/) up to the newest schema. Safe to run again."
        ),
    )
    migrate.set_defaults(handler=_migrate)


def _migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()
    run_migrations(settings)
    return 0


def run_migrations(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    from switchboard.db import migrate

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    url = settings.sqlalchemy_url
    migrate(url)
    say(f"Database is up to date: {make_url(url).render_as_string(hide_password=True)}")
