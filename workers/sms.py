"""The SMS job: send one requested SMS through Twilio's REST API and record the outcome.

The ingest enqueues `send_sms(sms_id=...)` after committing the `sms_messages` row (status
"queued", with the recipient in `number` and the text in `body`), with the event's UUID as job
id. The job carries only the row's id, so no number sits in Redis (the job hash, RQ's registries,
the AOF) or in RQ's log lines; the job reads number and text from the row when it runs.

The job is idempotent on its row: a row that is no longer "queued" is not sent again, so a
duplicated or abandoned-and-retried job does not text the caller twice (except in the narrow
window between Twilio accepting the message and our update, which at-least-once delivery cannot
close). The update that records "sent", "failed" or "rejected" also clears the row's number to
""; a row left "queued" for a retry keeps it. The scheduled purge (workers/purge.py) expires
rows left queued past the callback retention.

Outcomes:
- not a Norwegian mobile (+47 4xxxxxxx / 9xxxxxxx) -> "rejected", Twilio is never called;
- Twilio accepts -> "sent" with its message SID;
- Twilio refuses (4xx, e.g. 21211 invalid "To") -> "failed" with the error code, no retry;
- 5xx, 429 or no connection -> the job raises and RQ retries it (`SMS_RETRY`); the last attempt
  that still fails marks the row "failed".

Twilio's error messages can quote the number, so only status and code are stored or logged.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from requests import RequestException
from rq import Retry, get_current_job
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException

from ivr.phone import is_norwegian_mobile
from switchboard.models import SmsMessage
from workers.context import current_context

log = logging.getLogger(__name__)

SMS_RETRY = Retry(max=3, interval=[10, 30, 60])
CLEARED = ""  # what a row's number becomes once the SMS is settled


# Norwegian mobile numbers: +47, then 8 digits starting with 4 or 9 (Nkom's numbering plan).
class TransientSmsError(Exception):
    """Twilio could not take the message now; RQ retries the job."""


def sender(sms_from: str) -> dict[str, str]:
    """Twilio's sender argument: a Messaging Service SID, or a sender id/number as `from_`."""
    if sms_from.startswith("MG"):
        return {"messaging_service_sid": sms_from}
    return {"from_": sms_from}


def send_sms(*, sms_id: int, to: str | None = None, body: str | None = None) -> str:
    """Send SMS row `sms_id` to the number on the row; returns its final (or current) status.

    `to` and `body` are an upgrade path only: jobs enqueued by an older version carried them as
    arguments, and their rows have no number. They are used only when the row has none; new
    jobs never pass them.
    """
    context = current_context()
    with Session(context.engine) as session, session.begin():
        row = session.get(SmsMessage, sms_id)
        if row is None:
            log.error("sms %d: no such row; nothing sent", sms_id)
            return "missing"
        if row.status != "queued":
            log.info("sms %d: already %s; not sent again", sms_id, row.status)
            return row.status
        number = row.number or to or ""
        text = row.body if row.number else (body if body is not None else row.body)
        if not is_norwegian_mobile(number):
            row.status = "rejected"
            row.error = "not a Norwegian mobile number"
            row.number = CLEARED
            log.info("sms %d: rejected, not a Norwegian mobile", sms_id)
            return row.status
        if not row.number:  # an older job's number: kept on the row for a retry
            row.number = number
            row.body = text

    # No transaction is held open across the HTTP call: SQLite allows one writer at a time.
    try:
        message = context.twilio.messages.create(
            to=number, body=text or "", **sender(context.sms_from)
        )
    except TwilioRestException as exc:
        error = f"twilio {exc.status} error {exc.code}"
        transient = exc.status >= 500 or exc.status == 429
    except (RequestException, TwilioException) as exc:
        error = f"no answer from twilio ({type(exc).__name__})"
        transient = True
    else:
        return _finish(sms_id=sms_id, status="sent", twilio_sid=message.sid)
    # Out of the except blocks: a retry's exception must not chain Twilio's, whose message
    # can quote the number, into the traceback RQ logs and stores with the job.
    if transient:
        return _transient(sms_id=sms_id, error=error)
    return _finish(sms_id=sms_id, status="failed", error=error)


def _transient(*, sms_id: int, error: str) -> str:
    job = get_current_job()
    # RQ loads a job's last attempt with retries_left None (it stores 0 as missing).
    if job is None or not job.retries_left:
        return _finish(sms_id=sms_id, status="failed", error=error)
    _finish(sms_id=sms_id, status="queued", error=error)
    log.warning("sms %d: %s; %d retries left", sms_id, error, job.retries_left)
    raise TransientSmsError(error)


def _finish(*, sms_id: int, status: str, **values: Any) -> str:
    context = current_context()
    error = values.get("error")
    with Session(context.engine) as session, session.begin():
        row = session.get(SmsMessage, sms_id)
        if row is None:
            return "missing"
        row.status = status
        row.error = error
        if status != "queued":  # settled: the number is no longer needed
            row.number = CLEARED
        if status == "sent":
            row.twilio_sid = values["twilio_sid"]
            row.sent_at = datetime.now(UTC)
    log.info("sms %d: %s%s", sms_id, status, f" ({error})" if error else "")
    return status
