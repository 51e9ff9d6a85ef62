"""`--metrics-port` and `--metrics-host` for the processes that serve their own counts (the
ingest consumer, the RQ worker) and for `serve` (the web workers' metrics)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def add_metrics_options(
    parser: argparse.ArgumentParser,
    *,
    env: str,
    default: int = 0,
    what: str = "this process's own counts",
) -> None:
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get(env, str(default))),
        metavar="PORT",
        help=f"serve {what} for Prometheus on this port (default: {env}, else {default}; 0 = off)",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="the address for --metrics-port (0.0.0.0 in a container)",
    )


def serve_metrics(args: argparse.Namespace, registry: Callable[[], CollectorRegistry]) -> None:
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host, registry=registry())
