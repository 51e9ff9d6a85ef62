"""The live feed: small deltas of the queues, in a capped Redis stream, for the agent console.

Every live-state write that changes who waits (`switchboard.livestate`) also XADDs a delta to
`FEED_KEY` in the same pipeline: no extra round trip on the webhook path. A delta never holds
a number: the caller is the pseudonym's short form. The stream is capped (`MAXLEN ~`), so a
reader that was away too long gets a snapshot instead (`FeedReader.resume`).

Kinds of delta (the `kind` field, the SSE event name):

- `join`: a caller joined a queue (`fields`: the waiting caller, as `waiting_caller` gives it);
- `leave`: a caller left a queue (`call_sid`, `queue`);
- `flag`: the ingest worked out that a waiting caller came back (hand_back or recall).

The reader is async (`redis.asyncio`): an open console must never hold a thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import redis.asyncio as aioredis

FEED_KEY = "switchboard:live-feed"
FEED_MAXLEN = 10_000
SHORT_CALLER = 6
# The queues the console shows, in Twilio's order of service (returns are taken first).
QUEUES = ("returns", "main")
QUEUE_PREFIX = "sb:live:queue:"
MEMBER_PREFIX = "sb:live:member:"
STALE_SECONDS = 150  # as switchboard.livestate.STALE_MEMBER_SECONDS


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def stage(pipe: redis.client.Pipeline, kind: str, data: dict[str, Any], *, at: datetime) -> None:
    """Add one delta to a pipeline that writes live state."""
    body = json.dumps({**data, "at": at.timestamp()}, separators=(",", ":"))
    pipe.xadd(
        FEED_KEY,
        {"kind": kind, "data": body},
        maxlen=FEED_MAXLEN,
        approximate=True,
    )


def waiting_caller(call_sid: str, fields: dict[str, str]) -> dict[str, Any]:
    """What the console shows of a waiting caller; from a member hash's fields."""
    department = fields.get("department") or ""
    kind = fields.get("kind") or ("bounce" if department else "")
    return {
        "call_sid": call_sid,
        "queue": fields.get("queue", ""),
        "visit": fields.get("visit", ""),
        "language": fields.get("language", ""),
        "joined": float(fields.get("joined") or 0),
        "caller": fields.get("caller", "")[:SHORT_CALLER],
        "path": [step for step in fields.get("path", "").split("|") if step],
        "department": department,
        "cause": fields.get("cause", ""),
        "kind": kind,
        "initiator": fields.get("initiator") or ("ivr" if kind == "bounce" else ""),
    }


@dataclass(frozen=True)
class Delta:
    id: str
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    id: str  # the newest delta the snapshot includes ("0-0": none yet)
    at: float
    waiting: list[dict[str, Any]]


class FeedReader:
    """Reads the feed and the queues for one console connection, without blocking a thread."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def newest(self) -> Delta | None:
        entries = await self._redis.xrevrange(FEED_KEY, count=1)
        return _delta(entries[0]) if entries else None

    async def snapshot(self, *, at: float | None) -> Snapshot:
        """Who waits now; `at` None reads the clock of the newest delta (a simulated clock)."""
        newest = await self.newest()
        last_id = newest.id if newest else "0-0"
        if at is None:
            at = float(newest.data.get("at", 0)) if newest else 0.0
        waiting: list[dict[str, Any]] = []
        for queue in QUEUES:
            sids = await self._redis.zrangebyscore(QUEUE_PREFIX + queue, at - STALE_SECONDS, "+inf")
            for raw_sid in sids:
                sid = _text(raw_sid)
                raw = await self._redis.hgetall(MEMBER_PREFIX + sid)
                fields = {_text(k): _text(v) for k, v in raw.items()}
                if fields.get("queue") == queue:
                    waiting.append(waiting_caller(sid, fields))
        waiting.sort(key=lambda caller: (QUEUES.index(caller["queue"]), caller["joined"]))
        return Snapshot(id=last_id, at=at, waiting=waiting)

    async def still_has(self, last_id: str) -> bool:
        """Whether every delta after `last_id` is still in the stream."""
        oldest = await self._redis.xrange(FEED_KEY, count=1)
        if not oldest:
            return False
        first = _delta(oldest[0]).id
        return _order(last_id) >= _order(first)

    async def after(self, last_id: str, *, block_ms: int) -> list[Delta]:
        """The deltas after `last_id`, waiting up to `block_ms` for one."""
        found: Any = await self._redis.xread({FEED_KEY: last_id}, block=block_ms, count=100)
        return [_delta(entry) for _stream, entries in found for entry in entries]


def _delta(entry: Any) -> Delta:
    """A stream entry (its id, then its fields) as a delta."""
    entry_id, fields = entry
    values = {_text(k): _text(v) for k, v in fields.items()}
    return Delta(id=_text(entry_id), kind=values.get("kind", ""), data=json.loads(values["data"]))


def _order(entry_id: str) -> tuple[int, int]:
    millis, _, seq = entry_id.partition("-")
    try:
        return int(millis), int(seq or 0)
    except ValueError:
        return (0, 0)


def valid_id(entry_id: str) -> bool:
    return _order(entry_id) != (0, 0) and entry_id.count("-") == 1
