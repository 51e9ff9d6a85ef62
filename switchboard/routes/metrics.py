"""The web process's operational metrics as the routes reach them (`web_metrics`).

The app serves no `/metrics`: the public port is the one Twilio and the internet reach. Under
`switchboard serve` the web workers' metrics are served on a port of their own by the serve
process (`switchboard/metrics_port.py`).

Also here: the fallback URL's signature check. That route must answer every request with its
static TwiML, but a bad signature there is still worth counting.
"""

from __future__ import annotations

import logging

from fastapi import Request

from switchboard.deps import Services
from switchboard.metrics import WebMetrics
from switchboard.signature import is_signed, public_request_url

log = logging.getLogger(__name__)


def web_metrics(request: Request) -> WebMetrics:
    metrics: WebMetrics = request.app.state.metrics
    return metrics


async def count_bad_fallback_signature(request: Request, services: Services) -> None:
    """Count a missing or wrong signature on the fallback URL; never raises, never refuses."""
    try:
        form = await request.form()
        url = public_request_url(request, services.settings.public_url)
        signature = request.headers.get("x-twilio-signature", "")
        if not is_signed(
            url=url, form=form, signature=signature, tokens=services.settings.auth_tokens
        ):
            web_metrics(request).signature_failed(request.scope["route"].path)
    except Exception:  # the caller must get the fallback TwiML whatever happens here
        log.exception("could not check the fallback request's signature")
