"""Returned transfers as agents see them, and the reason an agent tags when taking one.

`cause` is what the dial reported; `reason` is the agent's judgement (docs/glossary.md). The
projection never touches `reason`, so a tag survives late events. Each tag writes a
`return_tagged` audit entry in its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select

from ivr.vocabulary import Initiator, ReturnKind, ReturnReason
from switchboard.access import Principal
from switchboard.deps import SessionDep, allow, api_error
from switchboard.errors import COMMON_ERRORS, error_response
from switchboard.models import ReturnRecord
from switchboard.staff_audit import record_return_tag

router = APIRouter(prefix="/api/returns", tags=["returns"], responses=COMMON_ERRORS)

# Agents tag returns as they take them; managers and department leads review them. A
# department lead sees and tags only the returns to their own department.
ReviewerDep = Annotated[Principal, Depends(allow("agent", "manager", "department_lead"))]


def _visible(query: Select[ReturnRecord], who: Principal) -> Select[ReturnRecord]:
    if who.role == "department_lead":
        return query.where(ReturnRecord.department == who.department)
    return query


Reason = ReturnReason


class ReturnPublic(BaseModel):
    transfer_id: str
    call_sid: str = Field(description="the call that came back")
    department: str
    initiator: Initiator
    kind: ReturnKind
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
    session: SessionDep,
    who: ReviewerDep,
    hours: int = Query(default=24, ge=1, le=24 * 31, description="how far back to look"),
    untagged: bool = Query(default=False, description="only returns without a reason yet"),
) -> list[ReturnPublic]:
    """Recent returns, newest first."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    query = _visible(select(ReturnRecord).where(ReturnRecord.detected_at >= since), who)
    if untagged:
        query = query.where(ReturnRecord.reason.is_(None))
    with session.begin():
        rows = session.scalars(query.order_by(ReturnRecord.detected_at.desc()).limit(500))
        return [_public(row) for row in rows]


@router.post(
    "/{transfer_id}",
    response_model=ReturnPublic,
    responses={404: error_response("no such return (or not one this token may see)")},
)
def tag_return(
    transfer_id: str, update: ReasonUpdate, session: SessionDep, who: ReviewerDep
) -> ReturnPublic:
    """Tag why the caller came back; tagging again replaces the reason."""
    query = _visible(select(ReturnRecord).where(ReturnRecord.transfer_id == transfer_id), who)
    with session.begin():
        row = session.scalars(query).one_or_none()
        if row is None:
            raise api_error(404, "unknown_return", f"no return for transfer {transfer_id}")
        row.reason = update.reason
        row.tagged_at = datetime.now(UTC)
        record_return_tag(
            session, who, transfer_id=transfer_id, call_sid=row.call_sid, reason=update.reason
        )
        session.flush()
        return _public(row)
