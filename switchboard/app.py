"""The ASGI app: `switchboard.app:app`, built by `create_app()`.

Everything is built here, not at import of the other modules: the municipality config (the
app refuses to start on an invalid one, and in production on one that lets agents in by caller
ID alone), the argon2 PIN check the flow gets, the opening-hours calendar, the Redis client with
web timeouts, the event log with its spool, live state and the database engine.

The app serves no `/metrics` (see `switchboard/routes/metrics.py`); while it runs, its lifespan
keeps the event log's gauges current even when no webhook comes, and replays the events its
workers spooled while Redis was away. When it stops, the lifespan stops those two threads, then
releases what the app built: the engine's pooled connections, and the Redis client and the
Twilio REST client's HTTP session unless the caller passed them in (those are the caller's to
close).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import redis
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from twilio.rest import Client as TwilioClient

from ivr.call import Context
from ivr.config import Config, ConfigError
from ivr.fallback import fallback_twiml
from ivr.hours import Hours
from switchboard.access_log import drop_query_strings
from switchboard.db import make_engine
from switchboard.deps import Services
from switchboard.edge import Edge, EdgedApp
from switchboard.errors import install_error_handlers
from switchboard.eventlog import EventLog
from switchboard.lifeline import die_with_parent
from switchboard.livestate import LiveState
from switchboard.municipality import read_municipality
from switchboard.observability.web_metrics import WebMetrics
from switchboard.outbox import is_outbox
from switchboard.pages.renderer import STATIC_DIR
from switchboard.pins import pin_matches, require_agent_pins
from switchboard.presence import Presence
from switchboard.queue_moves import MOVE_TIMEOUT_SECONDS, QueueMoves
from switchboard.redis_client import web_redis
from switchboard.routes import (
    agents,
    callbacks,
    caller_offers,
    calls,
    console,
    directory,
    health,
    oidc_sign_in,
    queue,
    reports,
    returns,
    staff,
    stats,
    status_page,
    voice,
)
from switchboard.routes.docs import mount_docs
from switchboard.settings import Settings, get_settings
from switchboard.sign_in_limits import Limits, SignInLimits
from switchboard.staff_sessions import SessionStore
from switchboard.twilio_rest import close_twilio_client, twilio_client

log = logging.getLogger(__name__)


def load_config(path: Path) -> Config:
    """Read and validate the municipality file; ConfigError names the file and each problem."""
    try:
        return read_municipality(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    except ConfigError as exc:
        raise ConfigError([f"{path}: {error}" for error in exc.errors]) from None


def create_app(
    settings: Settings | None = None,
    *,
    config: Config | None = None,
    redis_client: redis.Redis | None = None,
    simulated_clock: bool = False,
    registry: CollectorRegistry | None = None,
    twilio: TwilioClient | None = None,
    gauge_sync_seconds: float = 5.0,
    spool_replay_seconds: float = 2.0,
) -> FastAPI:
    """The app; `gauge_sync_seconds` is how often an idle worker refreshes the event log's
    gauges (Prometheus scrapes every 15 s), `spool_replay_seconds` how often it looks for
    spooled events to replay (a stat of an empty directory while Redis answers)."""
    settings = settings or get_settings()
    config = config or load_config(settings.config)
    warning = require_agent_pins(config, env=settings.env)  # raises in production
    if warning:
        log.warning("%s", warning)
    # What the app builds, its lifespan closes; what a caller passes in is the caller's.
    owns_redis, owns_twilio = redis_client is None, twilio is None
    client = redis_client or web_redis(settings)
    rest = twilio or twilio_client(settings)
    events = EventLog.from_settings(settings, redis=client)
    live = LiveState(
        client, available=lambda: events.state != "open", on_failure=events.report_failure
    )
    # Moving callers to an agent's queue needs Twilio's REST API; the agent line waits on it,
    # so its client gives up sooner (queue_moves.MOVE_TIMEOUT_SECONDS). None in development.
    moves_rest = (
        None if is_outbox(rest) else twilio or twilio_client(settings, timeout=MOVE_TIMEOUT_SECONDS)
    )
    moves = QueueMoves(client, moves_rest, live=live) if moves_rest is not None else None
    services = Services(
        settings=settings,
        ctx=Context(
            config=config,
            hours=Hours(config),
            public_url=settings.public_url,
            pin_matches=pin_matches,
            retain_callback_days=settings.retain_callback_days,
            mover=moves,
        ),
        events=events,
        live=live,
        moves=moves,
        presence=Presence(client, live, moves_rest),
        redis=client,
        engine=make_engine(settings.sqlalchemy_url),
        fallback_xml=fallback_twiml(config),
        twilio=rest,
        sessions=SessionStore(
            client,
            idle_seconds=settings.session_idle_minutes * 60,
            max_seconds=settings.session_max_hours * 3600,
        ),
        sign_in_limits=SignInLimits(
            client,
            Limits(
                per_account=settings.sign_in_failures_per_account,
                per_address=settings.sign_in_failures_per_address,
                window_seconds=settings.sign_in_window_minutes * 60,
            ),
        ),
        simulated_clock=simulated_clock,
        api_tokens=tuple(settings.accepted_api_tokens),
    )
    # Its own registry per app (tests build many); in multiprocess mode `serve` reads files.
    web = WebMetrics(
        registry if registry is not None else CollectorRegistry(),
        routes=[route.path for route in voice.router.routes if hasattr(route, "path")],
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        syncing = web.follow_event_log(events, every=gauge_sync_seconds, stop=stop)
        # The web process drains its own spool: with `--no-embedded-workers` (compose) no
        # other process on this host may see it. Workers sharing the directory each replay;
        # the spool's rename and flock hand every file to exactly one of them.
        replaying = events.start_replayer(interval=spool_replay_seconds, stop=stop)
        try:
            yield
        finally:
            stop.set()
            syncing.join(timeout=5)
            replaying.join(timeout=5)
            services.engine.dispose()
            await console.close_feed_reader(_app)
            if owns_redis:
                client.close()
            if owns_twilio:
                close_twilio_client(rest)
                if moves_rest is not None:
                    close_twilio_client(moves_rest)

    app = EdgedApp(
        docs_url=None,  # served by routes/docs.py: offline, and behind a token in production
        redoc_url=None,
        openapi_url=None,
        title=f"Switchboard: {config.municipality.name}",
        summary="Twilio IVR webhooks, opening hours, routing and queues for the switchboard.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = web
    # Outermost: the body limit and the security headers apply to every answer, 404s and 500s
    # included.
    app.edge = partial(
        Edge, production=settings.env == "production", on_too_large=web.body_too_large
    )
    app.include_router(voice.router)
    app.include_router(health.router)
    app.include_router(calls.router)
    app.include_router(caller_offers.router)
    app.include_router(directory.router)
    app.include_router(queue.router)
    app.include_router(agents.router)
    app.include_router(status_page.router)
    app.include_router(callbacks.router)
    app.include_router(returns.router)
    app.include_router(stats.router)
    app.include_router(staff.router)
    app.include_router(oidc_sign_in.router)
    app.include_router(reports.router)
    app.include_router(console.router)
    app.mount("/agent/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
    mount_docs(app, departments=[d.id for d in config.departments])
    install_error_handlers(app)
    return app


def __getattr__(name: str) -> FastAPI:
    # `switchboard.app:app` for uvicorn, built on first use rather than at import, so that
    # importing this module (tests, the CLI) never reads the environment or the config.
    if name == "app":
        _die_with_the_uvicorn_process()
        drop_query_strings()
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)


def _die_with_the_uvicorn_process() -> None:
    """In a web worker uvicorn spawned (`--workers` above 1): die with the uvicorn process, which
    `serve`'s lifeline kills with `serve` (switchboard/lifeline.py). With one worker, uvicorn
    loads the app in its own process, which has no multiprocessing parent: nothing to do."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent=parent.pid)
