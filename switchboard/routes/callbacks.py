"""The callbacks agents owe: list the pending ones, and mark one done or cancelled.

`done_at - requested_at` is the "time until done" in the statistics, so a callback is marked
when the agent has called the citizen back. The raw number is shown here because the agent
has to dial it; it is the one place outside the callbacks table where it appears, so every
response that carries numbers writes one `number_read` audit row per number shown (actor: the
API token's name; subject: the pseudonym of the number shown, which is the caller's own unless
they keyed in another), in the same transaction as the read. Marking one also writes a
`callback_marked` entry (subject: the caller's pseudonym).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from switchboard import audit
from switchboard.access import Principal
from switchboard.deps import AgentDep, ServicesDep, SessionDep, api_error
from switchboard.errors import COMMON_ERRORS, error_response
from switchboard.models import Callback
from switchboard.pseudonym import caller_pseudonym
from switchboard.staff_audit import record_callback_mark

ID_MAX = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL

router = APIRouter(prefix="/api/callbacks", tags=["callbacks"], responses=COMMON_ERRORS)


class CallbackPublic(BaseModel):
    id: int
    call_sid: str
    number: str = Field(description="the number to call back, E.164")
    language: str = Field(description="the language the caller used: nn, nb or en")
    requested_at: datetime
    due_at: datetime | None = Field(description="the next opening, or null: as soon as possible")
    status: Literal["pending", "done", "cancelled"]
    done_at: datetime | None


class CallbackUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "cancelled"] = Field(
        description="done: the caller was called back; cancelled: no longer wanted"
    )


def _public(row: Callback) -> CallbackPublic:
    return CallbackPublic.model_validate(row, from_attributes=True)


def _audit_reads(session: Session, who: Principal, rows: list[Callback], *, key: str) -> None:
    """One `number_read` row per callback whose number the response shows. The subject is the
    shown number's pseudonym, so that a request about a number keyed in from another phone
    finds these reads too; for a caller's own number it is `callbacks.caller`."""
    for row in rows:
        if row.number:
            audit.record(
                session,
                actor=who.name,
                action="number_read",
                subject=caller_pseudonym(row.number, key=key),
                callback_id=row.id,
            )


@router.get("", response_model=list[CallbackPublic])
def list_callbacks(
    services: ServicesDep,
    session: SessionDep,
    agent: AgentDep,
    status: Literal["pending", "done", "cancelled"] = "pending",
) -> list[CallbackPublic]:
    """Callbacks by status; pending ones with the earliest due first (null = now)."""
    query = (
        select(Callback)
        .where(Callback.status == status)
        .order_by(Callback.due_at.is_not(None), Callback.due_at, Callback.requested_at)
    )
    with session.begin():
        rows = list(session.scalars(query))
        _audit_reads(session, agent, rows, key=services.settings.caller_key)
        return [_public(row) for row in rows]


@router.post(
    "/{callback_id}",
    response_model=CallbackPublic,
    responses={
        404: error_response("no such callback"),
        409: error_response("the callback is no longer pending"),
    },
)
def update_callback(
    callback_id: Annotated[int, Path(ge=1, le=ID_MAX, description="the callback's id")],
    change: CallbackUpdate,
    services: ServicesDep,
    session: SessionDep,
    agent: AgentDep,
) -> CallbackPublic:
    """Mark a pending callback done or cancelled; it cannot be changed after that."""
    # One transaction: a refusal (404, 409) rolls back, so it writes neither the change nor
    # an audit row.
    with session.begin():
        row = session.get(Callback, callback_id)
        if row is None:
            raise api_error(404, "unknown_callback", f"no callback {callback_id}")
        # Guarded in SQL too, so two agents marking the same callback cannot both win.
        marked = session.execute(
            update(Callback)
            .where(Callback.id == callback_id, Callback.status == "pending")
            .values(status=change.status, done_at=datetime.now(UTC))
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            raise api_error(409, "callback_not_pending", f"callback {callback_id} is {row.status}")
        session.refresh(row)
        record_callback_mark(
            session, agent, callback_id=callback_id, caller=row.caller, status=change.status
        )
        _audit_reads(session, agent, [row], key=services.settings.caller_key)
        return _public(row)
