"""Dependencies for the Twilio-facing routes, as Annotated aliases.

`TwilioTurn` checks the signature (403 with no side effect when it is missing or wrong),
then turns the request into the flow's `Turn`: the form plus our query parameters, the
language and step from the URL, the caller's pseudonym, the clock, and the live state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from twilio.rest import Client as TwilioClient

from ivr.call import Context, Turn
from ivr.config import LANGUAGES, Language
from switchboard.eventlog import EventLog
from switchboard.livestate import LiveState
from switchboard.pseudonym import caller_pseudonym
from switchboard.settings import Settings
from switchboard.signature import is_signed, public_request_url

SIMULATED_TIME_HEADER = "x-simulated-time"


@dataclass
class Services:
    """Everything the routes use, built once by the app factory."""

    settings: Settings
    ctx: Context
    events: EventLog
    live: LiveState
    redis: redis.Redis
    engine: Engine
    fallback_xml: str
    twilio: TwilioClient  # the REST API, for agent transfers (switchboard/twilio_rest.py)
    simulated_clock: bool = False

    def now(self, request: Request) -> datetime:
        # Tests and `switchboard try-call` play calls at chosen instants; only an app built
        # with simulated_clock=True (never `serve`) reads the simulator's header.
        header = request.headers.get(SIMULATED_TIME_HEADER)
        if self.simulated_clock and header:
            return datetime.fromisoformat(header).astimezone(UTC)
        return datetime.now(UTC)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def verified_params(request: Request, services: ServicesDep) -> dict[str, str]:
    form = await request.form()
    url = public_request_url(request, services.settings.public_url)
    signature = request.headers.get("x-twilio-signature", "")
    if not is_signed(url=url, form=form, signature=signature, tokens=services.settings.auth_tokens):
        raise HTTPException(status_code=403, detail="invalid Twilio signature")
    params = {key: str(value) for key, value in form.items()}
    params.update(request.query_params.items())  # our own names never collide with Twilio's
    return params


def language_of(value: str, default: Language) -> Language:
    for language in LANGUAGES:
        if value == language:
            return language
    return default


def make_turn(services: Services, request: Request, params: dict[str, str]) -> Turn:
    at = services.now(request)
    call_sid = params.get("CallSid", "")
    caller = params.get("From", "")
    config = services.ctx.config
    try:
        step = max(0, int(params.get("s", "0")))
    except ValueError:
        step = 0
    caller_id = caller_pseudonym(caller, key=services.settings.caller_key) if caller else ""
    return Turn(
        call_sid=call_sid,
        caller=caller,
        caller_id=caller_id,
        params=params,
        language=language_of(params.get("lang", ""), config.municipality.default_language),
        step=step,
        at=at,
        live=services.live.view(
            call_sid=call_sid, transfer_id=params.get("t", ""), caller_id=caller_id, at=at
        ),
    )


def twilio_turn(
    request: Request,
    services: ServicesDep,
    params: Annotated[dict[str, str], Depends(verified_params)],
) -> Turn:
    return make_turn(services, request, params)


TwilioTurn = Annotated[Turn, Depends(twilio_turn)]
