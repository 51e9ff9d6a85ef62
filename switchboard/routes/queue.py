"""The JSON API for the waiting queue: an agent takes a chosen caller ("Ta denne").

`POST /api/queue/{call_sid}/take` hands the caller to the signed-in agent, ahead of the queue's
order (docs/agent-line.md, "Taking a chosen caller"): the caller is claimed in Redis, moved to
the agent's own queue (`agent-<id>`), and the agent's idle line is redirected to hear the
department and cause and take them. The work is `switchboard.queue_moves`; the TwiML is
`ivr.handover`.

Refusals, `{"detail": {"error": <code>, "message": <text>}}`:
- 409 `no_agent_id`: the principal is not an agent on the roster (an API token of role agent);
- 409 `agent_not_connected`: the agent's line is not idle on the agent line;
- 409 `already_taken`: another agent claimed the caller first;
- 409 `not_waiting`: the caller is no longer in a queue;
- 502: Twilio refused or did not answer; the claim is released, and the caller stays (or is
  put back) in a queue;
- 503: no Twilio account (development), or Redis does not answer.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ivr.handover import agent_queue, agent_take_url, move_url
from switchboard import audit
from switchboard.deps import AgentDep, ApiErrorBody, ServicesDep, api_error
from switchboard.errors import COMMON_ERRORS
from switchboard.queue_moves import TakeRefused
from switchboard.routes.calls import CALL_SID

log = logging.getLogger(__name__)


class Taken(BaseModel):
    call_sid: str
    agent: str = Field(description="the agent's roster id")
    agent_queue: str = Field(description="the Twilio queue the caller now waits in")
    queue: str = Field(description="the switchboard queue the caller was taken from")
    visit: str = Field(description="the queue visit, unchanged by the move")
    department: str | None = Field(description="for a returned caller: where they came from")
    cause: str | None = Field(description="for a returned caller: why (no_answer, busy, …)")


ERRORS: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ApiErrorBody,
        "description": "no_agent_id, agent_not_connected, already_taken or not_waiting",
    },
    502: {"model": ApiErrorBody, "description": "Twilio refused or could not be reached"},
    503: {"model": ApiErrorBody, "description": "no Twilio account, or Redis unavailable"},
}

router = APIRouter(prefix="/api/queue", tags=["queue"], responses=COMMON_ERRORS)


@router.post(
    "/{call_sid}/take",
    status_code=202,
    response_model=Taken,
    responses=ERRORS,
    summary="Take a chosen waiting caller (agent)",
)
def take_caller(
    call_sid: Annotated[
        str,
        Path(description="the waiting caller's CallSid: CA and 32 hex digits", pattern=CALL_SID),
    ],
    who: AgentDep,
    services: ServicesDep,
    request: Request,
) -> Taken:
    """Move the caller to the agent's own queue and put the agent's idle line on it. 202:
    Twilio took both moves; the agent hears the department and cause, then the caller."""
    moves = services.moves
    if moves is None:
        raise api_error(
            503,
            "twilio_not_configured",
            "no Twilio account is configured, so no caller can be moved; nothing was done",
        )
    ctx = services.ctx
    agent_id = who.agent_id
    if agent_id is None or all(a.id != agent_id for a in ctx.config.switchboard.agents.roster):
        raise api_error(
            409,
            "no_agent_id",
            f"{who.name} is not an agent on the roster; sign in as an agent to take callers",
        )
    now = services.now(request)
    step = int(now.timestamp() * 1000)
    try:
        waiting = moves.take(
            call_sid,
            agent_id=agent_id,
            at=now,
            step=step,
            move_url=lambda w: move_url(ctx, w, agent_id, step=step),
            back_url=lambda w: move_url(ctx, w, "", step=step + 1),
            agent_url=lambda w: agent_take_url(ctx, w, step=step),
        )
    except TakeRefused as refused:
        raise api_error(refused.status, refused.error, refused.message) from None
    with Session(services.engine) as session, session.begin():
        audit.record(
            session,
            actor=who.name,
            action="caller_taken",
            subject=waiting.caller_id or None,
            at=now,
            call_sid=call_sid,
            agent=agent_id,
            queue=waiting.queue,
            visit=waiting.visit,
        )
    log.info("agent %s took %s from the %s queue", agent_id, call_sid, waiting.queue)
    return Taken(
        call_sid=call_sid,
        agent=agent_id,
        agent_queue=agent_queue(agent_id),
        queue=waiting.queue,
        visit=waiting.visit,
        department=waiting.department,
        cause=waiting.cause,
    )
