"""`GET /agent/status`: the agent status panel on a page of its own.

The console (`/agent/`) includes the same panel (templates/console_status.html); this page
shows it without the rest of the console, for agents and managers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from switchboard.access import Principal
from switchboard.deps import ServicesDep, allow_page
from switchboard.pages.renderer import render

router = APIRouter(include_in_schema=False)

StatusReader = Annotated[Principal, Depends(allow_page("agent", "manager"))]


@router.get("/agent/status", response_class=HTMLResponse)
def status_page(request: Request, services: ServicesDep, who: StatusReader) -> HTMLResponse:
    return render(request, services, "agent_status.html", title_key="status_title", who=who)
