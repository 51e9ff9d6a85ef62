"""`switchboard exporter`: serve the business KPIs for Prometheus
(`switchboard.observability.exporter`), one process per deployment."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from switchboard.cli.command import Subparsers, load_settings, read_config

EXPORTER_PORT = 9108  # next to the web workers' metrics port (9107)


def register(subparsers: Subparsers) -> None:
    exporter = subparsers.add_parser(
        "exporter",
        help="serve the business KPIs (from SQL and Redis) for Prometheus",
        description=(
            "Serve the business KPIs on http://HOST:PORT/metrics for Prometheus: calls by "
            "outcome, queue visits and waits, transfers and returns by department, callbacks, "
            "SMS deflections, today's counts in Oslo time, open services, queue sizes, stream "
            "lag and RQ jobs. Computed from the database at SWITCHBOARD_DATABASE_URL and from "
            "Redis at every scrape. Run exactly one. SIGINT or SIGTERM stops it."
        ),
    )
    exporter.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    exporter.add_argument(
        "--port", type=int, default=EXPORTER_PORT, help="port to listen on (%(default)s)"
    )
    exporter.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from switchboard.db import make_engine
    from switchboard.observability.exporter import BusinessCollector, exporter_registry
    from switchboard.redis_client import worker_redis

    settings = load_settings()
    config = read_config(settings.config)
    engine = make_engine(settings.sqlalchemy_url)
    collector = BusinessCollector(
        engine=engine,
        redis=worker_redis(settings),
        config=config,
        stream=settings.stream,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    registry = exporter_registry(collector)
    server, thread = start_http_server(args.port, addr=args.host, registry=registry)
    sys.stdout.write(f"Exporter: http://{args.host}:{args.port}/metrics\n")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        server.shutdown()
        thread.join()
        engine.dispose()
    return 0
