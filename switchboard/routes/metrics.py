"""`GET /metrics`: the web process's operational metrics for Prometheus.

With `PROMETHEUS_MULTIPROC_DIR` set (`switchboard serve` sets it for its children), a scrape
reaches one uvicorn worker, which answers for all of them: a fresh registry per scrape with a
`MultiProcessCollector` reads every process's files in the directory (the client library's
documented pattern; registering the metrics themselves on it would export them twice).
Without it, the app's own registry answers.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from switchboard.deps import get_services
from switchboard.metrics import WebMetrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

router = APIRouter(tags=["operations"])


def web_metrics(request: Request) -> WebMetrics:
    metrics: WebMetrics = request.app.state.metrics
    return metrics


def exposition(registry: CollectorRegistry) -> bytes:
    """The text exposition: every process's metrics in multiprocess mode, else `registry`'s."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        fresh = CollectorRegistry()
        MultiProcessCollector(fresh, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(fresh)
    return generate_latest(registry)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}}},
)
def metrics(request: Request) -> Response:
    """Prometheus text format 0.0.4. Business numbers are served by `switchboard exporter`."""
    web = web_metrics(request)
    web.sync_event_log(get_services(request).events)
    return Response(content=exposition(web.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)
