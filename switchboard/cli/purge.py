"""`switchboard purge`: remove what is past retention, now (`workers.purge`; the ingest
consumer runs the same purge daily)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from switchboard.cli.command import Subparsers
from switchboard.settings import Settings


def register(subparsers: Subparsers) -> None:
    from workers.purge import add_retention_option

    parser = subparsers.add_parser(
        "purge",
        help="remove numbers, raw events and records past retention",
        description=(
            "Remove what is past retention, now: callback numbers (done or cancelled more "
            "than KEEP_DAYS ago; pending that long: cancelled), SMS numbers, raw call events "
            "of ended calls (SWITCHBOARD_RETAIN_EVENTS_DAYS) and pseudonymised records "
            "(SWITCHBOARD_RETAIN_RECORDS_DAYS); prints what it removed per kind. "
            "`switchboard ingest` already runs it daily (--purge-every)."
        ),
    )
    add_retention_option(parser)
    parser.add_argument(
        "--now",
        type=_instant,
        default=None,
        metavar="INSTANT",
        help="purge as if it were this ISO 8601 instant (with its offset), to rehearse what "
        "a later purge removes; default: now",
    )
    parser.set_defaults(handler=_purge)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the offset too (e.g. {text}+01:00)")
    return value.astimezone(UTC)


def _purge(args: argparse.Namespace) -> int:
    from switchboard.db import make_engine
    from switchboard.settings import get_settings
    from workers.purge import purge, retention_from

    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        result = purge(
            engine,
            now=args.now or datetime.now(UTC),
            retention=retention_from(settings, keep_days=args.keep_days),
        )
    finally:
        engine.dispose()
    sys.stdout.write(result.describe() + "\n")
    _rewrite_aof(settings)
    return 0


def _rewrite_aof(settings: Settings) -> None:
    """Numbers the ingest XDELed leave Redis' append-only file only when Redis rewrites it."""
    import redis

    from switchboard.redis_client import connect_redis
    from workers.purge import rewrite_aof

    client = connect_redis(settings.effective_redis_url, timeout=2.0, connect_timeout=2.0)
    try:
        rewrite_aof(client)
        sys.stdout.write("asked Redis to rewrite its append-only file\n")
    except redis.RedisError as exc:  # no Redis running: nothing of it to rewrite now
        sys.stdout.write(f"Redis not rewritten ({type(exc).__name__}); the next purge asks again\n")
    finally:
        client.close()
