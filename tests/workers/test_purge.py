"""Raw callback numbers are removed after retention; pending ones are kept until then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from switchboard.models import Callback
from workers.purge import purge_numbers

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _callback(engine, *, event_id, status, requested_days_ago, done_days_ago=None):
    with engine.begin() as connection:
        connection.execute(
            insert(Callback).values(
                event_id=event_id,
                call_sid="CA" + event_id.rjust(32, "0"),
                number="+4791234567",
                caller="pseudonym",
                language="nn",
                requested_at=NOW - timedelta(days=requested_days_ago),
                due_at=None,
                status=status,
                done_at=None if done_days_ago is None else NOW - timedelta(days=done_days_ago),
            )
        )


def _numbers(engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        return {c.event_id: (c.status, c.number) for c in session.scalars(select(Callback))}


def test_numbers_are_purged_after_retention_and_kept_while_needed(engine):
    _callback(engine, event_id="1", status="done", requested_days_ago=40, done_days_ago=35)
    _callback(engine, event_id="2", status="done", requested_days_ago=10, done_days_ago=9)
    _callback(engine, event_id="3", status="pending", requested_days_ago=5)
    _callback(engine, event_id="4", status="pending", requested_days_ago=45)

    result = purge_numbers(engine, now=NOW, keep_days=30)

    assert (result.closed, result.abandoned) == (1, 1)
    assert _numbers(engine) == {
        "1": ("done", ""),
        "2": ("done", "+4791234567"),  # recently done: the agent may still need it
        "3": ("pending", "+4791234567"),  # still owed
        "4": ("cancelled", ""),  # owed too long: cancelled, number gone
    }
    assert purge_numbers(engine, now=NOW, keep_days=30) == result.__class__(closed=0, abandoned=0)
