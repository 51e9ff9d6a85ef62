"""The retention purge: what is kept how long is `workers.retention`; this runs it.

It runs on a schedule in the ingest process (`Purger`, `switchboard ingest --purge-every`):
once when the consumer starts, then daily, so no cron job is needed. `switchboard purge` runs
it once by hand. The retention periods are the settings SWITCHBOARD_RETAIN_CALLBACK_DAYS,
_EVENTS_DAYS and _RECORDS_DAYS; `--keep-days` overrides the callback one.

After the rows are gone, what still holds their old bytes is emptied too: on SQLite the
write-ahead log is checkpointed and truncated (the file itself zeroes what is deleted,
`secure_delete`; switchboard/db.py), and after a scheduled purge Redis rewrites its
append-only file, so numbers deleted from the event stream leave the AOF.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from sqlalchemy import Engine

from switchboard.db import checkpoint
from switchboard.settings import Settings
from workers.retention import (
    RECORDS,
    REDACTED,
    PurgeResult,
    Retention,
    purge_all,
    purge_callbacks,
)
from workers.schedule import start_rounds

log = logging.getLogger(__name__)

__all__ = ["REDACTED", "PurgeResult", "Purger", "Retention", "purge_numbers"]

DEFAULT_INTERVAL_SECONDS = 24 * 3600.0
DELETED_TABLES = ("call_events", *(table for table, _model, _column in RECORDS))


def purge_numbers(engine: Engine, *, now: datetime, keep_days: int) -> PurgeResult:
    """Only the callback numbers (the purge's first kind), in a transaction of its own."""
    with engine.begin() as connection:
        closed, abandoned = purge_callbacks(connection, now=now, keep_days=keep_days)
    return PurgeResult(closed=closed, abandoned=abandoned)


def retention_from(settings: Settings, *, keep_days: int | None = None) -> Retention:
    """The settings' retention; `keep_days` (the `--keep-days` option) for callbacks if given."""
    return Retention(
        callback_days=keep_days or settings.retain_callback_days,
        events_days=settings.retain_events_days,
        records_days=settings.retain_records_days,
    )


def purge(
    engine: Engine,
    *,
    now: datetime,
    retention: Retention,
    redis_client: redis.Redis | None = None,
) -> PurgeResult:
    """Every kind, then the WAL checkpoint (SQLite) and the AOF rewrite (with `redis_client`)."""
    result = purge_all(engine, now=now, retention=retention)
    checkpoint(engine)
    if redis_client is not None:
        rewrite_aof(redis_client)
    return result


def rewrite_aof(client: redis.Redis) -> None:
    """Ask Redis to rewrite its append-only file; one already under way, or no AOF, is fine."""
    try:
        client.bgrewriteaof()
    except redis.ResponseError as exc:  # "already in progress", or the command disabled
        log.info("purge: Redis did not rewrite its AOF (%s)", exc)


class Purger:
    """The purge on a schedule. Counts what it removed since it started, for the ingest's
    metrics (`switchboard.observability.collectors`), and logs the counts, never a number."""

    def __init__(
        self,
        *,
        engine: Engine,
        retention: Retention | None = None,
        redis_client: redis.Redis | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.retention = retention or Retention()
        self.redis_client = redis_client
        self.clock = clock
        self.succeeded_total = 0
        self.failed_total = 0
        self.closed_total = 0
        self.abandoned_total = 0
        self.sms_settled_total = 0
        self.sms_expired_total = 0
        self.deleted_total = dict.fromkeys(DELETED_TABLES, 0)

    def run_once(self) -> PurgeResult:
        result = purge(
            self.engine,
            now=self.clock(),
            retention=self.retention,
            redis_client=self.redis_client,
        )
        self.succeeded_total += 1
        self.closed_total += result.closed
        self.abandoned_total += result.abandoned
        self.sms_settled_total += result.sms_settled
        self.sms_expired_total += result.sms_expired
        for table, count in result.deleted.items():
            self.deleted_total[table] = self.deleted_total.get(table, 0) + count
        log.info(
            "purge: removed the numbers of %d closed and %d abandoned callbacks "
            "(older than %d days), of %d settled and %d expired SMS; deleted %s",
            result.closed,
            result.abandoned,
            self.retention.callback_days,
            result.sms_settled,
            result.sms_expired,
            ", ".join(f"{count} {table}" for table, count in result.deleted.items()),
        )
        return result

    def run_forever(self, stop: threading.Event, *, interval: float) -> None:
        """Purge now, then every `interval` seconds until `stop` is set."""
        while True:
            try:
                self.run_once()
            except Exception:  # the database away, say: the next round tries again
                self.failed_total += 1
                log.exception("purge failed; trying again in %.0f s", interval)
            if stop.wait(interval):
                return


def start_purger(purger: Purger, *, interval: float, stop: threading.Event) -> threading.Thread:
    """Purge at once and then every `interval` seconds until `stop` is set (in the ingest)."""
    return start_rounds(purger, name="purge", interval=interval, stop=stop)


def add_retention_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-days",
        type=int,
        default=None,
        help="keep callback and SMS numbers this many days "
        "(default: SWITCHBOARD_RETAIN_CALLBACK_DAYS, 7)",
    )


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """`--purge-every` and `--keep-days`, for the process that purges on a schedule."""
    parser.add_argument(
        "--purge-every",
        type=float,
        default=DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help="purge what is past retention at start and then this often "
        f"(default {DEFAULT_INTERVAL_SECONDS:.0f}: daily; 0 turns it off)",
    )
    add_retention_option(parser)


def scheduled_purger(
    args: argparse.Namespace,
    *,
    engine: Engine,
    settings: Settings,
    redis_client: redis.Redis | None = None,
) -> Purger | None:
    """The purger `add_schedule_options` asked for; None when turned off."""
    if args.purge_every <= 0:
        return None
    return Purger(
        engine=engine,
        retention=retention_from(settings, keep_days=args.keep_days),
        redis_client=redis_client,
    )
