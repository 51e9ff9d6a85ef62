"""Call records in SQL: project calls from their stored events and upsert the rows.

`project_calls` runs in the ingest's transaction, right after a batch's events are inserted:
for every call the batch touched it loads *all* the call's events, projects them
(`workers.projection`, pure), and upserts the rows with INSERT ... ON CONFLICT DO UPDATE on
their natural keys. Whatever order events come in, the rows end up as the projection of the
full set.

Returns across calls (hand-back, recall) depend on other calls. A transfer's return is
settled by its own caller's calls and by the hand-back calls from its department
(`workers.returns`), so each time, within three recall windows either side of the touched
calls, these are matched again: the touched callers' transfers and the touched calls' own, every
transfer to the departments those went to (or a touched hand-back call came from), and all the
calls and transfers of every caller of those, with the departments' hand-back calls. Rewritten
are the returns of the touched callers' and departments' transfers that a touched call could
come back from (started before it, ended within a window before it or later), whose every
possible return is loaded, and those the touched calls had before.
Whichever of two related calls is projected last brings the other into its neighbourhood, so
late events converge.

A call's state only moves forward: an upsert never takes an ended call back to `active`.
A call whose events the retention purge deleted keeps its record: a late event for it is
stored but not projected (`_purged_calls`).
An agent's `reason` tag (and note) on a return is kept unless the return moves to another call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, delete, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ivr.events import Event
from switchboard.models import (
    Base,
    Callback,
    CallEvent,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    TransferRecord,
)
from switchboard.municipality import read_municipality
from switchboard.pseudonym import caller_pseudonym
from switchboard.settings import DEFAULT_CONFIG
from workers.projection import CallProjection, CallRow, Projector
from workers.returns import CallFacts, ReturnRow, TransferFacts

# How far around the touched calls the cross-call neighbourhood reaches, in recall windows.
CONTEXT_WINDOWS = 3
REBUILD_CHUNK = 200


# What Twilio puts in `From` when the number is withheld: words, or its special caller ids
# (ANONYMOUS, UNAVAILABLE, RESTRICTED and BLOCKED spelled on a keypad).
WITHHELD_NUMBERS = (
    "anonymous",
    "unknown",
    "restricted",
    "private",
    "unavailable",
    "+266696687",
    "+86282452253",
    "+7378742833",
    "+2562533",
)


def load_projector(path: Path = DEFAULT_CONFIG, *, caller_key: str | None = None) -> Projector:
    """The projector for the municipality file at `path` (the shipped Alver file by default).

    With the caller key, the pseudonyms of withheld numbers are known, so that two anonymous
    callers are never taken for one caller calling again.
    """
    unidentified = (
        [caller_pseudonym(number, key=caller_key) for number in WITHHELD_NUMBERS]
        if caller_key
        else []
    )
    return Projector(read_municipality(path), unidentified=unidentified)


def project_calls(
    connection: Connection, *, call_sids: Iterable[str], projector: Projector
) -> list[CallProjection]:
    """Project these calls from all their stored events and upsert the results."""
    sids = sorted(set(call_sids))
    if not sids:
        return []
    events: dict[str, list[Event]] = {sid: [] for sid in sids}
    rows = connection.execute(
        select(
            CallEvent.event_id,
            CallEvent.kind,
            CallEvent.call_sid,
            CallEvent.dedupe_key,
            CallEvent.occurred_at,
            CallEvent.data,
        ).where(CallEvent.call_sid.in_(sids))
    )
    for event_id, kind, call_sid, dedupe_key, at, data in rows:
        events[call_sid].append(
            Event(
                kind=kind, call_sid=call_sid, dedupe_key=dedupe_key, at=at, data=data, id=event_id
            )
        )
    purged = _purged_calls(connection, events)
    projections = [
        projection
        for sid in sids
        if sid not in purged
        and (projection := projector.project_call(sid, events[sid])) is not None
    ]
    _write(connection, projections)
    _rematch_returns(connection, [p.call for p in projections], projector=projector)
    return projections


def _purged_calls(connection: Connection, events: dict[str, list[Event]]) -> set[str]:
    """The calls whose events the retention purge deleted (workers/retention.py): a record
    exists, and every stored event is later than its start. A complete call always has an
    event at its start (`call_started`, else its earliest event), so only a late event of a
    purged call looks like this; projecting it would overwrite the record with a fragment."""
    earliest = {sid: min(e.at for e in found) for sid, found in events.items() if found}
    if not earliest:
        return set()
    starts = connection.execute(
        select(CallRecord.call_sid, CallRecord.started_at).where(
            CallRecord.call_sid.in_(sorted(earliest))
        )
    )
    return {sid for sid, started_at in starts if earliest[sid] > started_at}


def rebuild(engine: Engine, *, projector: Projector, chunk: int = REBUILD_CHUNK) -> int:
    """Project every call in `call_events` again, a chunk per transaction; returns the count.

    For a new or changed projection (after an upgrade, say); ingestion may run meanwhile.
    """
    with engine.connect() as connection:
        sids = list(connection.scalars(select(CallEvent.call_sid).distinct()))
    for start in range(0, len(sids), chunk):
        with engine.begin() as connection:
            project_calls(connection, call_sids=sids[start : start + chunk], projector=projector)
    return len(sids)


# -- writing ---------------------------------------------------------------------------------


def _write(connection: Connection, projections: Sequence[CallProjection]) -> None:
    if not projections:
        return
    sids = [p.call.call_sid for p in projections]
    calls = CallRecord.__table__
    _upsert(
        connection,
        CallRecord,
        [asdict(p.call) for p in projections],
        # Forward only: a projection that says `active` never overwrites an ended call (its
        # end events would have to have vanished, say purged by retention).
        where=lambda excluded: or_(calls.c.state == "active", excluded.state != "active"),
    )
    transfers = [asdict(t) for p in projections for t in p.transfers]
    _upsert(connection, TransferRecord, transfers)
    connection.execute(
        delete(TransferRecord).where(
            TransferRecord.call_sid.in_(sids),
            TransferRecord.transfer_id.not_in([t["transfer_id"] for t in transfers]),
        )
    )
    visits = [asdict(v) for p in projections for v in p.visits]
    _upsert(connection, QueueVisit, visits)
    connection.execute(
        delete(QueueVisit).where(
            QueueVisit.call_sid.in_(sids),
            QueueVisit.visit_id.not_in([v["visit_id"] for v in visits]),
        )
    )

    bounces = [b for p in projections for b in p.bounces]
    _write_returns(connection, bounces)
    connection.execute(
        delete(ReturnRecord).where(
            ReturnRecord.kind == "bounce",
            ReturnRecord.transfer_call_sid.in_(sids),
            ReturnRecord.transfer_id.not_in([b.transfer_id for b in bounces]),
        )
    )

    links = [
        {"b_event": event_id, "b_visit": visit_id}
        for p in projections
        for event_id, visit_id in p.callback_visits
    ]
    if links:
        connection.execute(
            update(Callback)
            .where(Callback.event_id == bindparam("b_event"))
            .values(visit_id=bindparam("b_visit")),
            links,
        )


def _write_returns(connection: Connection, rows: Sequence[ReturnRow]) -> None:
    if not rows:
        return
    returns = ReturnRecord.__table__

    def tags(excluded: Any) -> dict[str, Any]:
        # The agent tagged the caller who came back; a different call is a new return.
        same_call = returns.c.call_sid == excluded.call_sid
        return {
            "reason": case((same_call, returns.c.reason), else_=None),
            "note": case((same_call, returns.c.note), else_=None),
            "tagged_at": case((same_call, returns.c.tagged_at), else_=None),
        }

    _upsert(connection, ReturnRecord, [asdict(row) for row in rows], extra=tags)


def _insert(connection: Connection, model: type[Base]) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def _upsert(
    connection: Connection,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    extra: Callable[[Any], dict[str, Any]] | None = None,
    where: Callable[[Any], Any] | None = None,
) -> None:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE the given columns, on both dialects.

    `extra` and `where` get the `excluded` row (the one that was refused) to refer to.
    """
    if not rows:
        return
    key = [column.name for column in inspect(model).primary_key]
    statement = _insert(connection, model)
    excluded = statement.excluded
    updates = {name: excluded[name] for name in rows[0] if name not in key}
    updates.update(extra(excluded) if extra else {})
    # One row per key: PostgreSQL refuses to update a row twice in one statement.
    unique = list({tuple(row[k] for k in key): row for row in rows}.values())
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=key,
            set_=updates,
            where=where(excluded) if where else None,
        ),
        unique,
    )


# -- returns across calls --------------------------------------------------------------------


def _rematch_returns(
    connection: Connection, touched: Sequence[CallRow], *, projector: Projector
) -> None:
    if not touched:
        return
    window = projector.recall_window
    starts = [call.started_at for call in touched]
    low, high = min(starts), max(starts)
    span = {"since": low - window * CONTEXT_WINDOWS, "until": high + window * CONTEXT_WINDOWS}
    sids = {call.call_sid for call in touched}
    callers = {call.caller for call in touched if call.caller}
    # The touched callers' transfers and the touched calls' own; the departments they went to
    # or a touched hand-back call came from; every transfer to those departments...
    transfers = _transfer_facts(
        connection,
        **span,
        match=or_(TransferRecord.caller.in_(callers), TransferRecord.call_sid.in_(sids)),
    )
    departments = {t.department for t in transfers}
    departments |= {call.from_department for call in touched if call.from_department}
    transfers += _transfer_facts(
        connection, **span, match=TransferRecord.department.in_(departments)
    )
    # ...and all calls and transfers of every caller involved, with the departments' hand-back
    # calls: everyone who may come back for one of these transfers, and what else they chose.
    others = {t.caller for t in transfers if t.caller} - callers
    transfers += _transfer_facts(connection, **span, match=TransferRecord.caller.in_(others))
    calls = _call_facts(
        connection,
        **span,
        match=or_(
            CallRecord.caller.in_(callers | others),
            CallRecord.from_department.in_(departments),
        ),
    )
    matched = projector.match_returns(calls=calls, transfers=transfers)
    # Rewritten: the transfers of the touched callers and departments near the touched calls
    # (whoever may come back for them is loaded), and those the touched calls returned before.
    scope = {
        t.transfer_id
        for t in transfers
        if t.call_sid in sids
        or (
            (t.caller in callers or t.department in departments)
            and t.started_at <= high + window
            and (t.left_at or t.started_at) >= low - window
        )
    }
    scope |= set(
        connection.scalars(
            select(ReturnRecord.transfer_id).where(
                ReturnRecord.call_sid.in_(sids), ReturnRecord.kind != "bounce"
            )
        )
    )
    rows = [row for row in matched if row.transfer_id in scope]
    connection.execute(
        delete(ReturnRecord).where(
            ReturnRecord.kind != "bounce",
            ReturnRecord.transfer_id.in_(sorted(scope)),
            ReturnRecord.transfer_id.not_in([row.transfer_id for row in rows]),
        )
    )
    _write_returns(connection, rows)


def _call_facts(
    connection: Connection, *, since: datetime, until: datetime, match: Any
) -> list[CallFacts]:
    query = select(
        CallRecord.call_sid, CallRecord.caller, CallRecord.started_at, CallRecord.from_department
    ).where(CallRecord.started_at.between(since, until), match)
    return [
        CallFacts(call_sid=sid, caller=caller, started_at=at, from_department=department)
        for sid, caller, at, department in connection.execute(query)
    ]


def _transfer_facts(
    connection: Connection, *, since: datetime, until: datetime, match: Any
) -> list[TransferFacts]:
    query = (
        select(
            TransferRecord.transfer_id,
            TransferRecord.call_sid,
            TransferRecord.caller,
            TransferRecord.department,
            TransferRecord.initiator,
            TransferRecord.started_at,
            TransferRecord.ended_at,
            TransferRecord.outcome,
            CallRecord.ended_at,
            TransferRecord.whisper_accepted_at,
        )
        .outerjoin(CallRecord, CallRecord.call_sid == TransferRecord.call_sid)
        .where(
            TransferRecord.started_at.between(since, until),
            TransferRecord.outcome == "connected",
            match,
        )
    )
    return [
        TransferFacts(
            transfer_id=row[0],
            call_sid=row[1],
            caller=row[2],
            department=row[3],
            initiator=row[4],
            started_at=row[5],
            ended_at=row[6],
            outcome=row[7],
            call_ended_at=row[8],
            accepted_at=row[9],
        )
        for row in connection.execute(query)
    ]
