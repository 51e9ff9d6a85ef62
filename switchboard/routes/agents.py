"""The JSON API for agent status: who is ready, paused or offline, and setting one's own.

- `GET /api/agents` (agents and managers): every roster agent's status, connected or not. No
  phone numbers: the roster id, the name, the status, a pause's reason, since when, and whether
  the agent's line is on the agent line.
- `POST /api/agents/me/status` (agent, signed in): set one's own status. A paused agent's idle
  line is redirected out of `<Dial><Queue>` (docs/agent-line.md, "Agent status"). Each change is
  an `agent_status_changed` event, counted, and written to the audit log (`agent_status`).

Refusals, `{"detail": {"error": <code>, "message": <text>}}`: 409 `no_agent_id` (the principal
is not an agent on the roster: API tokens have no roster id), 422 a pause without a known
reason, 503 `live_state_unavailable` (Redis does not answer).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from ivr.presence import PauseReason, Status, status_event
from switchboard import audit
from switchboard.access import Principal
from switchboard.deps import AgentDep, ApiErrorBody, Services, ServicesDep, allow, api_error
from switchboard.errors import COMMON_ERRORS
from switchboard.livestate import AgentStatus
from switchboard.presence import Line, Presence
from switchboard.routes.metrics import web_metrics

log = logging.getLogger(__name__)

StaffDep = Annotated[Principal, Depends(allow("agent", "manager"))]


class AgentView(BaseModel):
    id: str = Field(description="the agent's roster id")
    name: str
    status: Status = Field(description="ready, paused or offline (no status yet: offline)")
    reason: PauseReason | None = Field(description="why, when paused")
    since: datetime | None = Field(description="when the status was set")
    connected: bool = Field(description="whether the agent's line is on the agent line")


class Agents(BaseModel):
    agents: list[AgentView]
    ready: int = Field(description="agents ready now")


class StatusChange(BaseModel):
    status: Status
    reason: PauseReason | None = Field(default=None, description="required when paused")

    @model_validator(mode="after")
    def _reason_only_when_paused(self) -> StatusChange:
        if self.status == "paused" and self.reason is None:
            raise ValueError("a pause needs a reason: lunch, meeting, admin or other")
        if self.status != "paused" and self.reason is not None:
            raise ValueError("only a pause has a reason")
        return self


class StatusSet(BaseModel):
    agent: AgentView
    line: Line | None = Field(description="where the agent's line was moved, if it was")


ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ApiErrorBody, "description": "no_agent_id"},
    503: {"model": ApiErrorBody, "description": "Redis unavailable"},
}

router = APIRouter(prefix="/api/agents", tags=["agents"], responses=COMMON_ERRORS)


def _presence(services: Services) -> Presence:
    if services.presence is None:
        raise api_error(503, "live_state_unavailable", "agent status is not available")
    return services.presence


def _unavailable() -> Exception:
    return api_error(
        503, "live_state_unavailable", "live state (Redis) does not answer; nothing was done"
    )


def _view(presence: Presence, agent_id: str, name: str, status: AgentStatus | None) -> AgentView:
    status = status or AgentStatus(status="offline")
    known: Status = (
        "ready"
        if status.status == "ready"
        else "paused"
        if status.status == "paused"
        else "offline"
    )
    reason: Any = status.reason if known == "paused" else None
    return AgentView(
        id=agent_id,
        name=name,
        status=known,
        reason=reason,
        since=datetime.fromtimestamp(status.since, UTC) if status.since else None,
        connected=presence.connected(agent_id),
    )


@router.get("", response_model=Agents, responses=ERRORS, summary="Every agent's status")
def list_agents(who: StaffDep, services: ServicesDep) -> Agents:
    """Every agent on the roster, connected or not, with their status."""
    presence = _presence(services)
    try:
        statuses = presence.statuses()
        views = [
            _view(presence, agent.id, agent.name, statuses.get(agent.id))
            for agent in services.ctx.config.switchboard.agents.roster
        ]
    except redis.RedisError:
        raise _unavailable() from None
    return Agents(agents=views, ready=sum(view.status == "ready" for view in views))


@router.post(
    "/me/status",
    response_model=StatusSet,
    responses=ERRORS,
    summary="Set my status: ready, paused (with a reason) or offline (agent)",
)
def set_my_status(
    change: StatusChange, who: AgentDep, services: ServicesDep, request: Request
) -> StatusSet:
    """Set the signed-in agent's status; a paused agent's idle line leaves the queue."""
    ctx = services.ctx
    agent = next((a for a in ctx.config.switchboard.agents.roster if a.id == who.agent_id), None)
    if agent is None:
        raise api_error(
            409,
            "no_agent_id",
            f"{who.name} is not an agent on the roster; sign in as an agent to set a status",
        )
    presence = _presence(services)
    now = services.now(request)
    status = AgentStatus(status=change.status, reason=change.reason, since=now.timestamp())
    try:
        done = presence.change(ctx, agent_id=agent.id, status=status, at=now)
        view = _view(presence, agent.id, agent.name, status)
    except redis.RedisError:
        raise _unavailable() from None
    event = status_event(
        agent_id=agent.id,
        status=change.status,
        reason=change.reason,
        at=now,
        source="console",
        key=f"agent:{agent.id}:{int(now.timestamp() * 1000)}:{change.status}",
    )
    services.events.append([event])
    web_metrics(request).count_events([event])
    with Session(services.engine) as session, session.begin():
        audit.record(
            session,
            actor=who.name,
            action="agent_status",
            at=now,
            agent=agent.id,
            status=change.status,
            reason=change.reason,
            before=done.before.status,
        )
    log.info("agent %s is now %s (%s)", agent.id, change.status, change.reason or "-")
    return StatusSet(agent=view, line=done.line)
