"""Statistics for managers: `GET /api/stats`, and the glossary its numbers link to.

Every number comes as `{"value": ..., "definition": "/glossary#<term>"}`; `/glossary` is the
glossary as a web page (Nynorsk) and `/api/glossary` the same as JSON. The window defaults to
the last 7 days. A bad parameter is a 422 in FastAPI's validation shape, naming the parameter.
Queries run on a read-only connection (on PostgreSQL, also one snapshot for all sections).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, create_model

from ivr.vocabulary import SERVICE_LEVEL_SECONDS, UNTAGGED, Initiator
from switchboard.access import Principal
from switchboard.deps import ServicesDep, allow, api_error
from switchboard.errors import COMMON_ERRORS
from switchboard.stats.aggregates import report
from switchboard.stats.figures import (
    AfterHoursFigures,
    CallbackFigures,
    CallFigures,
    Grouping,
    Key,
    QueueFigures,
    Report,
    Section,
    SmsFigures,
    TransferFigures,
    figure_fields,
)
from switchboard.stats.glossary import REASON_LABELS, TERMS, glossary_html

router = APIRouter(tags=["stats"])

# A department lead reads the figures of transfers to their own department only.
StatsReaderDep = Annotated[Principal, Depends(allow("agent", "manager", "department_lead"))]

DEFAULT_DAYS = 7
MAX_DAYS = 400  # a year's report and then some; beyond that, ask in pieces
WEEKDAYS = ("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "søndag")
LABELS = {
    "initiator": {"ivr": "talemenyen", "agent": "medarbeidar"},
    "kind": {"bounce": "avvist", "hand_back": "sendt attende", "recall": "ringde att"},
}


class Metric(BaseModel):
    value: int | float | None = Field(
        description="The number; null when it cannot be computed, such as a rate of nothing."
    )
    definition: str = Field(
        description="Where the glossary defines it.", examples=["/glossary#service-level"]
    )


def _figures_model(figures: type[Any]) -> Any:
    metrics: dict[str, Any] = {
        name: (Metric, Field(description=f"{doc} Defined at /glossary#{term}."))
        for name, term, doc in figure_fields(figures)
    }
    return create_model(f"{figures.__name__}Out", **metrics)


def _section_model(name: str, figures: type[Any], description: str) -> Any:
    out = _figures_model(figures)
    group = create_model(
        f"{name}Group",
        key=(
            Key | None,
            Field(
                description="department id, initiator, kind, reason, hour, weekday or date; "
                "null for the returns not tagged with a reason yet"
            ),
        ),
        label=(str, Field(description="the key in words, in Nynorsk")),
        figures=(out, ...),
    )
    return create_model(
        f"{name}Section",
        __doc__=description,
        group_by=(
            Grouping | None,
            Field(description="the grouping applied; null when this section has no such key"),
        ),
        total=(out, Field(description="the whole window")),
        groups=(list[group], Field(description="one per key, when grouped")),
    )


SECTIONS: dict[str, tuple[type[Any], str]] = {
    "calls": (CallFigures, "Calls by their start. Groupings: hour, weekday, day."),
    "queue": (QueueFigures, "Queue visits by their join. Groupings: hour, weekday, day."),
    "transfers": (
        TransferFigures,
        "Transfers by their start, and whether they returned. Groupings: department, "
        "initiator, kind (of return), reason (the agent's tag; key null: not tagged yet), "
        "hour, weekday, day.",
    ),
    "after_hours": (
        AfterHoursFigures,
        "Calls while the switchboard was closed, by what they got. Groupings: hour, weekday, day.",
    ),
    "callbacks": (CallbackFigures, "Callback requests by the call's start. Time groupings."),
    "sms": (SmsFigures, "Self-service SMS by the call's start. Time groupings."),
}

_sections: dict[str, Any] = {
    name: (_section_model(name.title().replace("_", ""), figures, doc), ...)
    for name, (figures, doc) in SECTIONS.items()
}
StatsOut = create_model(
    "StatsOut",
    start=(datetime, Field(serialization_alias="from", description="window start (UTC)")),
    end=(datetime, Field(serialization_alias="to", description="window end, exclusive (UTC)")),
    time_zone=(str, Field(description="the zone of hour, weekday and day")),
    group_by=(Grouping | None, Field(description="the grouping asked for")),
    glossary=(str, Field(description="the glossary every definition link points into")),
    **_sections,
)


class TermOut(BaseModel):
    anchor: str
    title: str = Field(description="the term, in Nynorsk")
    text: str = Field(description="the definition, in Nynorsk")
    link: str = Field(examples=["/glossary#return-rate"])


@router.get(
    "/api/stats",
    response_model=StatsOut,
    summary="Switchboard statistics for a window",
    responses=COMMON_ERRORS,
    description=(
        "Calls, queue visits (service level, ASA, abandons), transfers and returns, after-hours "
        "calls, callbacks and SMS for `[from, to)`, optionally grouped. `from` and `to` take a "
        "date (local midnight) or an ISO 8601 time; without a zone they are local time "
        "(Europe/Oslo). `from` must be before `to`, at most 400 days apart. Default: the last 7 "
        "days. Every number links to its definition."
    ),
)
def get_stats(
    request: Request,
    services: ServicesDep,
    who: StatsReaderDep,
    start: Annotated[
        date | datetime | None,
        Query(alias="from", description="window start; default: 7 days before `to`"),
    ] = None,
    end: Annotated[
        date | datetime | None, Query(alias="to", description="window end; default: now")
    ] = None,
    group_by: Annotated[Grouping | None, Query(description="how to split the figures")] = None,
    department: Annotated[
        str | None, Query(description="transfers to this department id only")
    ] = None,
    initiator: Annotated[
        Initiator | None, Query(description="transfers started this way only")
    ] = None,
    queue: Annotated[
        Literal["main", "returns"] | None, Query(description="visits to this queue only")
    ] = None,
    threshold: Annotated[
        float, Query(gt=0, le=600, description="T for the service level, seconds")
    ] = SERVICE_LEVEL_SECONDS,
) -> dict[str, Any]:
    config = services.ctx.config
    if who.role == "department_lead":
        if department not in (None, who.department):
            raise api_error(403, "forbidden", f"this token may see department {who.department}")
        department = who.department
    zone = config.zone
    until = _instant(end, zone) if end else services.now(request)
    since = _instant(start, zone) if start else until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        _invalid("from", start, "`from` must be before `to`")
    if until - since > timedelta(days=MAX_DAYS):
        _invalid("from", start, f"the window is longer than {MAX_DAYS} days; ask in pieces")
    if department is not None and department not in {d.id for d in config.departments}:
        known = ", ".join(d.id for d in config.departments)
        _invalid("department", department, f"no such department; known: {known}")
    engine = services.engine
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(
                postgresql_readonly=True, isolation_level="REPEATABLE READ"
            )
        result = report(
            connection,
            start=since,
            end=until,
            group_by=group_by,
            department=department,
            initiator=initiator,
            queue=queue,
            threshold_seconds=threshold,
        )
    names = {d.id: d.name.get(config.municipality.default_language) for d in config.departments}
    return _body(result, zone=zone, departments=names)


@router.get("/api/glossary", response_model=list[TermOut], summary="The statistics' glossary")
def get_glossary() -> list[dict[str, str]]:
    return [{"anchor": t.anchor, "title": t.title, "text": t.text, "link": t.link} for t in TERMS]


@router.get("/glossary", response_class=HTMLResponse, summary="The glossary as a web page")
def glossary_page() -> HTMLResponse:
    return HTMLResponse(glossary_html())


def _invalid(name: str, value: Any, message: str) -> None:
    raise RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A date is local midnight; a time without an offset is local time."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)
    local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return local.astimezone(UTC)


def _body(result: Report, *, zone: ZoneInfo, departments: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "start": result.start,
        "end": result.end,
        "time_zone": str(zone),
        "group_by": result.group_by,
        "glossary": "/glossary",
    }
    for name in SECTIONS:
        section: Section[Any] = getattr(result, name)
        body[name] = {
            "group_by": section.group_by,
            "total": _metrics(section.total),
            "groups": [
                {
                    "key": group.key,
                    "label": _label(section.group_by, group.key, departments),
                    "figures": _metrics(group.figures),
                }
                for group in section.groups
            ],
        }
    return body


def _metrics(figures: Any) -> dict[str, dict[str, Any]]:
    return {
        name: {"value": getattr(figures, name), "definition": f"/glossary#{term}"}
        for name, term, _doc in figure_fields(type(figures))
    }


def _label(group_by: Grouping | None, key: Key | None, departments: dict[str, str]) -> str:
    if group_by == "reason":
        return REASON_LABELS.get(UNTAGGED if key is None else str(key), str(key))
    if group_by == "department":
        return departments.get(str(key), str(key))
    if group_by == "weekday" and isinstance(key, int) and 0 <= key < len(WEEKDAYS):
        return WEEKDAYS[key]
    if group_by == "hour" and isinstance(key, int):
        return f"{key:02d}–{(key + 1) % 24:02d}"
    return LABELS.get(group_by or "", {}).get(str(key), str(key))
