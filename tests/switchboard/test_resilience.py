"""A voice webhook always answers with valid Norwegian TwiML: on errors, with Redis down,
with the database down. Events that cannot reach Redis wait in the local spool."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from switchboard.redis_client import connect_redis
from tests.switchboard.apphost import inbound_params, make_app, make_settings, signed_post

OPEN = "2026-11-25T10:00:00+00:00"


def _assert_twiml(response, *, says: str):
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    assert says in response.text


def test_an_exception_in_a_voice_route_becomes_spoken_twiml(tmp_path, redis_url):
    with TestClient(make_app(make_settings(tmp_path, redis_url))) as client:
        response = signed_post(
            client,
            "/twilio/department/closed?lang=nn&s=2&d=no_such_department",
            inbound_params(Digits="1", CallStatus="in-progress"),
            at=OPEN,
        )
    _assert_twiml(response, says="Orsak, vi har eit teknisk problem.")
    assert ">sentralbord</Enqueue>" in response.text  # open: the caller still reaches a person


def test_redis_down_still_answers_and_spools_the_events(tmp_path):
    dead = f"unix://{tmp_path}/no-redis.sock"
    settings = make_settings(tmp_path, dead, redis_timeout_seconds=0.2)
    client_redis = connect_redis(dead, timeout=0.2, connect_timeout=0.2)
    with TestClient(make_app(settings, client_redis)) as client:
        response = signed_post(client, "/twilio/voice", inbound_params(), at=OPEN)
        _assert_twiml(response, says="Velkomen til Alver kommune")
        menu = signed_post(
            client,
            "/twilio/menu?lang=nn&s=1&n=0",
            inbound_params(Digits="0", CallStatus="in-progress"),
            at=OPEN,
        )
        _assert_twiml(menu, says="Du blir sett over til sentralbordet.")
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("down")
    spooled = "".join(p.read_text() for p in (tmp_path / "spool").glob("*"))
    assert "call_started" in spooled
    assert "queue_joined" in spooled


def test_database_down_does_not_touch_the_webhook(tmp_path, redis_url):
    settings = make_settings(
        tmp_path, redis_url, database_url="postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"
    )
    with TestClient(make_app(settings)) as client:
        _assert_twiml(
            signed_post(client, "/twilio/voice", inbound_params(), at=OPEN), says="Velkomen"
        )
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("down")
    assert ready.json()["checks"]["redis"] == "ok"


def test_health_is_up_and_ready_when_both_answer(tmp_path, redis_url):
    with TestClient(make_app(make_settings(tmp_path, redis_url))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200


def _connections_made(listener: socket.socket) -> int:
    """How many connections reached the silent listener (drains its accept queue)."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_a_hung_redis_costs_one_timeout_then_the_breaker_skips_it(tmp_path):
    """Redis accepts connections but never answers: the live-state read times out once, opens
    the shared breaker, and the event append goes straight to the spool."""
    path = tmp_path / "hung.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)  # the kernel accepts; nobody ever reads or answers
    try:
        url = f"unix://{path}"
        settings = make_settings(tmp_path, url)
        app = make_app(settings, connect_redis(url, timeout=0.2, connect_timeout=0.2))
        with TestClient(app) as client:
            response = signed_post(client, "/twilio/voice", inbound_params(), at=OPEN)
            events = app.state.services.events
            _assert_twiml(response, says="Velkomen til Alver kommune")
            assert events.state == "open"
            assert events.spooled_total == 1
        assert _connections_made(listener) == 1  # the append did not try (and wait) again
    finally:
        listener.close()
