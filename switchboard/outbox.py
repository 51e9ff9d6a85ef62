"""The development outbox: Twilio's REST API when there is no Twilio account.

With the placeholder account SID (`switchboard.settings.PLACEHOLDER_ACCOUNT_SID`) a request to
api.twilio.com can only ever fail with 401, after the SMS job's retries and a traceback each.
So `switchboard.twilio_rest.twilio_client` then gives the SDK this `HttpClient` instead: a
message create is appended as one JSON line to `<var_dir>/outbox.jsonl` (0600) and answered as
Twilio would (201, a message SID), so the SMS job runs its real path. The outbox and the log
name the recipient masked only (`+47 ••• •• 567`): no Twilio needs it here, and var/ keeps no
caller number (docs/privacy.md). Anything else (a call redirect, a call lookup) has no local
meaning and is refused with `TwilioNotConfigured`; the transfer route and the sweep check
`is_outbox` before they get that far.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.phone import masked_number

log = logging.getLogger(__name__)

SWEEP_OFF = (
    "sweep off: no Twilio account configured (SWITCHBOARD_TWILIO_ACCOUNT_SID is the "
    "placeholder); calls whose end never arrives stay open"
)


class TwilioNotConfigured(TwilioException):  # type: ignore[misc]  # the SDK ships no types
    """A REST request that only a real Twilio account could answer."""


class Outbox(HttpClient):  # type: ignore[misc]  # the SDK ships no type hints
    def __init__(self, path: Path) -> None:
        super().__init__(logger=log, is_async=False)
        self.path = path.resolve()

    def request(self, method: str, uri: str, **request: Any) -> Response:
        """The SDK's request (params, data, headers, auth, ...); nothing leaves this machine."""
        data: dict[str, object] = request.get("data") or {}
        if method.upper() != "POST" or not uri.endswith("/Messages.json"):
            raise TwilioNotConfigured(
                "no Twilio account is configured (SWITCHBOARD_TWILIO_ACCOUNT_SID is the "
                f"placeholder); {method.upper()} {uri.split('/2010-04-01/')[-1]} was not sent"
            )
        fields = {str(key): str(value) for key, value in data.items()}
        message = {
            "sid": "SM" + secrets.token_hex(16),
            "status": "queued",
            "to": masked_number(fields.get("To", "")),
            "from": fields.get("From") or fields.get("MessagingServiceSid", ""),
            "body": fields.get("Body", ""),
            "date_created": datetime.now(UTC).isoformat(),
        }
        self._append(message)
        log.info(
            "development outbox: SMS to %s written to %s (Twilio is not called)",
            message["to"],
            self.path,
        )
        return Response(201, json.dumps(message))

    def _append(self, message: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(message, ensure_ascii=False).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)  # also when an older file was made with a wider mode
            os.write(fd, line)  # one write: lines from several workers never interleave
        finally:
            os.close(fd)


def is_outbox(client: Client) -> bool:
    """Whether this REST client only writes to the development outbox."""
    return isinstance(client.http_client, Outbox)
