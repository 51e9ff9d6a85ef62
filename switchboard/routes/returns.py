"""Returned transfers as agents see them, and the reason an agent tags when taking one.

`cause` is what the dial reported; `reason` is the agent's judgement (docs/glossary.md). The
projection never touches `reason`, so a tag survives late events. With the reason `other` the
agent may add a `note`: a few words why, at most 200 characters, and never personal data (no
names, phone numbers or case details; it is free text, so the API can only ask for that). Each
tag writes a `return_tagged` audit entry in its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Select, select

from ivr.vocabulary import RETURN_NOTE_MAX_CHARS, Initiator, ReturnKind, ReturnReason
from switchboard.access import Principal
from switchboard.deps import ServicesDep, SessionDep, allow, api_error
from switchboard.errors import COMMON_ERRORS, error_response
from switchboard.models import ReturnRecord
from switchboard.staff_audit import record_return_tag

router = APIRouter(prefix="/api/returns", tags=["returns"], responses=COMMON_ERRORS)

# Agents tag returns as they take them; managers and department leads review them. A
# department lead sees and tags only the returns to their own department.
ReviewerDep = Annotated[Principal, Depends(allow("agent", "manager", "department_lead"))]


def visible_to(
    query: Select[ReturnRecord], who: Principal, *, department: str | None = None
) -> Select[ReturnRecord]:
    """The query narrowed to the returns `who` may see (a department lead: their own
    department's, in SQL), and to `department` when one is asked for. A department lead who
    asks for another department is refused (403 `other_department`), not shown nothing."""
    if who.role == "department_lead":
        if department and department != who.department:
            raise api_error(
                403, "other_department", "a department lead sees only their own department"
            )
        return query.where(ReturnRecord.department == who.department)
    if department:
        return query.where(ReturnRecord.department == department)
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
    note: str | None = Field(description="the agent's few words, with reason `other` only")
    detected_at: datetime
    tagged_at: datetime | None


class _Tag(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlainTag(_Tag):
    reason: Literal["wrong_department", "no_answer", "department_closed", "wanted_switchboard"]

    @model_validator(mode="before")
    @classmethod
    def _no_note(cls, data: Any) -> Any:
        if isinstance(data, dict) and "note" in data:
            raise ValueError("a note goes with the reason `other` only")
        return data

    @property
    def note(self) -> None:
        return None


class OtherTag(_Tag):
    reason: Literal["other"]
    note: str | None = Field(
        default=None,
        max_length=RETURN_NOTE_MAX_CHARS,
        pattern=r"\S",  # at least one character that is not white space
        description=(
            "A few words why the caller came back. Free text that managers read: never "
            "personal data (no names, phone numbers or case details)."
        ),
    )


# A note goes with the reason `other` only, and the schema says so: one shape per reason.
ReasonUpdate = Annotated[PlainTag | OtherTag, Field(discriminator="reason")]
if {*get_args(PlainTag.model_fields["reason"].annotation), "other"} != {*get_args(ReturnReason)}:
    raise RuntimeError("the tag shapes must cover exactly the reasons in ivr/vocabulary.py")


def _public(row: ReturnRecord) -> ReturnPublic:
    return ReturnPublic.model_validate(row, from_attributes=True)


@router.get(
    "",
    response_model=list[ReturnPublic],
    responses={403: error_response("a department lead asked for another department")},
)
def list_returns(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    who: ReviewerDep,
    hours: int = Query(default=24, ge=1, le=24 * 31, description="how far back to look"),
    untagged: bool = Query(default=False, description="only returns without a reason yet"),
    department: str | None = Query(
        default=None, description="only this department's (a department lead: their own)"
    ),
) -> list[ReturnPublic]:
    """Recent returns, newest first."""
    since = services.now(request) - timedelta(hours=hours)
    query = visible_to(
        select(ReturnRecord).where(ReturnRecord.detected_at >= since), who, department=department
    )
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
    """Tag why the caller came back; tagging again replaces the reason and the note."""
    query = visible_to(select(ReturnRecord).where(ReturnRecord.transfer_id == transfer_id), who)
    with session.begin():
        row = session.scalars(query).one_or_none()
        if row is None:
            raise api_error(404, "unknown_return", f"no return for transfer {transfer_id}")
        row.reason = update.reason
        row.note = update.note.strip() if update.note else None
        row.tagged_at = datetime.now(UTC)
        record_return_tag(
            session, who, transfer_id=transfer_id, call_sid=row.call_sid, reason=update.reason
        )
        session.flush()
        return _public(row)
