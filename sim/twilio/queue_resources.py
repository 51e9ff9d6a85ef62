"""Twilio's Queues resource for the simulator's REST API (`rest.py`), as the SDK calls it.

- `GET .../Queues.json`: one page of the account's queues (`client.queues.list()`). Twilio has
  no filter by name; a client finds a queue's SID by its `friendly_name`.
- `GET .../Queues/{QU}/Members/{CA…|Front}.json`: one member (`members(sid).fetch()`).
- `POST .../Queues/{QU}/Members/{CA…|Front}.json` with `Url` (and `Method`):
  `members(sid).update(url=…, method=…)` takes that caller (or the head, `Front`) out of the
  queue; the call then runs the TwiML at `Url` (docs/twilio.md, Queues). Its `<Enqueue action>`
  is requested with `QueueResult=redirected` (an assumption: Twilio documents that the action
  is requested at once for a REST dequeue, and `redirected` is the result it names for a call
  moved out of a queue; no other value fits).

Refusals are Twilio's JSON errors: an unknown queue, or a call that is not a member of it
(404, 20404); `Url` not absolute http(s) (400, 21205); `Method` not GET or POST (400, 21200).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sim.twilio.messages import error
from sim.twilio.queues import Member, Queue
from twilio.http.response import Response

if TYPE_CHECKING:
    from sim.twilio.engine import TwilioSimulator

QUEUES_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/Queues\.json")
MEMBER_PATH = re.compile(
    r"/2010-04-01/Accounts/(?P<account>AC\w+)/Queues/(?P<queue>QU\w+)"
    r"/Members/(?P<member>CA\w+|Front)\.json"
)


def _json(status: int, body: dict[str, object]) -> Response:
    return Response(status, json.dumps(body), {"Content-Type": "application/json"})


def _not_found(path: str) -> Response:
    return error(404, 20404, f"The requested resource {path} was not found")


def queue_resource(account_sid: str, queue: Queue, now: datetime) -> dict[str, object]:
    path = f"/2010-04-01/Accounts/{account_sid}/Queues/{queue.sid}"
    stamp = format_datetime(now.astimezone(UTC), usegmt=True)
    return {
        "sid": queue.sid,
        "account_sid": account_sid,
        "friendly_name": queue.name,
        "current_size": len(queue.members),
        "max_size": queue.max_size,
        "average_wait_time": queue.average_wait,
        "date_created": stamp,
        "date_updated": stamp,
        "uri": f"{path}.json",
        "subresource_uris": {"members": f"{path}/Members.json"},
    }


def member_resource(
    account_sid: str, member: Member, position: int, now: datetime
) -> dict[str, object]:
    queue = member.queue
    return {
        "call_sid": member.call.sid,
        "queue_sid": queue.sid,
        "position": position,
        "wait_time": member.waited(now),
        "date_enqueued": format_datetime(member.joined_at.astimezone(UTC), usegmt=True),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Queues/{queue.sid}/Members/"
        f"{member.call.sid}.json",
    }


def queues_answer(
    sim: TwilioSimulator, account_sid: str, method: str, path: str, form: dict[str, str]
) -> Response | None:
    """The answer to a Queues request, or None when `path` is not one."""
    if QUEUES_PATH.fullmatch(path) is not None and method == "GET":
        found = [queue_resource(account_sid, q, sim.now) for q in sim.queues.all()]
        uri = f"/2010-04-01/Accounts/{account_sid}/Queues.json?PageSize=50&Page=0"
        return _json(
            200,
            {
                "queues": found,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": uri,
            },
        )
    match = MEMBER_PATH.fullmatch(path)
    if match is None or method not in {"GET", "POST"}:
        return None
    queue = sim.queues.by_sid(match["queue"])
    if queue is None or not queue.members:
        return _not_found(path)
    wanted = match["member"]
    chosen = queue.members[0] if wanted == "Front" else sim.queues.member_of(queue, wanted)
    if chosen is None:
        return _not_found(path)
    resource = member_resource(account_sid, chosen, queue.position(chosen), sim.now)
    if method == "GET":
        return _json(200, resource)
    url = form.get("Url")
    if url is None or not re.match(r"https?://[^/]+", url):
        return error(400, 21205, f"Url is not a valid URL: {url}")
    member_method = form.get("Method", "POST").upper()
    if member_method not in {"GET", "POST"}:
        return error(400, 21200, f"Method must be GET or POST, not {member_method}")
    sim.dequeue_member(queue.name, chosen.call.sid, url, method=member_method)
    return _json(200, resource)
