"""The audit entries of call handling by staff through the API: an agent's transfer of a live
call, a return's reason tagged, a callback marked done or cancelled, a transfer despite the
transfer guard's warnings.

Each is written in the transaction of the change it records (the route's), so a refusal that
rolls the change back leaves no entry, and a change cannot commit without its entry. The actor
is the principal's name: an API token's, or the signed-in person's user name. The subject is
the caller's pseudonym when the service knows it (the call's record), never a number.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.access import Principal
from switchboard.audit import record
from switchboard.directory import GuardWarning
from switchboard.models import CallRecord


def caller_of(session: Session, call_sid: str) -> str | None:
    """The pseudonym of the caller on `call_sid`, once the call's record exists."""
    return session.scalar(select(CallRecord.caller).where(CallRecord.call_sid == call_sid))


def record_transfer(
    session: Session, who: Principal, *, call_sid: str, department: str, step: int
) -> None:
    """`transfer`: the transfer id is the one the transfer's events will carry
    (ivr/transfer.py: the call and the step the redirect starts at)."""
    record(
        session,
        actor=who.name,
        action="transfer",
        subject=caller_of(session, call_sid),
        call_sid=call_sid,
        department=department,
        transfer_id=f"{call_sid}.{step}",
    )


def record_return_tag(
    session: Session, who: Principal, *, transfer_id: str, call_sid: str, reason: str
) -> None:
    record(
        session,
        actor=who.name,
        action="return_tagged",
        subject=caller_of(session, call_sid),
        transfer_id=transfer_id,
        reason=reason,
    )


def record_callback_mark(
    session: Session, who: Principal, *, callback_id: int, caller: str | None, status: str
) -> None:
    record(
        session,
        actor=who.name,
        action="callback_marked",
        subject=caller,
        callback_id=callback_id,
        status=status,
    )


def record_override(
    session: Session,
    who: Principal,
    *,
    call_sid: str,
    department: str,
    warnings: tuple[GuardWarning, ...],
) -> None:
    """`guard_override`: the agent transferred despite the guard's warnings."""
    record(
        session,
        actor=who.name,
        action="guard_override",
        subject=caller_of(session, call_sid),
        call_sid=call_sid,
        department=department,
        warnings=list(warnings),
    )
