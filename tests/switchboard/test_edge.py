"""The edge, probed as an attacker would: forged and malformed bodies, other content types,
oversized and endless bodies, and the headers on every answer.

Every refusal asserts both what the client sees and that nothing was written: the event
stream's length, the spool directory and the signature-failure count.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from twilio.request_validator import RequestValidator

from switchboard.app import create_app
from switchboard.edge import BODY_LIMIT
from tests.fixtures.localhost import serving
from tests.switchboard.apphost import (
    PUBLIC,
    TOKEN,
    auth,
    inbound_params,
    make_production_app,
    make_settings,
    production_settings,
    signed_post,
)

OPEN = "2026-11-25T10:00:00+00:00"  # a Wednesday, 11:00 in Oslo: the switchboard is open
STREAM = "switchboard:events"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def app(tmp_path, redis_url, registry) -> FastAPI:
    return create_app(make_settings(tmp_path, redis_url), simulated_clock=True, registry=registry)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def nothing_written(redis_client, tmp_path: Path, registry) -> Iterator[None]:
    """After the test: no event in the stream and none in the spool."""
    yield
    assert redis_client.xlen(STREAM) == 0
    spool = tmp_path / "spool"
    assert not spool.exists() or not any(spool.iterdir())


def signature_failures(registry: CollectorRegistry, route: str = "/twilio/voice") -> float:
    return (
        registry.get_sample_value("switchboard_webhook_signature_failures_total", {"route": route})
        or 0.0
    )


def valid_signature(path: str, params: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(PUBLIC + path, params))


def post_signed_form(client: TestClient, params: dict[str, str], content_type: str):
    """Twilio's form with a valid signature, under the given content type."""
    return client.post(
        "/twilio/voice",
        content=urlencode(params).encode(),
        headers={
            "Content-Type": content_type,
            "X-Twilio-Signature": valid_signature("/twilio/voice", params),
            "X-Simulated-Time": OPEN,
        },
    )


@pytest.mark.usefixtures("nothing_written")
def test_forged_multipart_with_a_file_field_is_refused_and_counted(client, registry, caplog):
    # The finding: RequestValidator raised TypeError on the UploadFile, and the error path then
    # re-read the form without a check and wrote a queue_joined during opening hours.
    response = client.post(
        "/twilio/voice",
        data=inbound_params(),
        files={"upload": ("a.txt", b"x" * 100, "text/plain")},
        headers={"X-Twilio-Signature": "anything", "X-Simulated-Time": OPEN},
    )
    assert response.status_code == 403
    assert signature_failures(registry) == 1
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


@pytest.mark.usefixtures("nothing_written")
def test_correctly_signed_parameters_sent_as_multipart_are_refused(client, registry):
    # Twilio never sends multipart, so even a body whose fields carry a valid signature is
    # refused before it is parsed.
    params = inbound_params()
    response = client.post(
        "/twilio/voice",
        files={name: (None, value) for name, value in params.items()},
        headers={"X-Twilio-Signature": valid_signature("/twilio/voice", params)},
    )
    assert response.status_code == 403
    assert signature_failures(registry) == 1


@pytest.mark.usefixtures("nothing_written")
def test_malformed_multipart_without_a_signature_is_a_quiet_403(client, registry, caplog):
    response = client.post(
        "/twilio/menu?lang=nn&s=1",
        content=b"--broken\r\nContent-Disposition: form-data; name=\r\n\r\n\xff\xfe",
        headers={"Content-Type": "multipart/form-data; boundary=other"},
    )
    assert response.status_code == 403
    assert signature_failures(registry, "/twilio/menu") == 1
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "", "application/x-www-form-urlencoded-not"],
)
def test_any_other_content_type_is_refused_even_with_a_valid_signature(
    client, registry, content_type
):
    response = post_signed_form(client, inbound_params(), content_type)
    assert response.status_code == 403
    assert signature_failures(registry) == 1


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded; charset=utf-8", "Application/X-WWW-Form-Urlencoded"],
)
def test_twilio_form_with_a_charset_or_other_case_is_served(client, content_type):
    response = post_signed_form(client, inbound_params(FromCity="Ålesund"), content_type)
    assert response.status_code == 200
    assert "Velkomen til Alver kommune" in response.text


@pytest.mark.usefixtures("nothing_written")
def test_a_field_over_a_megabyte_is_refused_by_the_body_limit(client, registry):
    # Starlette's own 400 for a field over 1 MB used to become a spoken 200.
    response = client.post(
        "/twilio/voice",
        data=inbound_params(Digits="1" * 1_100_000),
        headers={"X-Twilio-Signature": "anything"},
    )
    assert response.status_code == 413
    assert response.json()["detail"]["error"] == "body_too_large"
    assert registry.get_sample_value("switchboard_http_body_too_large_total", {"area": "twilio"})


def test_a_body_just_under_the_limit_is_read_and_checked(client, registry):
    padding = "x" * (BODY_LIMIT - 2000)
    response = signed_post(client, "/twilio/voice", inbound_params(Pad=padding), at=OPEN)
    assert response.status_code == 200
    forged = client.post(
        "/twilio/voice",
        data=inbound_params(Pad=padding),
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403


def test_the_api_has_the_same_limit(client, registry):
    response = client.post(
        "/api/callbacks/1",
        content=b'{"status": "done", "pad": "' + b"x" * BODY_LIMIT + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert registry.get_sample_value("switchboard_http_body_too_large_total", {"area": "api"})


@pytest.mark.usefixtures("nothing_written")
def test_the_fallback_never_refuses_and_never_reads_the_body(client):
    # Over the limit, multipart, forged: the caller still gets the fallback's TwiML.
    response = client.post(
        "/twilio/fallback",
        data=inbound_params(ErrorCode="11200", Pad="x" * (2 * BODY_LIMIT)),
        files={"upload": ("a.txt", b"x", "text/plain")},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert response.status_code == 200
    assert "Orsak, vi har eit teknisk problem." in response.text


def test_a_verified_request_whose_step_fails_hears_the_error_path(
    tmp_path, redis_url, registry, redis_client
):
    # The spoken error path still runs, but only after verification: here a municipality file
    # with no departments makes the menu's step fail after the signature was checked.
    settings = make_settings(tmp_path, redis_url)
    app = create_app(settings, simulated_clock=True, registry=registry)
    services = app.state.services
    broken = services.ctx.config.model_copy(update={"departments": None})
    services.ctx = type(services.ctx)(
        config=broken, hours=services.ctx.hours, public_url=services.ctx.public_url
    )
    with TestClient(app) as client:
        response = signed_post(
            client,
            "/twilio/menu?lang=nn&s=1",
            inbound_params(Digits="2", CallStatus="in-progress"),
            at=OPEN,
        )
        forged = client.post(
            "/twilio/menu?lang=nn&s=1",
            data=inbound_params(Digits="2"),
            headers={"X-Twilio-Signature": "forged"},
        )
    assert response.status_code == 200
    assert "<Say" in response.text
    assert forged.status_code == 403
    assert registry.get_sample_value(
        "switchboard_webhook_error_path_total", {"route": "/twilio/menu"}
    )


# --- the same limits over a real socket, where the body really streams in ------------------


@pytest.fixture
def live_port(app) -> Iterator[int]:
    with serving(app) as port:
        yield port


def _status_line(sock: socket.socket) -> str:
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0].decode()


@pytest.mark.usefixtures("nothing_written")
def test_a_declared_huge_body_is_refused_before_it_is_sent(live_port):
    with socket.create_connection(("127.0.0.1", live_port), timeout=10) as sock:
        sock.sendall(
            b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"X-Twilio-Signature: forged\r\nContent-Length: 209715200\r\n\r\n"
        )
        # Not one byte of the 200 MB is sent: the answer comes anyway.
        assert _status_line(sock) == "HTTP/1.1 413 Request Entity Too Large"


@pytest.mark.usefixtures("nothing_written")
def test_an_endless_chunked_body_is_cut_off_at_the_limit(live_port):
    with socket.create_connection(("127.0.0.1", live_port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/callbacks/1 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 4096
        for _ in range(BODY_LIMIT // len(chunk) + 2):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        # The body never ends (no last chunk), yet the answer comes once the limit is passed.
        assert _status_line(sock) == "HTTP/1.1 413 Request Entity Too Large"


# --- headers --------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(client):
    for response in (
        client.get("/healthz"),
        client.get("/glossary"),
        client.get("/no-such-page"),
        client.post("/twilio/voice", data={}),
        signed_post(client, "/twilio/voice", inbound_params(), at=OPEN),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers
        assert "strict-transport-security" not in response.headers  # development: plain http


def test_html_may_load_only_from_the_service_itself(client):
    policy = client.get("/glossary").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy


def test_production_adds_hsts(tmp_path, redis_url):
    settings = production_settings(tmp_path, redis_url)
    with TestClient(make_production_app(settings)) as client:
        response = client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_even_a_server_error_carries_the_headers(app, tmp_path):
    # The database loses a table under the running service: Starlette's own 500 page, which
    # comes from its outermost middleware, still passes through the edge.
    import sqlite3

    with sqlite3.connect(tmp_path / "switchboard.db") as connection:
        connection.execute("DROP TABLE returns")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/returns", headers=auth("agent"))
    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.usefixtures("nothing_written")
def test_a_verification_that_raises_is_a_counted_refusal(tmp_path, redis_url, registry, caplog):
    # A token the HMAC cannot encode makes RequestValidator raise inside the check: the request
    # is refused like any unverified one, never served and never spoken to.
    settings = make_settings(tmp_path, redis_url, twilio_auth_token="\udc80")
    app = create_app(settings, simulated_clock=True, registry=registry)
    with TestClient(app) as client:
        response = client.post(
            "/twilio/voice",
            data=inbound_params(),
            headers={"X-Twilio-Signature": "anything", "X-Simulated-Time": OPEN},
        )
    assert response.status_code == 403
    assert signature_failures(registry) == 1
    assert "refused" in caplog.text
