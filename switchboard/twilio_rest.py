"""The Twilio REST client, built one way for the web app, the job worker (its SMS jobs, through
`workers.context.build_context`), the reconciliation sweep and `switchboard twilio check`.

`http_client` is the one seam for tests and simulations: the twilio SDK sends every request
through it, so the simulator's REST API (`sim.twilio.SimulatedRest`) can stand in
for api.twilio.com without touching our code.

By default the SDK's HTTP client has no timeout. An agent's request waits on this call, so do
the sweep's loop and an SMS job (which would otherwise hang until RQ's job timeout), so the
production client gets one: `timeout` seconds, `REST_TIMEOUT_SECONDS` unless a caller (a test)
asks for less.

`SWITCHBOARD_TWILIO_REGION` and `SWITCHBOARD_TWILIO_EDGE` choose where the REST requests go:
with `ie1` and `dublin` the SDK calls `api.dublin.ie1.twilio.com` instead of api.twilio.com.

Without a Twilio account (the placeholder SID, as in development) the client writes SMS to the
local outbox instead (`switchboard.outbox`) and never reaches api.twilio.com.
"""

from __future__ import annotations

from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.outbox import Outbox
from switchboard.settings import Settings

REST_TIMEOUT_SECONDS = 10.0


def twilio_client(
    settings: Settings,
    *,
    http_client: HttpClient | None = None,
    timeout: float = REST_TIMEOUT_SECONDS,
) -> Client:
    """A client for the account in the settings, authenticated with the primary token, whose
    requests give up after `timeout` seconds; the development outbox when no account is
    configured and no `http_client` is given."""
    if http_client is None:
        http_client = (
            TwilioHttpClient(timeout=timeout)
            if settings.twilio_configured
            else Outbox(settings.outbox_path)
        )
    return Client(
        settings.twilio_account_sid,
        settings.auth_tokens[0],
        http_client=http_client,
        region=settings.twilio_region or None,
        edge=settings.twilio_edge or None,
    )


def close_twilio_client(client: Client) -> None:
    """Close the pooled HTTPS connections of a client `twilio_client` made (the outbox and
    simulated clients hold none)."""
    http = client.http_client
    if isinstance(http, TwilioHttpClient) and http.session is not None:
        http.session.close()
