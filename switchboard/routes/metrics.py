"""The web process's metrics, as routes reach them.

The app serves no `/metrics`: the public port is the one Twilio and the internet reach. Under
`switchboard serve` the web workers' metrics are served on a port of their own by the serve
process (`switchboard/observability/metrics_port.py`).
"""

from __future__ import annotations

from fastapi import Request

from switchboard.observability.web_metrics import WebMetrics


def web_metrics(request: Request) -> WebMetrics:
    metrics: WebMetrics = request.app.state.metrics
    return metrics
