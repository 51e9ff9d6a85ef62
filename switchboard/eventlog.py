"""The event log: how a webhook hands its call events to the workers without waiting on them.

`EventLog.append` XADDs events to the Redis Stream. It never raises and never waits much longer
than one Redis timeout (0.2 s), because the caller is a live phone call: when Redis fails, the
events go to the local spool (`switchboard.spool`) and a circuit breaker opens, so that for the
next `breaker_open_seconds` events go straight to the spool instead of each paying the timeout.
After that period one append (or replay) probes Redis ("half-open"); success closes the breaker.

Spooled events come back through `replay_spool()`, from two places. The web process runs it in
a background thread (`EventLog.start_replayer`, started in the app's lifespan in
switchboard/app.py), so a host's spool is drained by the processes that wrote it, which also
holds when the worker runs in another container. The ingest consumer calls it between reads
when it is given the event log (`workers.ingest.Ingestor.run_forever`, as `switchboard ingest`
does), for a spool directory it shares; the spool's rename and flock hand every file to exactly
one of them. Every event carries its UUID into the stream, so the ingest drops a copy that was
both XADDed and replayed.

Caller numbers never reach the stream or the spool in plain: `append` seals every number field
(`ivr.events.NUMBER_FIELDS`) under the current key first, and only the ingest opens them
(switchboard/sealing.py, docs/privacy.md). Values already sealed are left alone.

Breaker states:

    closed --failure--> open --after breaker_open_seconds--> half_open
       ^                  ^                                      |
       +----success-------+-------------failure------------------+
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

import redis

from ivr.events import Event
from switchboard.sealing import NumberSeal, development_keys, reseal_fields, seal_numbers
from switchboard.settings import Settings
from switchboard.spool import Spool

log = logging.getLogger(__name__)

BreakerState = Literal["closed", "open", "half_open"]

# XADD MAXLEN ~ bounds the stream's memory. A million small events is a few hundred MB at most
# and weeks of traffic; the ingest acknowledges entries within seconds, so trimming only ever
# drops entries that are long in SQL.
STREAM_MAXLEN = 1_000_000


class EventLog:
    def __init__(
        self,
        *,
        redis: redis.Redis,
        stream: str,
        spool: Spool,
        breaker_open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        maxlen: int = STREAM_MAXLEN,
        seal: NumberSeal | None = None,
    ) -> None:
        self._redis = redis
        # None: the public development key (tests and benches); from_settings passes the real one.
        self.seal = seal or NumberSeal.from_text(development_keys())
        self._stream = stream
        self.spool = spool
        self._open_seconds = breaker_open_seconds
        self._clock = clock
        self._maxlen = maxlen
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._open_until = 0.0
        self._probing = False
        self.appended_total = 0
        self.spooled_total = 0
        self.replayed_total = 0
        self.redis_failures_total = 0
        self.lost_total = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, redis: redis.Redis) -> EventLog:
        """Pass a client from `switchboard.redis_client.web_redis` in web processes."""
        return cls(
            redis=redis,
            stream=settings.stream,
            spool=Spool(settings.effective_spool_dir),
            breaker_open_seconds=settings.breaker_open_seconds,
            seal=settings.number_seal,
        )

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state == "open" and self._clock() >= self._open_until:
                return "half_open"
            return self._state

    def append(self, events: Sequence[Event]) -> None:
        if not events:
            return
        events = [seal_numbers(event, self.seal) for event in events]
        if self._admit():
            try:
                self._xadd([event.to_fields() for event in events])
            except Exception as exc:  # any failure must fall back to the spool
                self._record_failure(exc)
            else:
                self._record_success(appended=len(events))
                return
        self._spool(events)

    def replay_spool(self) -> int:
        """Push spooled events to the stream; returns how many were pushed. Never raises."""
        if self.spool.is_empty() or not self._admit():
            return 0
        pushed = 0
        redis_error: Exception | None = None

        def push(chunk: list[dict[str, str]]) -> None:
            nonlocal pushed, redis_error
            # Lines spooled before numbers were sealed get sealed on their way to the stream.
            chunk = [
                reseal_fields(fields, self.seal, older_keys=False) or fields for fields in chunk
            ]
            try:
                self._xadd(chunk)
            except Exception as exc:
                redis_error = exc
                raise
            pushed += len(chunk)

        try:
            self.spool.replay(push)
        except Exception:  # a replay is retried on the next round, whatever went wrong
            if redis_error is not None:
                self._record_failure(redis_error)
            else:
                # The spool itself failed (disk, permissions): not a reason to stop using Redis.
                log.exception("could not replay the spool in %s", self.spool.directory)
                self._release_probe(redis_worked=pushed > 0)
        else:
            self._record_success(appended=0)
        with self._lock:
            self.replayed_total += pushed
        if pushed:
            log.info("replayed %d spooled events to %s", pushed, self._stream)
        return pushed

    def start_replayer(self, *, interval: float, stop: threading.Event) -> threading.Thread:
        """Replay the spool every `interval` seconds until `stop` is set (web lifespan)."""

        def run() -> None:
            while not stop.wait(interval):
                self.replay_spool()

        thread = threading.Thread(target=run, name="spool-replayer", daemon=True)
        thread.start()
        return thread

    def _xadd(self, entries: list[dict[str, str]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(
                self._stream,
                fields,  # type: ignore[arg-type]  # redis-py's stub wants a wider dict type
                maxlen=self._maxlen,
                approximate=True,
            )
        pipe.execute()

    def _admit(self) -> bool:
        """Whether this call may use Redis now; grants the single half-open probe."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._probing or self._clock() < self._open_until:
                return False
            self._state = "half_open"
            self._probing = True
            return True

    def _record_success(self, *, appended: int) -> None:
        with self._lock:
            if self._state != "closed":
                log.info("redis is reachable again; event log breaker closed")
            self._state = "closed"
            self._probing = False
            self.appended_total += appended

    def _release_probe(self, *, redis_worked: bool) -> None:
        if redis_worked:
            self._record_success(appended=0)
            return
        with self._lock:
            if self._state == "half_open":
                self._state = "open"  # still due: the next append or replay probes again
            self._probing = False

    def report_failure(self, exc: Exception) -> None:
        """Another user of the same Redis (live state) saw it fail: open the breaker, so the
        event append that follows in the same webhook does not wait for a timeout too."""
        self._record_failure(exc)

    def _record_failure(self, exc: Exception) -> None:
        with self._lock:
            self._state = "open"
            self._probing = False
            self._open_until = self._clock() + self._open_seconds
            self.redis_failures_total += 1
        log.warning(
            "redis unavailable (%s); spooling events for %.0f s",
            type(exc).__name__,
            self._open_seconds,
        )

    def _spool(self, events: Sequence[Event]) -> None:
        try:
            self.spool.append(events)
        except Exception:
            with self._lock:
                self.lost_total += len(events)
            # Kinds only: event data can hold a phone number.
            log.exception(
                "could not spool %d events (%s); they are lost",
                len(events),
                ",".join(sorted({event.kind for event in events})),
            )
        else:
            with self._lock:
                self.spooled_total += len(events)
