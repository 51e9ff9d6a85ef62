"""A tiny TwiML server for the simulator's tests, and a simulator wired to it.

The server answers each path with a canned document (or a function of the request), checks
every request's signature the way our real edge does (public origin + raw path + raw query,
with the raw form), and keeps what it received so tests can assert on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from sim.twilio import PhoneNumberConfig, TwilioSimulator

PUBLIC = "https://ivr.example.no"  # deliberately not TestClient's http://testserver
TOKEN = "simulator-test-token"
MAIN = "+4756375000"
CALLER = "+4791234567"
START = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    form: dict[str, str]
    items: list[tuple[str, str]]
    headers: dict[str, str]
    url: str  # as rebuilt for the signature check
    signature_valid: bool


Reply = str | Response | None | Callable[[Received], "str | Response | None"]


class TwimlServer:
    def __init__(self) -> None:
        self.documents: dict[str, Reply] = {}
        self.received: list[Received] = []
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._handle, methods=["GET", "POST"])

    def on(self, path: str, reply: Reply) -> None:
        """Serve `reply` at `path`: TwiML text, a Response, None (204), or a function."""
        self.documents[path] = reply

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def _handle(self, request: Request) -> Response:
        form = await request.form()
        raw_path = request.scope["raw_path"].decode()
        query = request.scope["query_string"].decode()
        url = PUBLIC + raw_path + (f"?{query}" if query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        params = form if request.method == "POST" else {}
        received = Received(
            method=request.method,
            path=raw_path,
            query=query,
            form={k: str(v) for k, v in form.items()},
            items=[(k, str(v)) for k, v in form.multi_items()],
            headers=dict(request.headers),
            url=url,
            signature_valid=RequestValidator(TOKEN).validate(url, params, signature),
        )
        self.received.append(received)
        if not received.signature_valid:
            return Response(status_code=403)
        if raw_path not in self.documents:
            return Response(status_code=404)
        reply = self.documents[raw_path]
        if callable(reply) and not isinstance(reply, Response):  # a Response is an ASGI app
            reply = reply(received)
        if reply is None:
            return Response(status_code=204)
        if isinstance(reply, Response):
            return reply
        return Response(content=reply, media_type="text/xml")


def twiml(*verbs: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?><Response>" + "".join(verbs) + "</Response>"


@pytest.fixture
def server() -> TwimlServer:
    return TwimlServer()


@pytest.fixture
def client(server: TwimlServer) -> Iterator[TestClient]:
    with TestClient(server.app) as test_client:
        yield test_client


SimFactory = Callable[..., TwilioSimulator]


@pytest.fixture
def make_sim(client: TestClient) -> SimFactory:
    def make(**overrides: object) -> TwilioSimulator:
        options: dict[str, object] = {
            "http": client,
            "auth_token": TOKEN,
            "numbers": {
                MAIN: PhoneNumberConfig(
                    voice_url=f"{PUBLIC}/voice",
                    status_callback_url=f"{PUBLIC}/status",
                    fallback_url=f"{PUBLIC}/fallback",
                )
            },
            "start": START,
        }
        options.update(overrides)
        return TwilioSimulator(**options)  # type: ignore[arg-type]

    return make
