"""What a job needs from the outside world, handed over by the worker process that runs it.

RQ finds a job function by its dotted name and gives it only serialisable arguments (ids, a
number, a text), so an engine or a Twilio client cannot be passed in. Instead the worker
(`workers.queues.make_worker`) activates a `JobContext` around every job it performs, and the
job reads it with `current_context()`. Production builds one from the settings with
`build_context`, whose Twilio client is `switchboard.twilio_rest.twilio_client`'s (with its REST
timeout, so an SMS job cannot hang on Twilio); tests build theirs the same way with a fake
Twilio `http_client`, and run jobs in a `SimpleWorker`.

A forking worker builds the context once in the parent; each forked work horse then
inherits it (see `make_worker` for how the engine's pool survives the fork).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Engine
from twilio.http import HttpClient
from twilio.rest import Client as TwilioClient

from switchboard.db import make_engine
from switchboard.settings import Settings
from switchboard.twilio_rest import REST_TIMEOUT_SECONDS, twilio_client


@dataclass(frozen=True, kw_only=True)
class JobContext:
    engine: Engine
    twilio: TwilioClient
    # An alphanumeric sender id or a number; a Messaging Service SID ("MG...") also works.
    sms_from: str


_current: ContextVar[JobContext | None] = ContextVar("switchboard_job_context", default=None)


def build_context(
    settings: Settings,
    *,
    engine: Engine | None = None,
    http_client: HttpClient | None = None,
    rest_timeout: float = REST_TIMEOUT_SECONDS,
) -> JobContext:
    """The production context; `http_client` is the seam where tests put a fake Twilio, and
    `rest_timeout` bounds every Twilio request (seconds)."""
    return JobContext(
        engine=engine or make_engine(settings.sqlalchemy_url),
        twilio=twilio_client(settings, http_client=http_client, timeout=rest_timeout),
        sms_from=settings.sms_from,
    )


@contextmanager
def activated(context: JobContext) -> Iterator[JobContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_context() -> JobContext:
    context = _current.get()
    if context is None:
        raise RuntimeError(
            "no job context: run jobs in a worker from workers.queues.make_worker, "
            "or inside workers.context.activated(...)"
        )
    return context
