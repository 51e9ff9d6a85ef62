"""What an agent offers a caller instead of a transfer: a callback, or an SMS with a link.

The transfer guard (docs/directory.md) offers both instead of a transfer to a department that
is closed, closes soon or often leaves whispers unanswered:

- `POST /api/calls/{call_sid}/sms-link` sends the caller the department's self-service link
  (its own, else the municipality's) by SMS;
- `POST /api/calls/{call_sid}/callback` asks for a callback from the department.

The caller's number is the call's `From`, read from Twilio (`calls(sid).fetch()`): the service
keeps no caller number of a live call. Each request becomes the same event the IVR writes
(`sms_requested`, `callback_requested`, docs/events.md), appended to the event log with its
number sealed; the ingest turns it into the `sms_messages` row and its SMS job, or the
`callbacks` row, as for the IVR. Each is audited (`caller_sms_link`, `caller_callback`, with
the caller's pseudonym, never the number) and, when the guard warned, counted as the agent's
choice. The answer names the number masked only.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from twilio.base.exceptions import TwilioRestException

from ivr.config import Language
from ivr.events import Event
from ivr.phone import is_norwegian_mobile, masked_number, parse_keyed_number
from ivr.prompts import say
from switchboard.audit import record
from switchboard.deps import AgentDep, ApiErrorBody, ServicesDep, SessionDep, api_error
from switchboard.directory import self_service_url
from switchboard.errors import COMMON_ERRORS
from switchboard.guard import GuardChoice, count_choice, warnings_now
from switchboard.outbox import is_outbox
from switchboard.pseudonym import caller_pseudonym
from switchboard.routes.calls import CALL_SID, NOT_FOUND
from switchboard.routes.directory import known_department

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/calls", tags=["calls"], responses=COMMON_ERRORS)

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ApiErrorBody, "description": "Twilio does not know the call"},
    422: {
        "model": ApiErrorBody,
        "description": "not a call SID, an unknown department, or the caller's number cannot "
        "take it (an SMS needs a Norwegian mobile; a callback a Norwegian number)",
    },
    502: {"model": ApiErrorBody, "description": "Twilio refused or could not be reached"},
    503: {
        "model": ApiErrorBody,
        "description": "no Twilio account configured (development), so the caller's number "
        "cannot be read; nothing done",
    },
}

CallSidPath = Annotated[
    str, Path(description="the caller's CallSid: CA and 32 hex digits", pattern=CALL_SID)
]


class OfferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str = Field(description="a department id from the config", examples=["byggesak"])
    language: Language | None = Field(
        default=None, description="the caller's language; default: the municipality's"
    )


class OfferMade(BaseModel):
    call_sid: str
    department: str
    to: str = Field(description="the caller's number, masked", examples=["+47 ••• •• 567"])
    guard_counted: bool = Field(description="true when the transfer guard warned and counted it")


@router.post(
    "/{call_sid}/sms-link",
    status_code=202,
    response_model=OfferMade,
    responses=ERRORS,
    summary="Send the caller the department's self-service link by SMS",
)
def send_sms_link(
    call_sid: CallSidPath,
    body: OfferRequest,
    agent: AgentDep,
    services: ServicesDep,
    session: SessionDep,
    request: Request,
) -> OfferMade:
    config = services.ctx.config
    department = known_department(config, body.department)
    number = _caller_number(services, call_sid)
    if not is_norwegian_mobile(number):
        raise api_error(422, "not_a_mobile", "an SMS goes only to a Norwegian mobile number")
    language = body.language or config.municipality.default_language
    now = services.now(request)
    url = self_service_url(config, department)
    caller = caller_pseudonym(number, key=services.settings.caller_key)
    text = say("sms_body", language, name=config.municipality.name, url=url)
    purpose = f"department:{department.id}"
    event = Event(
        kind="sms_requested",
        call_sid=call_sid,
        dedupe_key=f"{call_sid}:sms:{purpose}",
        at=now,
        data={
            "to": number,
            "body": text,
            "language": language,
            "caller": caller,
            "purpose": purpose,
        },
    )
    return _offer(services, session, request, agent, event, "sms", department.id, number)


@router.post(
    "/{call_sid}/callback",
    status_code=202,
    response_model=OfferMade,
    responses=ERRORS,
    summary="Ask for a callback to the caller from the department",
)
def request_callback(
    call_sid: CallSidPath,
    body: OfferRequest,
    agent: AgentDep,
    services: ServicesDep,
    session: SessionDep,
    request: Request,
) -> OfferMade:
    ctx = services.ctx
    department = known_department(ctx.config, body.department)
    number = parse_keyed_number(_caller_number(services, call_sid))
    if number is None:
        raise api_error(422, "no_number", "the caller's number is hidden or not Norwegian")
    language = body.language or ctx.config.municipality.default_language
    now = services.now(request)
    opening = (
        None
        if ctx.hours.is_open(department.id, now)
        else ctx.hours.next_opening(department.id, now)
    )
    event = Event(
        kind="callback_requested",
        call_sid=call_sid,
        dedupe_key=f"{call_sid}:callback:department:{department.id}",
        at=now,
        data={
            "number": number,
            "keyed": False,
            "due_at": opening.isoformat() if opening else None,
            "language": language,
            "caller": caller_pseudonym(number, key=services.settings.caller_key),
            "department": department.id,
        },
    )
    return _offer(services, session, request, agent, event, "callback", department.id, number)


def _offer(
    services: ServicesDep,
    session: SessionDep,
    request: Request,
    agent: AgentDep,
    event: Event,
    choice: GuardChoice,
    department: str,
    number: str,
) -> OfferMade:
    services.events.append([event])
    with session.begin():
        record(
            session,
            actor=agent.name,
            action="caller_sms_link" if choice == "sms" else "caller_callback",
            subject=str(event.data["caller"]),
            call_sid=event.call_sid,
            department=department,
        )
    now = services.now(request)
    warnings = warnings_now(services.engine, services.ctx, now=now, department=department)
    counted = count_choice(request, choice, warnings)
    log.info("agent %s: %s for %s (%s)", agent.name, choice, event.call_sid, department)
    return OfferMade(
        call_sid=event.call_sid,
        department=department,
        to=masked_number(number),
        guard_counted=counted,
    )


def _caller_number(services: ServicesDep, call_sid: str) -> str:
    """The call's From, as Twilio has it; never logged."""
    if is_outbox(services.twilio):
        raise api_error(
            503,
            "twilio_not_configured",
            "no Twilio account is configured, so the caller's number cannot be read; "
            "nothing was done",
        )
    try:
        call = services.twilio.calls(call_sid).fetch()
    except TwilioRestException as exc:
        if exc.code == NOT_FOUND or exc.status == 404:
            raise api_error(404, "unknown_call", f"Twilio knows no call {call_sid}") from None
        raise api_error(
            502, "twilio_error", f"Twilio refused the lookup (HTTP {exc.status}, {exc.code})"
        ) from None
    except Exception as exc:
        log.warning("caller lookup of %s: no answer from Twilio (%s)", call_sid, exc)
        raise api_error(502, "twilio_unreachable", "no usable answer from Twilio") from None
    # The SDK keeps the resource's `from` as `_from` (`from` is a keyword).
    return str(getattr(call, "_from", None) or "")
