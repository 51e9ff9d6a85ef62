"""The transfer guard's bookkeeping: what an agent chose when it warned, counted and audited.

The rules are in switchboard/directory.py. Each choice in the guard's dialog is counted in
`switchboard_transfer_guard_choices_total{choice, warning}` (docs/metrics.md): `went_ahead` (a
transfer with `override_guard`), `callback`, `sms` or `cancelled`, labelled with the first
warning that applied. A choice made when the guard had nothing to warn about is not counted.
Going ahead is also an audit entry, `guard_override` (switchboard/staff_audit.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

from fastapi import Request
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ivr.call import Context
from switchboard.directory import GuardWarning, verdict
from switchboard.routes.metrics import web_metrics

GuardChoice = Literal["went_ahead", "callback", "sms", "cancelled"]

log = logging.getLogger(__name__)


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only connection, as the statistics read (one snapshot on PostgreSQL)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(
                postgresql_readonly=True, isolation_level="REPEATABLE READ"
            )
        yield connection


def warnings_now(
    engine: Engine, ctx: Context, *, now: datetime, department: str
) -> tuple[GuardWarning, ...]:
    """The guard's warnings for a transfer to `department` now. When the database cannot be
    read, the hours still judge (closed, closes soon) and today's whispers do not: the guard
    itself never fails on the statistics."""
    try:
        with read_connection(engine) as connection:
            return verdict(
                connection, config=ctx.config, hours=ctx.hours, now=now, department=department
            )
    except SQLAlchemyError as exc:
        log.warning("transfer guard without today's figures: the database failed (%s)", exc)
    return verdict(None, config=ctx.config, hours=ctx.hours, now=now, department=department)


def count_choice(request: Request, choice: GuardChoice, warnings: tuple[GuardWarning, ...]) -> bool:
    """Count the choice under its first warning; False (nothing counted) without a warning."""
    if not warnings:
        return False
    web_metrics(request).transfer_guard_choices.labels(choice=choice, warning=warnings[0]).inc()
    return True
