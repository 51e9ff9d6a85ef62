"""The staff's report pages: returned transfers, and the audit log with its CSV export.

- `/reports/returns` (agents, managers, department leads): the returns the API would show the
  same person, through the same query (`returns.visible_to`), so a department lead's
  department is applied in SQL; asking for another department is a 403 page.
- `/reports/audit` and `/reports/audit.csv` (managers): audit entries filtered by person,
  action, local dates and a citizen's number (through its pseudonym; the lookup is itself
  recorded, as `privacy_find`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from switchboard import audit
from switchboard.access import Principal
from switchboard.deps import Services, ServicesDep, allow_page
from switchboard.models import ReturnRecord
from switchboard.pages.audit_filter import AuditFilter, audit_csv, compact_detail, read_filter
from switchboard.pages.renderer import local_zone, page_language, render
from switchboard.routes.returns import visible_to

router = APIRouter(include_in_schema=False)

ManagerPage = Annotated[Principal, Depends(allow_page("manager"))]
ReviewerPage = Annotated[Principal, Depends(allow_page("agent", "manager", "department_lead"))]

PAGE_ROWS = 500
CSV_ROWS = 50_000
PERIODS = (("1", "last_day"), ("7", "last_week"), ("31", "last_month"))


def recent_returns(
    services: Services, who: Principal, *, since: datetime, department: str | None = None
) -> list[ReturnRecord]:
    """The returns `who` may see since `since`, newest first, at most PAGE_ROWS + 1 (so a
    page can tell it was cut)."""
    query = visible_to(
        select(ReturnRecord).where(ReturnRecord.detected_at >= since), who, department=department
    )
    with Session(services.engine) as session:
        rows = session.scalars(query.order_by(ReturnRecord.detected_at.desc()).limit(PAGE_ROWS + 1))
        return list(rows)


def count_returns(services: Services, who: Principal, *, since: datetime) -> tuple[int, int]:
    """How many returns `who` may see since `since`, and how many of them are untagged."""
    visible = visible_to(select(ReturnRecord).where(ReturnRecord.detected_at >= since), who)
    rows = visible.subquery()
    query = select(func.count(), func.count().filter(rows.c.reason.is_(None))).select_from(rows)
    with Session(services.engine) as session:
        total, untagged = session.execute(query).one()
        return int(total), int(untagged)


@router.get("/reports/returns", response_class=HTMLResponse)
def returns_page(
    request: Request, services: ServicesDep, who: ReviewerPage, department: str = "", days: str = ""
) -> HTMLResponse:
    days = days if days in dict(PERIODS) else "1"
    since = services.now(request) - timedelta(days=int(days))
    rows = recent_returns(services, who, since=since, department=department or None)
    language = page_language(request, services)
    departments = [
        (d.id, d.name.get(language))
        for d in services.ctx.config.departments
        if who.role != "department_lead" or d.id == who.department
    ]
    return render(
        request,
        services,
        "returns.html",
        title_key="returns_title",
        who=who,
        rows=rows[:PAGE_ROWS],
        limited=len(rows) > PAGE_ROWS,
        departments=departments,
        department=department or (who.department or ""),
        periods=PERIODS,
        days=days,
    )


def _audit_filter(request: Request, services: Services) -> AuditFilter:
    return read_filter(
        request.query_params, zone=local_zone(services), caller_key=services.settings.caller_key
    )


def _record_number_lookup(
    services: Services, request: Request, who: Principal, wanted: AuditFilter, found: int
) -> None:
    """Searching by a citizen's number is a lookup of their data: the audit log records it."""
    if wanted.subject is None:
        return
    with Session(services.engine) as session, session.begin():
        audit.record(
            session,
            actor=who.name,
            action="privacy_find",
            subject=wanted.subject,
            at=services.now(request),
            via="audit page",
            entries=found,
        )


@router.get("/reports/audit", response_class=HTMLResponse)
def audit_page(request: Request, services: ServicesDep, who: ManagerPage) -> HTMLResponse:
    wanted = _audit_filter(request, services)
    rows: list[audit.Audited] = []
    if not wanted.errors:
        rows = list(wanted.entries(services.engine, limit=PAGE_ROWS + 1))
        _record_number_lookup(services, request, who, wanted, min(len(rows), PAGE_ROWS))
    return render(
        request,
        services,
        "audit.html",
        title_key="audit_title",
        who=who,
        status=400 if wanted.errors else 200,
        filters=wanted,
        errors=wanted.errors,
        action_codes=audit.ACTIONS,
        rows=rows[:PAGE_ROWS],
        limited=len(rows) > PAGE_ROWS,
        detail=compact_detail,
    )


@router.get("/reports/audit.csv", response_model=None)
def audit_export(request: Request, services: ServicesDep, who: ManagerPage) -> Response:
    wanted = _audit_filter(request, services)
    if wanted.errors:
        return audit_page(request, services, who)
    rows = wanted.entries(services.engine, limit=CSV_ROWS)
    _record_number_lookup(services, request, who, wanted, len(rows))
    stamp = services.now(request).astimezone(local_zone(services)).strftime("%Y%m%d-%H%M")
    return Response(
        audit_csv(rows, zone=local_zone(services)),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="audit-{stamp}.csv"',
            "cache-control": "no-store",
        },
    )
