"""Twilio's REST API for the simulator: the Calls and Messages resources, through the SDK's seam.

    rest = SimulatedRest(account_sid=sid, auth_token=token)
    client = twilio.rest.Client(sid, token, http_client=rest)
    sim = TwilioSimulator(...)
    rest.attach(sim)       # the app that uses `client` may be built before the simulator

Then `client.calls(sid).fetch()` reads a simulated call, `update(url=..., method=...)`
redirects it (docs/twilio.md) and `update(status="completed")` hangs it up. Requests are
checked as Twilio's API checks them, and refused in Twilio's JSON error format:

- basic auth with the account SID and its token (401, 20003);
- a path under that account, to a call the account has (404, 20404);
- a redirect only of a live call (400, 21220 "Call is not in-progress. Cannot redirect.");
- `Url` absolute http(s) (400, 21205); `Method` GET or POST (400, 21200).

`fail_next(status=..., code=..., message=...)` scripts Twilio's own failures (a 500, a 429)
for the next request that passes those checks.

`POST .../Messages.json` creates an SMS (see `messages.py`), kept in `messages` by SID; it needs
no simulator, so SMS tests use `SimulatedRest` without `attach`.

`GET .../Queues.json` lists the simulator's queues and `POST .../Queues/{QU}/Members/{CA…}.json`
with `Url` moves a waiting caller out of a queue (see `queue_resources.py`).

`GET .../IncomingPhoneNumbers.json` lists the numbers added with `add_number` (see
`numbers.py`), as `switchboard twilio check` reads them.

Requests may go to api.twilio.com or to a region and edge (`api.dublin.ie1.twilio.com`, or
`api.ie1.twilio.com`), as the SDK addresses them with `region=` and `edge=`; every request is
kept in `requests` with its URL, so a test can see which host a client used.

`Twiml` updates are not simulated (the simulator only fetches URLs): they raise
`SimulatorLimitation`, as does a redirect of a dialled leg. Completing a call that has already
ended answers the call unchanged (an assumption; Twilio does not document it).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sim.twilio.calls import Call
from sim.twilio.messages import create_message, error
from sim.twilio.numbers import IncomingNumber, number_page
from sim.twilio.queue_resources import queues_answer
from sim.twilio.twiml import SimulatorLimitation
from twilio.http import HttpClient
from twilio.http.response import Response

if TYPE_CHECKING:
    from sim.twilio.engine import TwilioSimulator

API = "https://api.twilio.com/2010-04-01"
CALL_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/Calls/(?P<sid>CA\w+)\.json")
MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json")
NUMBERS_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/IncomingPhoneNumbers\.json")
API_HOST = re.compile(r"api(\.[a-z0-9-]+)?(\.[a-z]{2}[0-9])?\.twilio\.com")
LIVE = frozenset({"queued", "ringing", "in-progress"})


@dataclass(frozen=True)
class RestRequest:
    method: str
    url: str
    data: dict[str, str]
    status: int
    query: dict[str, str] = field(default_factory=dict)


class SimulatedRest(HttpClient):  # type: ignore[misc]  # the SDK ships no type hints
    def __init__(
        self, *, account_sid: str, auth_token: str, sim: TwilioSimulator | None = None
    ) -> None:
        super().__init__(logger=logging.getLogger(__name__), is_async=False)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sim = sim
        self.requests: list[RestRequest] = []
        self.messages: dict[str, dict[str, object]] = {}
        self._failures: list[tuple[int, int, str, str]] = []
        self.numbers: list[IncomingNumber] = []

    def add_number(self, phone_number: str, **fields: str | None) -> IncomingNumber:
        """Buy a number for the account, configured with IncomingPhoneNumber's voice fields."""
        number = IncomingNumber(
            sid=f"PN{len(self.numbers) + 1:032x}",
            phone_number=phone_number,
            **fields,  # type: ignore[arg-type]
        )
        self.numbers.append(number)
        return number

    def fail_next(self, *, status: int, code: int, message: str, path: str = "") -> None:
        """Fail the next request (that passes the checks) whose path contains `path`."""
        self._failures.append((status, code, message, path))

    def attach(self, sim: TwilioSimulator) -> None:
        self.sim = sim

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        form = {key: str(value) for key, value in (data or {}).items()}
        query = {key: str(value) for key, value in (params or {}).items()}
        response = self._answer(method, uri, form | query if method == "GET" else form, auth)
        self.requests.append(RestRequest(method, uri, form, response.status_code, query))
        return response

    def _answer(
        self, method: str, uri: str, form: dict[str, str], auth: tuple[str, str] | None
    ) -> Response:
        if auth != (self.account_sid, self.auth_token):
            return error(401, 20003, "Authenticate")
        parts = urlsplit(uri)
        if API_HOST.fullmatch(parts.netloc) is None:
            return error(404, 20404, f"The requested resource {parts.path} was not found")
        messages = MESSAGES_PATH.fullmatch(parts.path)
        if messages is not None and method == "POST":
            return self._message(messages["account"], form)
        numbers = NUMBERS_PATH.fullmatch(parts.path)
        if numbers is not None and method == "GET" and numbers["account"] == self.account_sid:
            page = number_page(self.account_sid, self.numbers, form.get("PhoneNumber"))
            return Response(200, json.dumps(page), {"Content-Type": "application/json"})
        if self.sim is not None and match_account(parts.path, self.account_sid):
            if "/Queues" in parts.path:
                failure = self._failure(parts.path)
                if failure is not None:
                    return failure
                answer = queues_answer(self.sim, self.account_sid, method, parts.path, form)
                if answer is not None:
                    return answer
        match = CALL_PATH.fullmatch(parts.path)
        if match is None or method not in {"GET", "POST"}:
            return error(404, 20404, f"The requested resource {parts.path} was not found")
        call = self._call(match["sid"]) if match["account"] == self.account_sid else None
        if call is None:
            return error(404, 20404, f"The requested resource {parts.path} was not found")
        failure = self._failure(parts.path)
        if failure is not None:
            return failure
        if method == "POST":
            refusal = self._update(call, form)
            if refusal is not None:
                return refusal
        return Response(200, json.dumps(self._resource(call)), {"Content-Type": "application/json"})

    def _failure(self, path: str) -> Response | None:
        for index, (status, code, message, part) in enumerate(self._failures):
            if part in path:
                del self._failures[index]
                return error(status, code, message)
        return None

    def _message(self, account: str, form: dict[str, str]) -> Response:
        if account != self.account_sid:
            return error(404, 20404, "The requested resource was not found")
        failure = self._failure("/Messages.json")
        if failure is not None:
            return failure
        response, created = create_message(self.account_sid, form)
        if created is not None:
            self.messages[str(created["sid"])] = created
        return response

    def _call(self, sid: str) -> Call | None:
        if self.sim is None:
            raise RuntimeError("SimulatedRest has no simulator: call attach(sim) first")
        try:
            return self.sim.call(sid)
        except LookupError:
            return None

    def _update(self, call: Call, form: dict[str, str]) -> Response | None:
        assert self.sim is not None
        if "Twiml" in form:
            raise SimulatorLimitation("the simulator does not run TwiML given to calls.update")
        url, status = form.get("Url"), form.get("Status")
        live = call.status in LIVE and not call.ended and call.hung_up_by is None
        if url is not None:
            target = urlsplit(url)
            if target.scheme not in {"http", "https"} or not target.netloc:
                return error(400, 21205, f"Url is not a valid URL: {url}")
            method = form.get("Method", "POST").upper()
            if method not in {"GET", "POST"}:
                return error(400, 21200, f"Method must be GET or POST, not {method}")
            if not live:
                return error(400, 21220, "Call is not in-progress. Cannot redirect.")
            self.sim.redirect_call(call.sid, url, method=method)
        elif status == "completed" and live:
            self.sim.hang_up_call(call.sid)
        elif status == "canceled" and live and call.status != "in-progress":
            self.sim.hang_up_call(call.sid)
        return None

    def _resource(self, call: Call) -> dict[str, object]:
        """The Call resource's JSON (docs/twilio.md), with what the simulator knows."""
        path = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}"
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": call.parent.sid if call.parent is not None else None,
            "to": call.to,
            "to_formatted": call.to,
            "from": call.from_,
            "from_formatted": call.from_,
            "status": call.status,
            "direction": call.direction,
            "start_time": _http_date(call.answered_at or call.started_at),
            "end_time": _http_date(call.ended_at) if call.ended_at else None,
            "duration": str(call.duration) if call.ended else None,
            "date_created": _http_date(call.started_at),
            "date_updated": _http_date(call.ended_at or call.started_at),
            "api_version": "2010-04-01",
            "answered_by": None,
            "forwarded_from": call.forwarded_from,
            "caller_name": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "uri": f"{path}.json",
            "subresource_uris": {"recordings": f"{path}/Recordings.json"},
        }


def match_account(path: str, account_sid: str) -> bool:
    return path.startswith(f"/2010-04-01/Accounts/{account_sid}/")


def _http_date(at: datetime) -> str:
    """An RFC 2822 date in GMT, as Twilio writes them, whatever the instant's time zone."""
    return format_datetime(at.astimezone(UTC), usegmt=True)
