"""`switchboard worker`: an RQ worker for background jobs (such as sending SMS)."""

from __future__ import annotations

import argparse

from switchboard.cli.command import Subparsers, load_settings, require_redis
from switchboard.cli.metrics_options import add_metrics_options, serve_metrics


def register(subparsers: Subparsers) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="run an RQ worker for background jobs (such as sending SMS)",
        description=(
            "Run an RQ worker on SWITCHBOARD_REDIS_URL (jobs are JSON-serialized). Without "
            "that variable it uses the embedded Redis that `switchboard serve` runs under "
            "./var/. SIGTERM finishes the current job, then stops."
        ),
    )
    add_metrics_options(worker, env="SWITCHBOARD_WORKER_METRICS_PORT")
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from switchboard.observability.collectors import worker_registry
    from switchboard.redis_client import worker_redis
    from workers.context import build_context
    from workers.queues import make_worker

    settings = load_settings()
    connection = worker_redis(settings)
    require_redis(connection, settings)
    worker = make_worker(connection=connection, context=build_context(settings))
    serve_metrics(args, lambda: worker_registry(lambda: connection.hgetall(worker.key)))
    # The scheduler runs jobs whose retries wait (SMS sending backs off between attempts).
    worker.work(with_scheduler=True)
    return 0
