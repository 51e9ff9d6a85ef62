"""The department directory of the agent console: `GET /api/directory`, and the guard's cancel.

Every department with its number, open now (and when it closes) or when it opens next, today's
transfers, whisper acceptance, returns and return rate (the local day, Europe/Oslo; the same
SQL as `/api/stats`), and the transfer guard's verdict for a transfer now (docs/directory.md).
Agents and managers see every department; a department lead only their own.

`GET /agent/directory` shows the panel (templates/console_directory.html) on a page of its own.
`POST /api/directory/guard-cancelled` counts an agent's "cancel" in the guard's dialog; the
other choices are counted where they happen (the transfer with `override_guard`, the SMS link
and the callback, switchboard/routes/caller_offers.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from ivr.config import Config, Department
from switchboard.access import Principal
from switchboard.deps import AgentDep, ApiErrorBody, ServicesDep, allow, allow_page, api_error
from switchboard.directory import GuardWarning, directory
from switchboard.errors import COMMON_ERRORS
from switchboard.guard import count_choice, read_connection, warnings_now
from switchboard.pages.renderer import render

router = APIRouter(tags=["directory"], responses=COMMON_ERRORS)

DirectoryPage = Annotated[Principal, Depends(allow_page("agent", "manager"))]
DirectoryReaderDep = Annotated[Principal, Depends(allow("agent", "manager", "department_lead"))]


class TodayOut(BaseModel):
    transfers: int = Field(description="transfers started today (/glossary#transfer)")
    connected: int = Field(description="transfers a person accepted (/glossary#connected)")
    whispers: int = Field(description="transfers connected, declined or not answered")
    unanswered: int = Field(description="whispers declined or not answered")
    accepted_share: float | None = Field(
        description="connected / whispers (0-1); null without whispers"
    )
    returned: int = Field(
        description="today's transfers that returned (/glossary#returned-transfer)"
    )
    return_rate: float | None = Field(description="returned / transfers (/glossary#return-rate)")


class DepartmentOut(BaseModel):
    id: str
    key: str = Field(description="the department's key in the menus")
    name: str = Field(description="in the municipality's default language")
    names: dict[str, str] = Field(description="the name per language (nn, nb, en)")
    number: str
    open: bool
    closes_at: datetime | None = Field(description="when open: the end of this opening")
    next_opening: datetime | None = Field(description="when closed: when it opens next")
    today: TodayOut
    guard: list[GuardWarning] = Field(
        description="the guard's warnings for a transfer now; empty: ok (docs/directory.md)"
    )
    verdict: str = Field(description="`ok`, or `warn` when `guard` is not empty")


class DirectoryOut(BaseModel):
    now: datetime = Field(description="the instant the directory describes")
    caller: str | None = Field(
        default=None,
        description="the CallSid of the caller the signed-in agent talks with now, if any: "
        'the one "Set over" transfers',
    )
    departments: list[DepartmentOut]


class GuardCancelled(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str = Field(description="the department the agent did not transfer to")


class GuardCounted(BaseModel):
    department: str
    guard: list[GuardWarning]
    counted: bool = Field(description="false when the guard had nothing to warn about")


@router.get(
    "/api/directory",
    response_model=DirectoryOut,
    summary="Every department: number, hours now, today's figures, the transfer guard",
)
def get_directory(request: Request, services: ServicesDep, who: DirectoryReaderDep) -> DirectoryOut:
    ctx = services.ctx
    now = services.now(request)
    only = who.department if who.role == "department_lead" else None
    with read_connection(services.engine) as connection:
        entries = directory(
            connection, config=ctx.config, hours=ctx.hours, now=now, department=only
        )
    config = ctx.config
    departments = [
        DepartmentOut(
            id=e.department.id,
            key=e.department.key,
            name=e.department.name.get(config.municipality.default_language),
            names=_names(e.department),
            number=e.department.number,
            open=e.open,
            closes_at=e.closes_at,
            next_opening=e.next_opening,
            today=TodayOut(
                transfers=e.today.transfers,
                connected=e.today.connected,
                whispers=e.today.whispers,
                unanswered=e.today.unanswered,
                accepted_share=e.today.accepted_share,
                returned=e.today.returned,
                return_rate=e.today.return_rate,
            ),
            guard=list(e.warnings),
            verdict="warn" if e.warnings else "ok",
        )
        for e in entries
    ]
    return DirectoryOut(
        now=now.astimezone(config.zone), caller=_caller(services, who), departments=departments
    )


@router.post(
    "/api/directory/guard-cancelled",
    response_model=GuardCounted,
    summary="Count an agent's cancel in the transfer guard",
    responses={422: {"model": ApiErrorBody, "description": "an unknown department"}},
)
def guard_cancelled(
    body: GuardCancelled, request: Request, services: ServicesDep, agent: AgentDep
) -> GuardCounted:
    department = known_department(services.ctx.config, body.department)
    now = services.now(request)
    warnings = warnings_now(services.engine, services.ctx, now=now, department=department.id)
    counted = count_choice(request, "cancelled", warnings)
    return GuardCounted(department=department.id, guard=list(warnings), counted=counted)


@router.get("/agent/directory", response_class=HTMLResponse, include_in_schema=False)
def directory_page(request: Request, services: ServicesDep, who: DirectoryPage) -> HTMLResponse:
    """The directory panel on a page of its own (the console at /agent/ includes it too)."""
    return render(request, services, "directory.html", title_key="directory_page_title", who=who)


def known_department(config: Config, department_id: str) -> Department:
    try:
        return config.department(department_id)
    except KeyError:
        known = ", ".join(d.id for d in config.departments)
        raise api_error(
            422, "unknown_department", f"no department {department_id!r}; known: {known}"
        ) from None


def _caller(services: ServicesDep, who: Principal) -> str | None:
    if who.agent_id is None:
        return None
    try:
        return services.live.current_caller(who.agent_id)
    except redis.RedisError:
        return None  # the directory still shows; "Set over" waits for live state


def _names(department: Department) -> dict[str, str]:
    return {lang: department.name.get(lang) for lang in ("nn", "nb", "en")}
