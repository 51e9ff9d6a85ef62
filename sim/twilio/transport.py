"""Twilio's side of HTTP: signed form requests through an injected client, judged as Twilio does.

The client is anything with httpx's `request()`: a `fastapi.testclient.TestClient(app)` runs the
app in-process (it routes by path and ignores the host, so public URLs work unchanged), and an
`httpx.Client(timeout=15)` talks to a live server. Every request says the virtual time in
`X-Simulated-Time`, which the app may use as its clock in test mode.

What counts as a failed fetch (docs/twilio.md): an exception, a response slower than the
15-second hard limit (11205), a non-2xx status (11200), more than 10 HTTP redirects (11215).
A 3xx is followed with a GET that carries no form body, as Twilio loses it (docs/twilio.md,
Requests).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode, urljoin

from sim.twilio.clock import Clock
from sim.twilio.signing import sign, strip_fragment

REQUEST_LIMIT_SECONDS = 15.0
MAX_HTTP_REDIRECTS = 10
USER_AGENT = "TwilioProxy/1.1"


class HttpResponse(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...


class HttpClient(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        follow_redirects: bool = ...,
    ) -> HttpResponse: ...


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the simulator made, as the app received it and as it answered."""

    at: datetime
    call_sid: str
    kind: str  # voice, fallback, gather-action, redirect, dial-action, status-callback, ...
    method: str
    url: str  # as sent: no fragment; for a GET it includes the parameters
    params: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    status: int | None
    body: str = field(repr=False)
    response_headers: dict[str, str] = field(repr=False)  # names in lower case
    content_type: str | None
    error_code: int | None = None  # Twilio's error code when the fetch failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


class Transport:
    def __init__(self, *, http: HttpClient, auth_token: str, clock: Clock) -> None:
        self._http = http
        self._auth_token = auth_token
        self._clock = clock
        self.records: list[RequestRecord] = []

    def send(
        self,
        *,
        method: str,
        url: str,
        params: Mapping[str, str],
        kind: str,
        call_sid: str,
        headers: Mapping[str, str] | None = None,
    ) -> RequestRecord:
        url = strip_fragment(url)
        params = dict(params)
        if method == "GET":
            url = _with_query(url, params)
            record = self._exchange(
                "GET", url, params={}, shown=params, kind=kind, sid=call_sid, extra=headers
            )
        else:
            record = self._exchange(
                "POST", url, params=params, shown=params, kind=kind, sid=call_sid, extra=headers
            )
        hops = 0
        while record.status is not None and 300 <= record.status < 400 and record.ok:
            location = record.response_headers.get("location")
            if not location:
                break
            hops += 1
            if hops > MAX_HTTP_REDIRECTS:
                return self._fail(record, 11215, "more than 10 HTTP redirects")
            record = self._exchange(
                "GET",
                urljoin(record.url, location),
                params={},
                shown={},
                kind=kind,
                sid=call_sid,
                extra=headers,
            )
        if record.ok and record.status is not None and not 200 <= record.status < 300:
            return self._fail(record, 11200, f"HTTP {record.status}")
        return record

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str],
        shown: dict[str, str],
        kind: str,
        sid: str,
        extra: Mapping[str, str] | None,
    ) -> RequestRecord:
        headers = {
            "User-Agent": USER_AGENT,
            "X-Twilio-Signature": sign(auth_token=self._auth_token, url=url, params=params),
            "X-Simulated-Time": self._clock.now.isoformat(),
            **(extra or {}),
        }
        content: bytes | None = None
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            content = urlencode(params).encode()
        status: int | None = None
        body, content_type = "", None
        response_headers: dict[str, str] = {}
        error_code: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            response = self._http.request(
                method, url, content=content, headers=headers, follow_redirects=False
            )
        except Exception as exc:  # any failure to fetch is Twilio's 11200 or 11205
            timed_out = isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__
            error_code, error = (11205 if timed_out else 11200), f"{type(exc).__name__}: {exc}"
        else:
            status, body = response.status_code, response.text
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            content_type = response_headers.get("content-type")
            if time.monotonic() - started > REQUEST_LIMIT_SECONDS:
                error_code, error = 11205, "no response within Twilio's 15-second limit"
        record = RequestRecord(
            at=self._clock.now,
            call_sid=sid,
            kind=kind,
            method=method,
            url=url,
            params=shown,
            headers=headers,
            status=status,
            body=body,
            response_headers=response_headers,
            content_type=content_type,
            error_code=error_code,
            error=error,
        )
        self.records.append(record)
        return record

    def _fail(self, record: RequestRecord, code: int, reason: str) -> RequestRecord:
        failed = replace(record, error_code=code, error=reason)
        self.records[-1] = failed
        return failed


def _with_query(url: str, params: Mapping[str, str]) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
