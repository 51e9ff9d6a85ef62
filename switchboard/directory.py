"""The department directory of the agent console, and the transfer guard's verdict.

For each department: its number, whether it is open now (and when it closes) or when it opens
next (ivr/hours.py), and today's figures of transfers to it (the local day, Europe/Oslo),
computed by the same SQL as `/api/stats` (`switchboard.stats.aggregates.transfer_stats`).

The guard (docs/directory.md) looks at the same things and warns before a transfer now:

- `closed`: the department is closed;
- `closes_soon`: it closes within `switchboard.transfer.guard_closing_minutes`;
- `often_unanswered`: of today's whispers (transfers connected, declined or not answered), more
  than `guard_unanswered_share` were declined or not answered, once there were at least
  `guard_min_whispers` of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal, get_args

from sqlalchemy.engine import Connection

from ivr.config import Config, Department
from ivr.hours import Hours
from ivr.switchboard_config import Transfer
from switchboard.stats.aggregates import transfer_stats
from switchboard.stats.figures import TransferFigures

GuardWarning = Literal["closed", "closes_soon", "often_unanswered"]
GUARD_WARNINGS: tuple[GuardWarning, ...] = get_args(GuardWarning)


@dataclass(frozen=True)
class Today:
    """Today's transfers to one department (glossary terms in docs/glossary.md)."""

    transfers: int
    connected: int
    declined: int
    no_answer: int
    returned: int
    return_rate: float | None

    @property
    def whispers(self) -> int:
        """Transfers a person could accept: connected, declined or not answered."""
        return self.connected + self.declined + self.no_answer

    @property
    def unanswered(self) -> int:
        return self.declined + self.no_answer

    @property
    def accepted_share(self) -> float | None:
        return self.connected / self.whispers if self.whispers else None


@dataclass(frozen=True)
class Entry:
    department: Department
    open: bool
    closes_at: datetime | None
    next_opening: datetime | None
    today: Today
    warnings: tuple[GuardWarning, ...]


def local_day(now: datetime, config: Config) -> tuple[datetime, datetime]:
    """Today in the municipality's zone, as a UTC window [midnight, next midnight)."""
    zone = config.zone
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_by_department(
    connection: Connection, now: datetime, config: Config, *, department: str | None = None
) -> dict[str, Today]:
    start, end = local_day(now, config)
    section = transfer_stats(
        connection, start=start, end=end, group_by="department", department=department
    )
    return {str(group.key): _today(group.figures) for group in section.groups}


def guard_warnings(
    *,
    open_now: bool,
    closes_at: datetime | None,
    now: datetime,
    today: Today,
    settings: Transfer,
) -> tuple[GuardWarning, ...]:
    found: list[GuardWarning] = []
    if not open_now:
        found.append("closed")
    elif closes_at is not None and closes_at - now <= timedelta(
        minutes=settings.guard_closing_minutes
    ):
        found.append("closes_soon")
    if (
        today.whispers >= settings.guard_min_whispers
        and today.unanswered / today.whispers > settings.guard_unanswered_share
    ):
        found.append("often_unanswered")
    return tuple(found)


def directory(
    connection: Connection | None,
    *,
    config: Config,
    hours: Hours,
    now: datetime,
    department: str | None = None,
) -> list[Entry]:
    """The departments in config order (only `department`, when given). Without a connection,
    today's figures are left out (all zero)."""
    figures = (
        {}
        if connection is None
        else today_by_department(connection, now, config, department=department)
    )
    settings = config.switchboard.transfer
    entries = []
    for dept in config.departments:
        if department is not None and dept.id != department:
            continue
        status = hours.status(dept.id, now)
        today = figures.get(dept.id, EMPTY)
        warnings = guard_warnings(
            open_now=status.open,
            closes_at=status.closes_at,
            now=now,
            today=today,
            settings=settings,
        )
        entries.append(
            Entry(dept, status.open, status.closes_at, status.next_opening, today, warnings)
        )
    return entries


def verdict(
    connection: Connection | None, *, config: Config, hours: Hours, now: datetime, department: str
) -> tuple[GuardWarning, ...]:
    [entry] = directory(connection, config=config, hours=hours, now=now, department=department)
    return entry.warnings


def self_service_url(config: Config, department: Department) -> str:
    return department.self_service_url or config.municipality.self_service_url


def _today(figures: TransferFigures) -> Today:
    return Today(
        transfers=figures.transfers,
        connected=figures.connected,
        declined=figures.declined,
        no_answer=figures.no_answer,
        returned=figures.returned,
        return_rate=figures.return_rate,
    )


EMPTY = Today(transfers=0, connected=0, declined=0, no_answer=0, returned=0, return_rate=None)
