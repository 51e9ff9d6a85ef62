"""Purge raw phone numbers once they are no longer needed (BRIEF §7, privacy).

A callback's number is kept while the callback is pending, and for `keep_days` after it was
done or cancelled (so an agent can see whom they called). After that the number is replaced by
"" and only the pseudonym remains for statistics. A pending callback nobody handled is purged
too once it is `keep_days` past its request, and marked cancelled, so no number lives forever.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, or_, update

from switchboard.models import Callback

REDACTED = ""


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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="remove raw callback numbers after retention",
        description=(
            "Replace the raw phone number of callbacks done or cancelled more than KEEP_DAYS "
            "ago with an empty string, and cancel (and purge) callbacks still pending after "
            "KEEP_DAYS. Statistics keep the caller's pseudonym. Run it daily (cron or a "
            "systemd timer)."
        ),
    )
    parser.add_argument("--keep-days", type=int, default=30, help="retention in days (default 30)")
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
