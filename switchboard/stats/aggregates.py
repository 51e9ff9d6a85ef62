"""Statistics from the call records: SQL aggregates over a window, optionally grouped.

Every function takes a connection and a window `[start, end)` of aware instants, aggregates
in the database (GROUP BY over indexed columns; rows are never looped over in Python) and
returns typed figures: a `Section` with the window's total and, when the section can be
grouped that way, one `Group` per key. Groupings: `department`, `initiator`, `kind` (the
return kind) and `reason` (the agent's tag; key None: not tagged yet) for transfers; `hour`,
`weekday` (Monday = 0) and `day` in local time for every section. What each number means is
in `switchboard.stats.glossary`; each figure's `term` names it.

Each row counts in the window of its defining instant: a call and its callbacks and SMS by
the call's start, a queue visit by its join, a transfer (and whether it returned) by its start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, exists, func, literal, select

from ivr.vocabulary import (
    AFTER_HOURS_RESULTS,
    ENDED_CALL_OUTCOMES,
    RETURN_KINDS,
    RETURN_REASONS,
    SERVICE_LEVEL_SECONDS,
    SHORT_ABANDON_SECONDS,
    TRANSFER_OUTCOMES,
)
from switchboard.models import (
    Callback,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    SmsMessage,
    TransferRecord,
)
from switchboard.stats.figures import (
    AfterHoursFigures,
    CallbackFigures,
    CallFigures,
    F,
    Group,
    Grouping,
    Key,
    QueueFigures,
    Report,
    Section,
    SmsFigures,
    TransferFigures,
)

NOT_JOINED = "not_joined"  # workers.visits: hung up during the prompt, before the Enqueue


def report(
    connection: Connection,
    *,
    start: datetime,
    end: datetime,
    group_by: Grouping | None = None,
    department: str | None = None,
    initiator: str | None = None,
    queue: str | None = None,
    threshold_seconds: float = SERVICE_LEVEL_SECONDS,
) -> Report:
    """Every section at once (`/api/stats`); the filters apply where they have a meaning."""
    return Report(
        start=start,
        end=end,
        group_by=group_by,
        calls=call_stats(connection, start=start, end=end, group_by=group_by),
        queue=queue_stats(
            connection,
            start=start,
            end=end,
            group_by=group_by,
            queue=queue,
            threshold_seconds=threshold_seconds,
        ),
        transfers=transfer_stats(
            connection,
            start=start,
            end=end,
            group_by=group_by,
            department=department,
            initiator=initiator,
        ),
        after_hours=after_hours_stats(connection, start=start, end=end, group_by=group_by),
        callbacks=callback_stats(connection, start=start, end=end, group_by=group_by),
        sms=sms_stats(connection, start=start, end=end, group_by=group_by),
    )


def call_stats(
    connection: Connection, *, start: datetime, end: datetime, group_by: Grouping | None = None
) -> Section[CallFigures]:
    c = CallRecord
    columns = {
        "calls": func.count(),
        "after_hours": _count(c.switchboard_open.is_(False)),
        "in_progress": _count(c.outcome == "in_progress"),
        "priority": _count(c.priority.is_(True)),
        "ivr_seconds": func.avg(c.ivr_seconds),
    }
    # The projection's outcome column (workers/projection.py), which the exporter counts too.
    columns.update(
        (f"outcome_{ending}", _count(c.outcome == ending)) for ending in ENDED_CALL_OUTCOMES
    )
    return _section(
        connection,
        make=lambda values, _key: CallFigures(**values),
        columns=columns,
        where=_within(c.started_at, start, end),
        keys=_keys(c),
        group_by=group_by,
    )


def queue_stats(
    connection: Connection,
    *,
    start: datetime,
    end: datetime,
    group_by: Grouping | None = None,
    queue: str | None = None,
    threshold_seconds: float = SERVICE_LEVEL_SECONDS,
) -> Section[QueueFigures]:
    v = QueueVisit
    short = and_(v.ended == "abandoned", v.wait_seconds < SHORT_ABANDON_SECONDS)
    in_hours = v.in_opening_hours.is_(True)
    left_out = v.ended.in_(("callback", "redirected", NOT_JOINED))
    joined = v.ended.is_(None) | (v.ended != NOT_JOINED)
    columns = {
        "offered": _count(joined),
        "answered": _count(v.ended == "answered"),
        "abandoned": _count(and_(v.ended == "abandoned", ~short)),
        "short_abandons": _count(short),
        "callbacks": _count(v.ended == "callback"),
        "closing": _count(v.ended == "closing"),
        "redirected": _count(v.ended == "redirected"),
        "errors": _count(v.ended == "error"),
        "waiting": _count(v.ended.is_(None)),
        "not_joined": _count(v.ended == NOT_JOINED),
        "answered_within": _count(
            and_(in_hours, v.ended == "answered", v.wait_seconds <= threshold_seconds)
        ),
        "service_level_base": _count(and_(in_hours, v.ended.is_not(None), ~left_out, ~short)),
        "asa_seconds": func.avg(case((v.ended == "answered", v.wait_seconds))),
    }
    where = _within(v.joined_at, start, end)
    if queue is not None:
        where = and_(where, v.queue == queue)

    def make(values: dict[str, Any], _key: Key | None) -> QueueFigures:
        return QueueFigures(
            **values,
            service_level=_ratio(values["answered_within"], values["service_level_base"]),
            abandonment_rate=_ratio(
                values["abandoned"], values["offered"] - values["short_abandons"]
            ),
        )

    return _section(
        connection, make=make, columns=columns, where=where, keys=_keys(v), group_by=group_by
    )


def transfer_stats(
    connection: Connection,
    *,
    start: datetime,
    end: datetime,
    group_by: Grouping | None = None,
    department: str | None = None,
    initiator: str | None = None,
) -> Section[TransferFigures]:
    t, r = TransferRecord, ReturnRecord
    columns: dict[str, Any] = {"transfers": func.count()}
    columns.update((outcome, _count(t.outcome == outcome)) for outcome in TRANSFER_OUTCOMES)
    columns["pending"] = _count(t.outcome.is_(None))
    columns["returned"] = func.count(r.transfer_id)
    columns.update((f"{kind}s", _count(r.kind == kind)) for kind in RETURN_KINDS)
    where = _within(t.started_at, start, end)
    if department is not None:
        where = and_(where, t.department == department)
    if initiator is not None:
        where = and_(where, t.initiator == initiator)

    def joined(query: Select[Any]) -> Select[Any]:
        return query.select_from(t).outerjoin(r, r.transfer_id == t.transfer_id)

    def make(values: dict[str, Any], _key: Key | None) -> TransferFigures:
        return TransferFigures(
            **values, return_rate=_ratio(values["returned"], values["transfers"])
        )

    keys = _keys(t, own={"department": t.department, "initiator": t.initiator})
    if group_by not in ("kind", "reason"):
        return _section(
            connection,
            make=make,
            columns=columns,
            where=where,
            keys=keys,
            group_by=group_by,
            joined=joined,
        )
    # By return kind or reason: each row is the transfers that returned that way, out of all
    # transfers, so that the rows' rates add up to the total return rate.
    total = _section(
        connection, make=make, columns=columns, where=where, keys=keys, group_by=None, joined=joined
    ).total
    returned = _section(
        connection,
        make=lambda values, _key: make(values | {"transfers": total.transfers}, _key),
        columns=columns,
        where=and_(where, r.transfer_id.is_not(None)),
        keys={"kind": r.kind, "reason": r.reason},
        group_by=group_by,
        joined=joined,
    )
    groups = returned.groups
    if group_by == "reason":  # the vocabulary's order, untagged last, on either database
        order: list[Key | None] = [*RETURN_REASONS, None]
        groups = sorted(groups, key=lambda group: order.index(group.key))
    return Section(group_by, total, groups)


def after_hours_stats(
    connection: Connection, *, start: datetime, end: datetime, group_by: Grouping | None = None
) -> Section[AfterHoursFigures]:
    c = CallRecord
    columns: dict[str, Any] = {"calls": func.count()}
    columns.update((got, _count(c.after_hours_result == got)) for got in AFTER_HOURS_RESULTS)
    return _section(
        connection,
        make=lambda values, _key: AfterHoursFigures(**values),
        columns=columns,
        where=and_(_within(c.started_at, start, end), c.switchboard_open.is_(False)),
        keys=_keys(c),
        group_by=group_by,
    )


def callback_stats(
    connection: Connection, *, start: datetime, end: datetime, group_by: Grouping | None = None
) -> Section[CallbackFigures]:
    b, c = Callback, CallRecord
    columns = {
        "requested": func.count(),
        "done": _count(b.status == "done"),
        "cancelled": _count(b.status == "cancelled"),
        "pending": _count(b.status == "pending"),
    }
    where = _within(c.started_at, start, end)
    keys = _keys(c)
    medians = _medians(connection, key=keys.get(group_by or ""), where=where)

    def joined(query: Select[Any]) -> Select[Any]:
        return query.select_from(b).join(c, c.call_sid == b.call_sid)

    return _section(
        connection,
        make=lambda values, key: CallbackFigures(**values, median_seconds_to_done=medians.get(key)),
        columns=columns,
        where=where,
        keys=keys,
        group_by=group_by,
        joined=joined,
    )


def sms_stats(
    connection: Connection, *, start: datetime, end: datetime, group_by: Grouping | None = None
) -> Section[SmsFigures]:
    s, c, v, t = SmsMessage, CallRecord, QueueVisit, TransferRecord
    served = exists().where(v.call_sid == s.call_sid, v.ended == "answered")
    connected = exists().where(t.call_sid == s.call_sid, t.outcome == "connected")
    columns = {
        "requested": func.count(),
        "sent": _count(s.status == "sent"),
        "failed": _count(s.status.in_(("failed", "rejected"))),
        "deflections": _count(and_(s.status.in_(("queued", "sent")), ~served, ~connected)),
    }

    def joined(query: Select[Any]) -> Select[Any]:
        return query.select_from(s).join(c, c.call_sid == s.call_sid)

    return _section(
        connection,
        make=lambda values, _key: SmsFigures(**values),
        columns=columns,
        where=_within(c.started_at, start, end),
        keys=_keys(c),
        group_by=group_by,
        joined=joined,
    )


# -- building blocks ---------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the window needs aware datetimes")
    if not start < end:
        raise ValueError("the window's start must come before its end")
    return and_(column >= start, column < end)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _keys(model: Any, *, own: dict[str, Any] | None = None) -> dict[str, Any]:
    """The grouping columns a table has: its local buckets, and `own` ones."""
    keys = {"hour": model.hour_local, "weekday": model.weekday_local, "day": model.day_local}
    return keys | (own or {})


def _key(value: Any) -> Key | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, int) else str(value)


def _section(
    connection: Connection,
    *,
    make: Callable[[dict[str, Any], Key | None], F],
    columns: dict[str, Any],
    where: ColumnElement[bool],
    keys: dict[str, Any],
    group_by: Grouping | None,
    joined: Callable[[Select[Any]], Select[Any]] = lambda query: query,
) -> Section[F]:
    """The total, and one group per key when this table has the asked-for grouping.

    `make` turns the named aggregates (and the group's key; None for the total) into figures.
    """
    names = list(columns)
    aggregates = [columns[name] for name in names]
    row = connection.execute(joined(select(*aggregates)).where(where)).one()
    total = make(_values(names, row), None)
    key = keys.get(group_by) if group_by else None
    if key is None:
        return Section(None, total, [])
    query = joined(select(key, *aggregates)).where(where).group_by(key).order_by(key)
    groups = [
        Group(_key(value), make(_values(names, rest), _key(value)))
        for value, *rest in connection.execute(query)
    ]
    return Section(group_by, total, groups)


def _values(names: list[str], row: Sequence[Any]) -> dict[str, Any]:
    # Averages come back as Decimal from PostgreSQL; figures are plain floats and ints.
    return {
        name: float(value) if value is not None and not isinstance(value, int) else value
        for name, value in zip(names, row, strict=True)
    }


def _medians(
    connection: Connection, *, key: Any, where: ColumnElement[bool]
) -> dict[Key | None, float]:
    """Median seconds from request to done, overall (None) and per key: the middle one or two
    values of each sorted partition, with window functions that both dialects have."""
    b, c = Callback, CallRecord
    seconds = _seconds_between(connection, b.requested_at, b.done_at)
    done = and_(where, b.status == "done", b.done_at.is_not(None))
    result: dict[Key | None, float] = {}
    for partition in (None, key) if key is not None else (None,):
        label = (partition if partition is not None else literal(0)).label("k")
        inner = (
            select(
                label,
                seconds.label("s"),
                func.row_number().over(partition_by=partition, order_by=seconds).label("n"),
                func.count().over(partition_by=partition).label("size"),
            )
            .select_from(b)
            .join(c, c.call_sid == b.call_sid)
            .where(done)
            .subquery()
        )
        middle = inner.c.n.in_(((inner.c.size + 1) // 2, (inner.c.size + 2) // 2))
        query = select(inner.c.k, func.avg(inner.c.s)).where(middle).group_by(inner.c.k)
        for group, median in connection.execute(query):
            result[_key(group) if partition is not None else None] = float(median)
    return result


def _seconds_between(connection: Connection, start: Any, end: Any) -> Any:
    if connection.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)
