"""The worker's Twilio client gives up: an SMS job against a Twilio that never answers ends
after the REST timeout, not at RQ's job timeout."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from switchboard.models import SmsMessage
from switchboard.twilio_rest import REST_TIMEOUT_SECONDS
from tests.fixtures.calls import Call, oslo
from tests.workers.conftest import job_settings
from workers.context import activated, build_context
from workers.event_rows import insert_events
from workers.sms import send_sms

TIMEOUT = 1.0
BOUND = 10.0  # generous: the client must give up long before this, and RQ's 180 s


@contextmanager
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """A loopback server that accepts connections and never answers; yields its port and an
    event set once a connection was accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was shut down
            held.append(connection)
            accepted.set()

    thread = threading.Thread(target=serve, name="silent-twilio", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        for connection in held:
            connection.close()


def test_an_sms_job_gives_up_on_a_twilio_that_never_answers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().sms(to="+4791234567")
    with engine.begin() as connection:
        insert_events(connection, call.events, caller_key="test-key")
    with Session(engine) as session:
        sms_id = session.scalars(select(SmsMessage.id)).one()

    with silent_server() as (port, accepted):
        # The SDK's requests session goes to api.twilio.com through this "proxy", which
        # takes the connection and never answers: a Twilio that hangs.
        for name in ("https_proxy", "HTTPS_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        context = build_context(job_settings(), engine=engine, rest_timeout=TIMEOUT)
        started = time.monotonic()
        with activated(context):
            status = send_sms(sms_id=sms_id, to="+4791234567", body="Hei")
        took = time.monotonic() - started
        assert accepted.wait(timeout=5), "the client never reached the silent server"

    assert status == "failed"  # no RQ job around it, so no retry is left
    assert TIMEOUT <= took < BOUND
    with Session(engine) as session:
        row = session.get(SmsMessage, sms_id)
        assert row is not None
        assert (row.status, (row.error or "").startswith("no answer from twilio")) == (
            "failed",
            True,
        )


def test_the_worker_context_uses_the_rest_timeout_by_default(engine: Engine) -> None:
    context = build_context(job_settings(), engine=engine)
    assert context.twilio.http_client.timeout == REST_TIMEOUT_SECONDS
