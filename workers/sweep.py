"""The reconciliation sweep: calls whose end we never heard of, looked up in Twilio's REST API.

A number's status callback reports the end of a call once, and Twilio does not send it again
when it fails (docs/twilio.md). Without it a call stays open in SQL for ever. The sweep
finds calls with a `call_started` event and no final `call_ended`, started longer than
`min_age` ago, fetches each one (`client.calls(sid).fetch()`, docs/twilio.md, The REST API), and:

- Twilio says the call ended: append a `call_ended` like the status callback's (status,
  final, duration, timestamp; `source` "rest"), at Twilio's end time, with the dedupe key
  `{CallSid}:rest:{status}`;
- Twilio does not know the call (20404): append a `call_ended` with status `unresolved`, so
  the call is closed and not asked about again;
- the call is still live, or Twilio does not answer: nothing; the next sweep asks again.

The events go to the Redis Stream through `EventLog` (or its spool), so they take the normal
ingest path. Two sweeps before the ingest catches up add one row: same dedupe key. A status
callback that arrives after all adds a second `call_ended` for the call; the call's first
final `call_ended` is the one that counts.

It runs in the ingest process (`start_sweeper`, `switchboard ingest --sweep-every`) or as an
RQ job (`sweep_job`).
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import aliased
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as TwilioClient

from ivr.events import Event
from ivr.status import FINAL_STATUSES
from switchboard.eventlog import EventLog
from switchboard.models import CallEvent
from workers.schedule import start_rounds

if TYPE_CHECKING:
    from switchboard.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MIN_AGE = timedelta(minutes=30)
DEFAULT_INTERVAL_SECONDS = 300.0
UNRESOLVED = "unresolved"
NOT_FOUND = 20404


@dataclass(frozen=True)
class SweepResult:
    checked: int = 0
    ended: int = 0  # Twilio said the call ended; a call_ended was appended
    unresolved: int = 0  # Twilio did not know the call
    live: int = 0  # still in progress
    failed: int = 0  # Twilio could not be asked; tried again next time


class Sweeper:
    def __init__(
        self,
        *,
        engine: Engine,
        twilio: TwilioClient,
        events: EventLog,
        min_age: timedelta = DEFAULT_MIN_AGE,
        batch_size: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.twilio = twilio
        self.events = events
        self.min_age = min_age
        self.batch_size = batch_size
        self.clock = clock

    def open_calls(self, now: datetime) -> list[str]:
        """Calls started before `now - min_age` without a final `call_ended`, oldest first."""
        ended = aliased(CallEvent)
        final_end = exists().where(
            ended.call_sid == CallEvent.call_sid,
            ended.kind == "call_ended",
            ended.data["final"].as_boolean().is_(True),
        )
        query = (
            select(CallEvent.call_sid)
            .where(
                CallEvent.kind == "call_started",
                CallEvent.occurred_at <= now - self.min_age,
                ~final_end,
            )
            .order_by(CallEvent.occurred_at)
            .limit(self.batch_size)
        )
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def run_once(self, now: datetime | None = None) -> SweepResult:
        now = now or self.clock()
        counts = {"checked": 0, "ended": 0, "unresolved": 0, "live": 0, "failed": 0}
        appended: list[Event] = []
        for call_sid in self.open_calls(now):
            counts["checked"] += 1
            outcome, event = self._reconcile(call_sid, now=now)
            counts[outcome] += 1
            if event is not None:
                appended.append(event)
        self.events.append(appended)
        result = SweepResult(**counts)
        if result.checked:
            log.info("sweep: %s", result)
        return result

    def run_forever(self, stop: threading.Event, *, interval: float) -> None:
        while not stop.wait(interval):
            try:
                self.run_once()
            except Exception:  # the database away, say: the next round tries again
                log.exception("sweep failed; trying again in %.0f s", interval)

    def _reconcile(self, call_sid: str, *, now: datetime) -> tuple[str, Event | None]:
        try:
            call = self.twilio.calls(call_sid).fetch()
        except TwilioRestException as exc:
            if exc.code == NOT_FOUND or exc.status == 404:
                return "unresolved", ended_event(call_sid, status=UNRESOLVED, at=now)
            log.warning("sweep: Twilio %s error %s for %s", exc.status, exc.code, call_sid)
            return "failed", None
        except Exception as exc:  # no connection, a timeout: ask again next round
            log.warning("sweep: no answer from Twilio for %s (%s)", call_sid, type(exc).__name__)
            return "failed", None
        status = str(call.status or "")
        if status not in FINAL_STATUSES:
            return "live", None
        end: datetime | None = call.end_time if isinstance(call.end_time, datetime) else None
        event = ended_event(call_sid, status=status, at=end or now, duration=_seconds(call))
        return "ended", event


def ended_event(call_sid: str, *, status: str, at: datetime, duration: int | None = None) -> Event:
    """A `call_ended` shaped like the status callback's (docs/events.md), from the REST API."""
    return Event(
        kind="call_ended",
        call_sid=call_sid,
        dedupe_key=f"{call_sid}:rest:{status}",
        at=at,
        data={
            "status": status,
            "final": True,
            "duration_seconds": duration,
            "timestamp": format_datetime(at.astimezone(UTC), usegmt=True),
            "source": "rest",
        },
    )


def _seconds(call: Any) -> int | None:
    try:
        return int(call.duration)
    except (TypeError, ValueError):
        return None


def start_sweeper(sweeper: Sweeper, *, interval: float, stop: threading.Event) -> threading.Thread:
    """Sweep every `interval` seconds until `stop` is set (the ingest process runs this)."""
    return start_rounds(sweeper, name="sweep", interval=interval, stop=stop)


def start_from_args(
    args: argparse.Namespace,
    *,
    settings: Settings,
    engine: Engine,
    events: EventLog,
    stop: threading.Event,
) -> threading.Thread | None:
    """The ingest's sweep as `--sweep-every` and `--sweep-after` ask; None when it is off."""
    from switchboard.outbox import SWEEP_OFF, is_outbox
    from switchboard.twilio_rest import twilio_client

    if args.sweep_every <= 0:
        return None
    twilio = twilio_client(settings)
    if is_outbox(twilio):  # the placeholder account: Twilio would only ever answer 401
        log.warning(SWEEP_OFF)
        return None
    sweeper = Sweeper(
        engine=engine,
        twilio=twilio,
        events=events,
        min_age=timedelta(minutes=args.sweep_after),
    )
    return start_sweeper(sweeper, interval=args.sweep_every, stop=stop)


def sweep_job(*, min_age_minutes: float = DEFAULT_MIN_AGE.total_seconds() / 60) -> dict[str, int]:
    """The sweep as an RQ job: the worker's context gives the database and Twilio, the job's
    own Redis connection and the settings give the stream."""
    from rq import get_current_job

    from switchboard.settings import get_settings
    from workers.context import current_context

    job = get_current_job()
    if job is None:
        raise RuntimeError("sweep_job runs inside an RQ worker")
    context = current_context()
    sweeper = Sweeper(
        engine=context.engine,
        twilio=context.twilio,
        events=EventLog.from_settings(get_settings(), redis=job.connection),
        min_age=timedelta(minutes=min_age_minutes),
    )
    return asdict(sweeper.run_once())
