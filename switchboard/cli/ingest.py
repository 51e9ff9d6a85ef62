"""`switchboard ingest`: the event stream consumer (Redis Stream to SQL), with the sweep and
the scheduled purge."""

from __future__ import annotations

import argparse
import signal
import threading

from switchboard.cli.command import Subparsers, load_settings, require_redis
from switchboard.cli.metrics_options import add_metrics_options, serve_metrics


def register(subparsers: Subparsers) -> None:
    ingest = subparsers.add_parser(
        "ingest",
        help="run the event stream consumer (Redis Stream to SQL)",
        description=(
            "Read call events from the Redis Stream with a consumer group and write them to "
            "the database in batches; also replay events the web processes spooled under "
            "./var/spool while Redis was away. SIGINT or SIGTERM stops it after the current "
            "batch. It also sweeps: calls whose end never arrived are looked up in Twilio's "
            "REST API (workers/sweep.py)."
        ),
    )
    add_metrics_options(ingest, env="SWITCHBOARD_INGEST_METRICS_PORT")
    ingest.add_argument(
        "--sweep-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how often to sweep for calls without an end (default 300; 0 turns it off; "
        "off while no Twilio account is configured)",
    )
    ingest.add_argument(
        "--sweep-after",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="sweep calls started longer ago than this (default 30)",
    )
    from workers.purge import add_schedule_options

    add_schedule_options(ingest)  # --purge-every and --keep-days
    ingest.set_defaults(handler=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    from switchboard.eventlog import EventLog
    from switchboard.observability.collectors import ingest_registry
    from switchboard.redis_client import worker_redis
    from workers.ingest import Ingestor, ingest_engine
    from workers.purge import scheduled_purger, start_purger
    from workers.sweep import start_from_args

    settings = load_settings()
    connection = worker_redis(settings)
    require_redis(connection, settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    engine = ingest_engine(settings)
    # Given the event log, the consumer also replays the spool the web processes wrote while
    # Redis was away, so it must run where it can read SWITCHBOARD_VAR_DIR/spool.
    events = EventLog.from_settings(settings, redis=connection)
    ingestor = Ingestor.from_settings(settings, redis=connection, engine=engine, event_log=events)
    purger = scheduled_purger(args, engine=engine, settings=settings, redis_client=connection)
    serve_metrics(args, lambda: ingest_registry(ingestor, purger))
    start_from_args(args, settings=settings, engine=engine, events=events, stop=stop)
    if purger is not None:
        start_purger(purger, interval=args.purge_every, stop=stop)
    try:
        ingestor.run_forever(stop)
    finally:
        engine.dispose()
    return 0
