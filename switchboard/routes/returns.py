"""Returned transfers as agents see them, and the reason an agent tags when taking one.

`cause` is what the dial reported; `reason` is the agent's judgement (BRIEF §5). The
projection never touches `reason`, so a tag survives late events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.deps import ServicesDep
from switchboard.models import ReturnRecord
from switchboard.routes.calls import AgentDep

router = APIRouter(prefix="/api/returns", tags=["returns"])

Reason = Literal[
    "wrong_department", "no_answer", "department_closed", "wanted_switchboard", "other"
]


class ReturnPublic(BaseModel):
    transfer_id: str
    call_sid: str = Field(description="the call that came back")
    department: str
    initiator: Literal["ivr", "agent"]
    kind: Literal["bounce", "hand_back", "recall"]
    cause: str | None = Field(description="what the dial reported, for a bounce")
    reason: Reason | None = Field(description="the agent's tag, null until tagged")
    detected_at: datetime
    tagged_at: datetime | None


class ReasonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


def _public(row: ReturnRecord) -> ReturnPublic:
    return ReturnPublic.model_validate(row, from_attributes=True)


@router.get("", response_model=list[ReturnPublic])
def list_returns(
    services: ServicesDep,
    _agent: AgentDep,
    hours: int = Query(default=24, ge=1, le=24 * 31, description="how far back to look"),
    untagged: bool = Query(default=False, description="only returns without a reason yet"),
) -> list[ReturnPublic]:
    """Recent returns, newest first."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    query = select(ReturnRecord).where(ReturnRecord.detected_at >= since)
    if untagged:
        query = query.where(ReturnRecord.reason.is_(None))
    with Session(services.engine) as session:
        rows = session.scalars(query.order_by(ReturnRecord.detected_at.desc()).limit(500))
        return [_public(row) for row in rows]


@router.post(
    "/{transfer_id}",
    response_model=ReturnPublic,
    responses={404: {"description": "no such return"}},
)
def tag_return(
    transfer_id: str, update: ReasonUpdate, services: ServicesDep, _agent: AgentDep
) -> ReturnPublic:
    """Tag why the caller came back; tagging again replaces the reason."""
    with Session(services.engine) as session, session.begin():
        row = session.get(ReturnRecord, transfer_id)
        if row is None:
            raise HTTPException(status_code=404, detail=f"no return for transfer {transfer_id}")
        row.reason = update.reason
        row.tagged_at = datetime.now(UTC)
        session.flush()
        return _public(row)
