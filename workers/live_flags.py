"""Flags for the console's live queue that only the ingest can raise.

A bounce is known at the webhook (`switchboard.livestate` writes it with the queue join). A
hand-back or a recall is worked out here, from the SQL history (`workers.returns`), so the
ingest flags a caller who still waits: the waiting caller's member hash gets the return's
kind, department, cause and initiator, and the live feed a `flag` delta
(`switchboard.live_feed`), in one pipeline. The flag appears within the ingest's lag.

Best effort, like all live state: a Redis or database error is logged, and the next batch
that touches the call flags it again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

import redis
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from switchboard import live_feed
from switchboard.livestate import member_key
from switchboard.models import ReturnRecord

log = logging.getLogger(__name__)


def flag_waiting_returns(
    client: redis.Redis, engine: Engine, call_sids: Collection[str], *, at: datetime
) -> int:
    """Flag the callers among `call_sids` who came back (hand-back, recall) and still wait in
    live state; how many were flagged."""
    if not call_sids:
        return 0
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    ReturnRecord.call_sid,
                    ReturnRecord.kind,
                    ReturnRecord.department,
                    ReturnRecord.cause,
                    ReturnRecord.initiator,
                    ReturnRecord.detected_at,
                )
                .where(ReturnRecord.call_sid.in_(sorted(call_sids)), ReturnRecord.kind != "bounce")
                .order_by(ReturnRecord.detected_at)
            ).all()
        if not rows:
            return 0
        # The latest return of each call: the one that brought the caller to this queue.
        latest = {row.call_sid: row for row in rows}
        waiting = client.pipeline(transaction=False)
        for sid in latest:
            waiting.hget(member_key(sid), "queue")
        queues = waiting.execute()
        pipe = client.pipeline(transaction=False)
        flagged = 0
        for (sid, row), queue in zip(latest.items(), queues, strict=True):
            if not queue:
                continue  # not waiting (or no longer known): nothing to flag
            flag = {
                "kind": row.kind,
                "department": row.department,
                "cause": row.cause or "",
                "initiator": row.initiator,
            }
            pipe.hset(member_key(sid), mapping=cast(Any, flag))
            live_feed.stage(pipe, "flag", {"call_sid": sid, **flag}, at=at)
            flagged += 1
        if flagged:
            pipe.execute()
        return flagged
    except (redis.RedisError, SQLAlchemyError) as exc:
        log.warning("ingest: waiting returned callers not flagged: %s", exc)
        return 0
