"""Purge raw phone numbers once they are no longer needed (docs/events.md, privacy).

A callback's number is kept while the callback is pending, and for `keep_days` after it was
done or cancelled (so an agent can see whom they called). After that the number is replaced by
"" and only the pseudonym remains for statistics. A pending callback nobody handled is purged
too once it is `keep_days` past its request, and marked cancelled, so no number lives forever.

It runs on a schedule in the ingest process (`Purger`, `switchboard ingest --purge-every`):
once when the consumer starts, then daily, so no cron job is needed. `switchboard purge` runs
it once by hand.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, or_, update

from switchboard.models import Callback
from workers.schedule import start_rounds

log = logging.getLogger(__name__)

REDACTED = ""
DEFAULT_KEEP_DAYS = 30
DEFAULT_INTERVAL_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class PurgeResult:
    closed: int  # done or cancelled callbacks whose number was removed
    abandoned: int  # pending callbacks past retention, cancelled and removed


def purge_numbers(engine: Engine, *, now: datetime, keep_days: int) -> PurgeResult:
    cutoff = now - timedelta(days=keep_days)
    with engine.begin() as connection:
        abandoned = connection.execute(
            update(Callback)
            .where(Callback.status == "pending", Callback.requested_at < cutoff)
            .values(status="cancelled", done_at=now, number=REDACTED)
        ).rowcount
        closed = connection.execute(
            update(Callback)
            .where(
                Callback.number != REDACTED,
                Callback.status != "pending",
                or_(
                    Callback.done_at < cutoff,
                    and_(Callback.done_at.is_(None), Callback.requested_at < cutoff),
                ),
            )
            .values(number=REDACTED)
        ).rowcount
    return PurgeResult(closed=int(closed or 0), abandoned=int(abandoned or 0))


class Purger:
    """The purge on a schedule. Counts what it removed since it started, for the ingest's
    metrics (`switchboard.collectors`), and logs the counts, never a number."""

    def __init__(
        self,
        *,
        engine: Engine,
        keep_days: int = DEFAULT_KEEP_DAYS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.keep_days = keep_days
        self.clock = clock
        self.succeeded_total = 0
        self.failed_total = 0
        self.closed_total = 0
        self.abandoned_total = 0

    def run_once(self) -> PurgeResult:
        result = purge_numbers(self.engine, now=self.clock(), keep_days=self.keep_days)
        self.succeeded_total += 1
        self.closed_total += result.closed
        self.abandoned_total += result.abandoned
        log.info(
            "purge: removed the numbers of %d closed and %d abandoned callbacks "
            "(older than %d days)",
            result.closed,
            result.abandoned,
            self.keep_days,
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
        default=DEFAULT_KEEP_DAYS,
        help=f"keep callback numbers this many days (default {DEFAULT_KEEP_DAYS})",
    )


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """`--purge-every` and `--keep-days`, for the process that purges on a schedule."""
    parser.add_argument(
        "--purge-every",
        type=float,
        default=DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help="purge expired callback numbers at start and then this often "
        f"(default {DEFAULT_INTERVAL_SECONDS:.0f}: daily; 0 turns it off)",
    )
    add_retention_option(parser)


def scheduled_purger(args: argparse.Namespace, *, engine: Engine) -> Purger | None:
    """The purger `add_schedule_options` asked for; None when turned off."""
    if args.purge_every <= 0:
        return None
    return Purger(engine=engine, keep_days=args.keep_days)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="remove raw callback numbers after retention",
        description=(
            "Replace the raw phone number of callbacks done or cancelled more than KEEP_DAYS "
            "ago with an empty string, and cancel (and purge) callbacks still pending after "
            "KEEP_DAYS. Statistics keep the caller's pseudonym. `switchboard ingest` already "
            "runs it daily (--purge-every); this runs it once, now."
        ),
    )
    add_retention_option(parser)
    parser.set_defaults(handler=_purge)


def _purge(args: argparse.Namespace) -> int:
    from switchboard.db import make_engine
    from switchboard.settings import get_settings

    engine = make_engine(get_settings().sqlalchemy_url)
    try:
        result = purge_numbers(engine, now=datetime.now(UTC), keep_days=args.keep_days)
    finally:
        engine.dispose()
    sys.stdout.write(
        f"purged {result.closed} closed and {result.abandoned} abandoned callbacks' numbers\n"
    )
    return 0
