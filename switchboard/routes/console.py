"""The agent console: the page, and its Server-Sent Events of the live queue.

- `GET /agent/console`: the console (agents; managers read it without taking anyone). An
  agent's `/agent/` is this page too (switchboard/routes/staff.py).
- `GET /agent/events`: the live queue as Server-Sent Events (docs/console.md). On connect a
  `snapshot`, then each delta of the live feed (switchboard/live_feed.py) with the stream's id;
  with `Last-Event-ID`, only the deltas after it (a snapshot if the feed no longer has them).
  The handler is async on `redis.asyncio`: an open tab holds no thread.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from redis.exceptions import RedisError

from switchboard.access import Principal
from switchboard.deps import (
    Services,
    ServicesDep,
    SignInRequired,
    allow_page,
    refuse_role,
    staff_session,
)
from switchboard.live_feed import FeedReader, Snapshot, valid_id
from switchboard.pages.console_wording import client_wording
from switchboard.pages.renderer import page_language, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

ConsoleViewer = Annotated[Principal, Depends(allow_page("agent", "manager"))]
HEARTBEAT_SECONDS = 15.0
BLOCK_MS = 1000  # how often a quiet stream looks whether the client is still there
RETRY_MS = 2000
READ_SLACK_SECONDS = 4.0  # a blocking read's socket timeout beyond its BLOCK_MS


def console_page(request: Request, services: Services, who: Principal) -> HTMLResponse:
    language = page_language(request, services)
    return render(
        request,
        services,
        "console.html",
        title_key="console_title",
        who=who,
        can_take=who.role == "agent" and bool(who.agent_id),
        client_words=client_wording(language, services),
    )


@router.get("/agent/console", response_class=HTMLResponse)
def console(request: Request, services: ServicesDep, who: ConsoleViewer) -> HTMLResponse:
    return console_page(request, services, who)


def stream_viewer(request: Request, services: ServicesDep) -> Principal:
    """`allow_page("agent", "manager")` for the event stream, by session only, as a sync
    dependency: FastAPI runs it in the threadpool, so the session lookup (sync Redis, and SQL
    for a password session) never runs on the event loop."""
    session = staff_session(request, services)
    if session is None:
        raise SignInRequired(request.url.path)
    refuse_role(session.principal, ("agent", "manager"))
    return session.principal


StreamViewer = Annotated[Principal, Depends(stream_viewer)]


def feed_reader(request: Request, services: Services) -> FeedReader:
    """One async Redis client per app, made on first use. Its reads block for BLOCK_MS at a
    time, so the socket timeout is a few seconds longer: a read that hangs past it (a dead
    connection) raises, which ends the stream, and the browser reconnects with its last id."""
    client: aioredis.Redis | None = getattr(request.app.state, "feed_redis", None)
    if client is None:
        client = aioredis.Redis.from_url(
            services.settings.effective_redis_url,
            socket_connect_timeout=2.0,
            socket_timeout=BLOCK_MS / 1000 + READ_SLACK_SECONDS,
        )
        request.app.state.feed_redis = client
    return FeedReader(client)


async def close_feed_reader(app: Any) -> None:
    """At shutdown: close the console's async Redis client, if one was made."""
    client: aioredis.Redis | None = getattr(app.state, "feed_redis", None)
    if client is not None:
        app.state.feed_redis = None
        await client.aclose()


def message(kind: str, data: dict[str, Any], *, event_id: str = "") -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def snapshot_message(snapshot: Snapshot) -> str:
    body = {"at": snapshot.at, "waiting": snapshot.waiting}
    return message("snapshot", body, event_id=snapshot.id)


async def events(
    request: Request, reader: FeedReader, *, last_id: str, at: float | None
) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    try:
        if last_id and valid_id(last_id) and await reader.still_has(last_id):
            cursor = last_id
        else:
            snapshot = await reader.snapshot(at=at)
            cursor = snapshot.id
            yield snapshot_message(snapshot)
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            deltas = await reader.after(cursor, block_ms=BLOCK_MS)
            for delta in deltas:
                cursor = delta.id
                yield message(delta.kind, delta.data, event_id=delta.id)
            if deltas:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": heartbeat\n\n"
    except RedisError as exc:
        # The browser reconnects after `retry` with the last id it saw.
        log.warning("live feed unreadable, the console reconnects: %s", exc)


@router.get("/agent/events")
async def live_events(
    request: Request, services: ServicesDep, who: StreamViewer
) -> StreamingResponse:
    last_id = request.headers.get("last-event-id", "")
    # A simulated clock (tests) has no "now" without the simulator's header: the snapshot
    # then reads the time of the newest delta.
    simulated = services.simulated_clock and "x-simulated-time" not in request.headers
    at = None if simulated else services.now(request).timestamp()
    return StreamingResponse(
        events(request, feed_reader(request, services), last_id=last_id, at=at),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
