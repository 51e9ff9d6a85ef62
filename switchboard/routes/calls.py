"""The JSON API for live calls: an agent transfers the caller they are talking to.

`POST /api/calls/{call_sid}/transfer` with `{"department": "byggesak"}` redirects the caller's
call through Twilio's REST API (`calls(sid).update(url=...)`, docs/twilio.md) to
`/twilio/transfer/start`, which runs the same Dial, whisper and bounce as an IVR transfer with
`initiator=agent` (docs/glossary.md). The caller leaves the agent's conversation (Twilio reports the
queue visit as `redirected-from-bridged`) and the agent's line goes on to the next caller.

Step counter: a call's steps count up by one per request from 0 (`?s=N`), and dedupe keys and
transfer ids are built from them (docs/events.md). The API cannot know where the call's count is, so
the redirect jumps to the current time in milliseconds since the epoch: larger than any step a
call reaches by counting, and larger than any earlier agent transfer's. The call's later steps
count on from there, so nothing collides.

Before the REST call, a marker keyed by the call is written to live state
(`LiveState.mark_redirected`): if the caller was in a transfer's Dial, Twilio still requests
that Dial's action after the redirect (docs/twilio.md, Dial), and the marker keeps it from
counting as a bounce.

Each transfer Twilio took writes a `transfer` audit entry (switchboard/staff_audit.py) once the
redirect succeeded; a refused redirect writes none.

The transfer guard (docs/directory.md) is enforced here too: a transfer to a department that
closes within minutes, or that has declined or missed most of today's whispers, is refused with
409 `guard_warning` and the warnings, unless the body says `override_guard: true`; then it goes
ahead, counted (`switchboard_transfer_guard_choices_total{choice="went_ahead"}`) and audited
(`guard_override`). A closed department is refused (409 `department_closed`) even then: no
override opens it.

Errors are JSON, `{"detail": {"error": <code>, "message": <text>}}` (switchboard/deps.py),
never a 500. Only the `agent` role may transfer.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import redis
from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from twilio.base.exceptions import TwilioRestException

from ivr.config import Language
from ivr.phrases import describe_instant
from switchboard.deps import AgentDep, ApiError, ApiErrorBody, ServicesDep, SessionDep, api_error
from switchboard.directory import GuardWarning
from switchboard.errors import COMMON_ERRORS
from switchboard.guard import count_choice, warnings_now
from switchboard.outbox import is_outbox
from switchboard.staff_audit import record_override, record_transfer

log = logging.getLogger(__name__)

CALL_SID = r"^CA[0-9a-f]{32}$"
NOT_IN_PROGRESS = 21220  # Twilio: "Call is not in-progress. Cannot redirect."
NOT_FOUND = 20404


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str = Field(description="a department id from the config", examples=["byggesak"])
    language: Language | None = Field(
        default=None,
        description="the language the caller hears from here on; default: the municipality's",
    )
    override_guard: bool = Field(
        default=False,
        description="go ahead despite the transfer guard's warnings (closes soon, often "
        "unanswered); counted and audited. A closed department is refused even so.",
    )


class TransferStarted(BaseModel):
    call_sid: str
    department: str
    initiator: Literal["agent"] = "agent"
    step: int = Field(description="the step the redirect starts at (milliseconds since epoch)")
    agent: str
    overrode: list[GuardWarning] = Field(
        default_factory=list, description="the guard's warnings the agent went ahead despite"
    )


class GuardRefusal(ApiError):
    warnings: list[GuardWarning] = Field(
        default_factory=list, description="the transfer guard's warnings (docs/directory.md)"
    )


class GuardRefusalBody(BaseModel):
    detail: GuardRefusal


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ApiErrorBody, "description": "Twilio does not know the call"},
    409: {
        "model": GuardRefusalBody,
        "description": "the call has ended, the department is closed (`department_closed`), "
        "or the transfer guard warns (`guard_warning`, with `warnings`) and the body did not "
        "say `override_guard`",
    },
    422: {"model": ApiErrorBody, "description": "not a call SID, or an unknown department"},
    502: {"model": ApiErrorBody, "description": "Twilio refused or could not be reached"},
    503: {
        "model": ApiErrorBody,
        "description": "live state (Redis) unavailable, or no Twilio account configured "
        "(development); nothing done",
    },
}

router = APIRouter(prefix="/api/calls", tags=["calls"], responses=COMMON_ERRORS)


@router.post(
    "/{call_sid}/transfer",
    status_code=202,
    response_model=TransferStarted,
    responses=ERRORS,
    summary="Transfer a live call to a department (agent-initiated)",
)
def transfer_call(
    call_sid: Annotated[
        str, Path(description="the caller's CallSid: CA and 32 hex digits", pattern=CALL_SID)
    ],
    body: TransferRequest,
    agent: AgentDep,
    services: ServicesDep,
    session: SessionDep,
    request: Request,
) -> TransferStarted:
    """Send the caller to a department with the whisper; a refusal brings them back first in
    the returns queue. 202: Twilio took the redirect; the outcome follows in call events."""
    if is_outbox(services.twilio):
        raise api_error(
            503,
            "twilio_not_configured",
            "no Twilio account is configured (SWITCHBOARD_TWILIO_ACCOUNT_SID is the development "
            "placeholder), so no call can be moved; nothing was done",
        )
    ctx = services.ctx
    now = services.now(request)
    try:
        department = ctx.config.department(body.department)
    except KeyError:
        known = ", ".join(d.id for d in ctx.config.departments)
        raise api_error(
            422, "unknown_department", f"no department {body.department!r}; known: {known}"
        ) from None
    if not ctx.hours.is_open(department.id, now):
        opening = ctx.hours.next_opening(department.id, now)
        when = describe_instant(opening, now=now, language="en") if opening else "not scheduled"
        raise _refusal(
            "department_closed", f"{department.id} is closed; it opens {when}", ("closed",)
        )
    warnings = warnings_now(services.engine, ctx, now=now, department=department.id)
    if warnings and not body.override_guard:
        raise _refusal(
            "guard_warning",
            f"the transfer guard warns about {department.id}: {', '.join(warnings)}; "
            "offer a callback or an SMS, or send override_guard: true",
            warnings,
        )
    language = body.language or ctx.config.municipality.default_language
    step = int(now.timestamp() * 1000)
    url = ctx.url("/twilio/transfer/start", lang=language, s=step, d=department.id, i="agent")
    try:
        services.live.mark_redirected(call_sid, step=step)
    except redis.RedisError as exc:
        log.warning("agent transfer of %s refused: live state unavailable (%s)", call_sid, exc)
        raise api_error(
            503, "live_state_unavailable", "cannot record the redirect; the call was not moved"
        ) from None
    _redirect(services, call_sid=call_sid, url=url)
    # Written once Twilio took the redirect (a refused one is no transfer), in a transaction of
    # its own: holding a database write lock across a call to Twilio would stall other writers.
    with session.begin():
        record_transfer(session, agent, call_sid=call_sid, department=department.id, step=step)
        if warnings:
            record_override(
                session, agent, call_sid=call_sid, department=department.id, warnings=warnings
            )
    count_choice(request, "went_ahead", warnings)
    log.info("agent %s transferred %s to %s", agent.name, call_sid, department.id)
    return TransferStarted(
        call_sid=call_sid,
        department=department.id,
        step=step,
        agent=agent.name,
        overrode=list(warnings),
    )


def _refusal(error: str, message: str, warnings: tuple[GuardWarning, ...]) -> HTTPException:
    return HTTPException(
        status_code=409,
        detail={"error": error, "message": message, "warnings": list(warnings)},
    )


def _redirect(services: ServicesDep, *, call_sid: str, url: str) -> None:
    try:
        services.twilio.calls(call_sid).update(url=url, method="POST")
    except TwilioRestException as exc:
        if exc.code == NOT_IN_PROGRESS:
            raise api_error(
                409, "call_not_in_progress", "the call has ended; there is no one to transfer"
            ) from None
        if exc.code == NOT_FOUND or exc.status == 404:
            raise api_error(404, "unknown_call", f"Twilio knows no call {call_sid}") from None
        log.warning("agent transfer of %s: Twilio %s error %s", call_sid, exc.status, exc.code)
        raise api_error(
            502, "twilio_error", f"Twilio refused the redirect (HTTP {exc.status}, {exc.code})"
        ) from None
    except Exception as exc:  # no answer, a timeout, a bad response: never a 500 to the agent
        log.warning("agent transfer of %s: no answer from Twilio (%s)", call_sid, exc)
        raise api_error(502, "twilio_unreachable", "no usable answer from Twilio") from None
