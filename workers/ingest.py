"""The ingest consumer: call events from the Redis Stream into SQL, in batches, exactly once in SQL.

Delivery is at-least-once (docs/events.md): a batch is committed to SQL first and acknowledged
(XACK) after, so a consumer that dies in between leaves its entries pending, and another
consumer takes them over with XAUTOCLAIM once they have been idle for `claim_idle_ms`. A
consumer restarted under the same name first re-reads its own pending entries. The second
delivery is harmless because every row is inserted with ON CONFLICT DO NOTHING on the event's
dedupe key (a duplicated webhook) and UUID (a replayed spool).

Side effects ride in the same transaction (workers/event_rows.py): a `callback_requested`
event creates its callback row, an `sms_requested` event its `sms_messages` row. After the
commit each still-queued SMS is enqueued with the event UUID as job id and `unique=True`; that
also covers a crash between commit and enqueue, since the redelivered batch finds the row still
queued.

In the same transaction as the events, the calls they belong to are projected into the call
records (`calls`, `transfers`, `queue_visits`, `returns`; workers/records.py), inside a
savepoint: should a projection fail, the events are still stored, and the call is projected
again with its next event (or by `workers.records.rebuild`).

Caller numbers travel sealed (switchboard/sealing.py); `_parse` opens them, so everything after
it sees plain numbers. Plain numbers from before sealing pass as they are. A number no
configured key opens (its key was dropped too early) costs only that field: the event is stored
without it, so a callback request gets no callback row and an SMS request is rejected for want
of a recipient; the error log names the event and the key, and `unopened_numbers_total` counts.

Acknowledged entries are deleted from the stream (`delete_acked`), so raw numbers do not linger
in Redis until MAXLEN trimming reaches them (and the scheduled purge has Redis rewrite its AOF,
workers/purge.py). That leaves the SQL commit as the only copy, so the
consumer commits durably on SQLite too (`ingest_engine`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError

from ivr.events import Event
from switchboard.db import make_engine
from switchboard.eventlog import EventLog
from switchboard.job_queues import SMS_QUEUE, make_queue
from switchboard.models import SmsMessage
from switchboard.sealing import NumberSeal, development_keys, open_numbers
from switchboard.settings import Settings
from workers.event_rows import insert_events
from workers.live_flags import flag_waiting_returns
from workers.projection import Projector
from workers.records import load_projector, project_calls
from workers.sms import SMS_RETRY, send_sms

log = logging.getLogger(__name__)

# Failed jobs are kept a week for inspection, not RQ's year (jobs hold ids, not numbers).
SMS_FAILURE_TTL = 7 * 24 * 3600
MAX_ID_LENGTH = 64  # the width of event_id and call_sid columns


@dataclass
class Batch:
    """Stream entries read together; `events` are the well-formed ones."""

    entry_ids: list[bytes] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def ingest_engine(settings: Settings) -> Engine:
    """The consumer's engine. Its commits are durable (`synchronous=FULL` on SQLite, one fsync
    of the write-ahead log per batch; see switchboard/db.py), because `acknowledge` deletes a
    batch's stream entries right after its commit: a commit a power cut took back would lose
    the batch's only copy."""
    return make_engine(settings.sqlalchemy_url, durable=True)


class Ingestor:
    def __init__(
        self,
        *,
        redis: redis.Redis,
        engine: Engine,
        stream: str,
        group: str = "ingest",
        consumer: str,
        batch_size: int = 500,
        sms_queue: Queue | None = None,
        caller_key: str | None = None,
        claim_idle_ms: int = 60_000,
        delete_acked: bool = True,
        event_log: EventLog | None = None,
        projector: Projector | None = None,
        seal: NumberSeal | None = None,
    ) -> None:
        self.redis = redis
        # None: the public development key (tests); from_settings passes the configured keys.
        self.seal = seal or NumberSeal.from_text(development_keys())
        self.engine = engine
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.batch_size = batch_size
        self.sms_queue = sms_queue
        self.caller_key = caller_key
        self.claim_idle_ms = claim_idle_ms
        self.delete_acked = delete_acked
        self.event_log = event_log
        # The shipped municipality when none is given (tests); from_settings passes the real one.
        self.projector = projector or load_projector(caller_key=caller_key)
        self._own_pending = True  # after a restart, finish what this consumer name left
        self.ingested_total = 0
        self.duplicates_total = 0
        self.malformed_total = 0
        self.claimed_total = 0
        self.sms_enqueued_total = 0
        self.projection_failures_total = 0
        self.unopened_numbers_total = 0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        redis: redis.Redis,
        engine: Engine,
        consumer: str | None = None,
        event_log: EventLog | None = None,
    ) -> Ingestor:
        """The production consumer, named after the host unless `consumer` is given.

        A stable name lets a restarted consumer finish its own pending entries at once;
        run more than one ingest per host only with distinct names.
        """
        return cls(
            redis=redis,
            engine=engine,
            stream=settings.stream,
            consumer=consumer or socket.gethostname(),
            sms_queue=make_queue(SMS_QUEUE, connection=redis),
            caller_key=settings.caller_key,
            event_log=event_log,
            projector=load_projector(settings.config, caller_key=settings.caller_key),
            seal=settings.number_seal,
        )

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run_once(self, block_ms: int | None = None) -> int:
        """Ingest one batch; returns how many stream entries it consumed (0: nothing to do).

        `block_ms` waits that long for new entries (None: do not wait; 0: wait forever).
        """
        batch = self.read(block_ms)
        if batch.entry_ids:
            self.store(batch)
            self.enqueue(batch)
            self.acknowledge(batch)
        return len(batch.entry_ids)

    # The four steps of run_once are public so that a test, like a crash, can stop between
    # them: an entry is acknowledged only after its rows are committed and its jobs enqueued.

    def read(self, block_ms: int | None = None) -> Batch:
        batch = Batch()
        for entry_id, fields in self._read(block_ms):
            batch.entry_ids.append(entry_id)
            event = self._parse(entry_id, fields)
            if event is not None:
                batch.events.append(event)
        return batch

    def store(self, batch: Batch) -> None:
        """Commit the batch's rows; counts which events were new and which were copies."""
        if not batch.events:
            return
        new_ids = self._store(batch.events)
        self.ingested_total += len(new_ids)
        self.duplicates_total += len(batch.events) - len(new_ids)
        fresh = [event for event in batch.events if event.id in new_ids]
        if fresh:
            # Hand-backs and recalls of callers still waiting: the console's flags.
            flag_waiting_returns(
                self.redis,
                self.engine,
                {event.call_sid for event in fresh},
                at=max(event.at for event in fresh),
            )

    def enqueue(self, batch: Batch) -> None:
        """Enqueue the SMS jobs of the batch's requests whose row is still queued."""
        requested = {event.id: event for event in batch.events if event.kind == "sms_requested"}
        if not requested or self.sms_queue is None:
            return
        with self.engine.connect() as connection:
            queued = connection.execute(
                select(SmsMessage.id, SmsMessage.event_id).where(
                    SmsMessage.event_id.in_(requested), SmsMessage.status == "queued"
                )
            ).all()
        for sms_id, event_id in queued:
            try:
                self.sms_queue.enqueue(
                    send_sms,
                    sms_id=sms_id,  # only the id: the number and text are on the row
                    job_id=event_id,
                    # RQ logs a job's description as it starts and ends; a description without
                    # arguments stays short and safe should a job ever carry more.
                    description=f"workers.sms.send_sms(sms_id={sms_id})",
                    unique=True,
                    retry=SMS_RETRY,
                    failure_ttl=SMS_FAILURE_TTL,
                )
            except DuplicateJobError:
                continue  # delivered twice; the first delivery's job is still there
            self.sms_enqueued_total += 1

    def acknowledge(self, batch: Batch) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, *batch.entry_ids)
        if self.delete_acked:
            pipe.xdel(self.stream, *batch.entry_ids)
        pipe.execute()

    def run_forever(
        self, stop: threading.Event, *, block_ms: int = 1000, replay_interval: float = 5.0
    ) -> None:
        """Consume until `stop` is set; also replays `event_log`'s spool if one was given."""
        self.ensure_group()
        next_replay = time.monotonic()
        while not stop.is_set():
            try:
                self.run_once(block_ms)
            except (redis.RedisError, OperationalError, DBAPIError):
                # Redis or the database is away; the batch stays pending and is read again.
                log.exception("ingest: batch failed; retrying")
                self._own_pending = True
                stop.wait(1.0)
            if self.event_log is not None and time.monotonic() >= next_replay:
                self.event_log.replay_spool()
                next_replay = time.monotonic() + replay_interval

    # -- reading ---------------------------------------------------------------------------

    def _read(self, block_ms: int | None) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
        # Our own pending entries first: left by a crash under this name, or just claimed.
        if self._own_pending:
            pending = self._xreadgroup("0", block_ms=None)
            if pending:
                return pending
            self._own_pending = False
        # Entries of consumers that died: XAUTOCLAIM makes them ours, and reading our pending
        # entries picks them up. (Redis 6.2 reports entries deleted meanwhile without an id;
        # the pending read returns them with one, to acknowledge.)
        claimed: Any = self.redis.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch_size,
        )
        if claimed[1]:
            self.claimed_total += len(claimed[1])
            log.warning("ingest: took over %d entries from dead consumers", len(claimed[1]))
            self._own_pending = True
            return self._xreadgroup("0", block_ms=None)
        return self._xreadgroup(">", block_ms=block_ms)

    def _xreadgroup(
        self, start: str, *, block_ms: int | None
    ) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
        response: Any = self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=self.batch_size, block=block_ms
        )
        if not response:
            return []
        _stream, entries = response[0]
        return list(entries)

    def _parse(self, entry_id: bytes, fields: dict[bytes, bytes] | None) -> Event | None:
        if not fields:
            return None  # deleted from the stream while pending; nothing to store
        try:
            decoded = {key.decode(): value.decode() for key, value in fields.items()}
            event = Event.from_fields(decoded)
            if event.at.tzinfo is None:
                raise ValueError("event time without a time zone")
            if len(event.id) > MAX_ID_LENGTH or len(event.call_sid) > MAX_ID_LENGTH:
                raise ValueError("id or call_sid too long")
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            # Never log the fields: they may hold a phone number.
            self.malformed_total += 1
            log.error("ingest: skipping malformed entry %s (%s)", entry_id.decode(), exc)
            return None
        event, unopened = open_numbers(event, self.seal)
        for field_ in unopened:
            self.unopened_numbers_total += 1
            log.error(
                "ingest: event %s: its %s was sealed under key %r, which is not configured "
                "(or does not open it); storing the event without it",
                event.id,
                field_.field,
                field_.key_id,
            )
        return event

    # -- writing ---------------------------------------------------------------------------

    def _store(self, events: list[Event]) -> set[str]:
        """Insert the batch in one transaction; returns the ids of events that were new."""
        try:
            with self.engine.begin() as connection:
                inserted = insert_events(connection, events, caller_key=self.caller_key)
                self._project(connection, events, inserted)
                return inserted
        except StatementError as exc:
            if _is_outage(exc):
                raise  # the database is away, not the data: the batch is read again later
            log.warning("ingest: batch insert failed (%s); inserting one by one", _name(exc))
        # One bad event (say, a value too long for PostgreSQL) must not block the stream:
        # insert one by one and drop only what still fails.
        new_ids: set[str] = set()
        for event in events:
            try:
                with self.engine.begin() as connection:
                    fresh = insert_events(connection, [event], caller_key=self.caller_key)
                    self._project(connection, [event], fresh)
                    new_ids |= fresh
            except StatementError as exc:
                if _is_outage(exc):
                    raise
                self.malformed_total += 1
                log.error("ingest: dropping event %s (%s)", event.id, _name(exc))
        return new_ids

    def _project(self, connection: Connection, events: list[Event], new_ids: set[str]) -> None:
        """Project the calls that got new events, in a savepoint of the batch's transaction."""
        touched = {event.call_sid for event in events if event.id in new_ids}
        if not touched:
            return
        try:
            with connection.begin_nested():
                project_calls(connection, call_sids=touched, projector=self.projector)
        except StatementError as exc:
            if _is_outage(exc):
                raise
            self._projection_failed(len(touched), _name(exc))
        except Exception:
            self._projection_failed(len(touched), "bug", trace=True)

    def _projection_failed(self, calls: int, why: str, *, trace: bool = False) -> None:
        # The events are the record and the rows are derived from them: the batch is stored
        # anyway, and the call's next event (or a rebuild) projects it again. The SQL error's
        # text would quote row values, so only its class is logged.
        self.projection_failures_total += 1
        log.error("ingest: projecting %d calls failed (%s)", calls, why, exc_info=trace)


def _is_outage(exc: StatementError) -> bool:
    """Whether a database error says "try again later" rather than "this data is bad"."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True  # connection lost, server shutting down, SQLite "database is locked"
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _name(exc: StatementError) -> str:
    # The exception's text can quote the row, and with it a number; its class says enough.
    return type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
