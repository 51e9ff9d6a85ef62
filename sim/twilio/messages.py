"""Twilio's Messages resource, as the simulated REST API answers it (SMS from the workers).

`POST /2010-04-01/Accounts/{sid}/Messages.json` is checked as Twilio checks it: a `To` in
E.164 (21604, 21211), a `Body` (21602) and a `From` or `MessagingServiceSid` (21603). A
created message is answered with Twilio's JSON (status 201).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

from twilio.http.response import Response

E164 = re.compile(r"\+[1-9]\d{6,14}")


def error(status: int, code: int, message: str) -> Response:
    """Twilio's error body (code, message, more_info, status)."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(status, json.dumps(body), {"Content-Type": "application/json"})


def create_message(
    account_sid: str, form: dict[str, str]
) -> tuple[Response, dict[str, object] | None]:
    """The response to a message create, and the message resource when one was created."""
    to = form.get("To")
    if not to:
        return error(400, 21604, "A 'To' phone number is required."), None
    if not E164.fullmatch(to):
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number."), None
    if not form.get("Body"):
        return error(400, 21602, "Message body is required."), None
    sender = form.get("From")
    service = form.get("MessagingServiceSid")
    if not sender and not service:
        return error(400, 21603, "A 'From' phone number is required."), None
    sid = "SM" + uuid.uuid4().hex
    now = format_datetime(datetime.now(UTC), usegmt=True)
    path = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    message: dict[str, object] = {
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": service,
        "from": sender,
        "to": to,
        "body": form["Body"],
        "status": "accepted" if service else "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "uri": f"{path}.json",
        "subresource_uris": {"media": f"{path}/Media.json"},
    }
    return Response(201, json.dumps(message), {"Content-Type": "application/json"}), message
