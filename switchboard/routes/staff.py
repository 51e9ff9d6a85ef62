"""Signing in and out with a local account, and the signed-in home page.

- `GET /agent/login`: the form, with login CSRF (switchboard/pages/login_guard.py), the
  messages for signed out, expired and failed OpenID Connect, and a link to sign in with the
  organisation account when OpenID Connect is configured.
- `POST /agent/login`: the form must be ours (403); the sign-in limits come before any
  password is checked (429, with Retry-After); a wrong user name or password gives the same
  answer either way (401) and an audit entry `sign_in_failed`; a right one starts the session
  (`complete_sign_in`). Without Redis, 503.
- `POST /agent/logout`: ends the session (the session's CSRF token is required).
- `GET /agent/`: for an agent, the console (switchboard/routes/console.py); for the other
  roles, who you are, and what your role may see, with today's figures.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, time
from typing import Annotated
from urllib.parse import urlencode

import redis
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from switchboard.access import ROLES, Principal
from switchboard.accounts import check_password
from switchboard.audit import record
from switchboard.deps import Services, ServicesDep, allow_page
from switchboard.pages.login_guard import (
    form_is_ours,
    form_token,
    login_cookie,
    new_login_value,
    set_login_cookie,
)
from switchboard.pages.renderer import local_zone, problem_page, render
from switchboard.routes.console import console_page
from switchboard.routes.reports import count_returns
from switchboard.sign_in import client_address, complete_sign_in, safe_next, sign_out

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SignedIn = Annotated[Principal, Depends(allow_page(*ROLES))]
NOTICES = {"signed_out": "signed_out", "expired": "expired"}
OIDC_ERRORS = {"oidc_failed": "oidc_failed", "oidc_no_role": "oidc_no_role"}
MAX_USERNAME = 128
SIGN_IN = ("/agent/login", "back_to_sign_in")


def _sign_in_form(
    request: Request,
    services: Services,
    *,
    next_path: str,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    username: str = "",
) -> HTMLResponse:
    value = login_cookie(request) or new_login_value()
    target = safe_next(next_path)
    oidc_href = (
        "/agent/login/oidc?" + urlencode({"next": target}) if services.settings.oidc_issuer else ""
    )
    response = render(
        request,
        services,
        "login.html",
        title_key="sign_in_title",
        status=status,
        csrf=form_token(services.settings, value),
        next=target,
        notice=notice,
        problem=problem,
        username=username,
        oidc_href=oidc_href,
    )
    set_login_cookie(response, value, production=services.settings.env == "production")
    return response


@router.get("/agent/login", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str, Query(alias="next")] = "",
    error: str = "",
    signed_out: str = "",
    expired: str = "",
) -> HTMLResponse:
    notice = "expired" if expired else "signed_out" if signed_out else None
    # The OpenID Connect routes come back here with ?error=<code>; a code this page does not
    # know still says that signing in with the organisation account failed.
    problem = OIDC_ERRORS.get(error, "oidc_failed") if error else None
    return _sign_in_form(request, services, next_path=next_path, notice=notice, problem=problem)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _attempt(
    services: Services, request: Request, username: str, password: str, next_path: str
) -> Response:
    """Limits first, then the password; runs in a worker thread (argon2 takes a while)."""
    address = client_address(request)
    wait = services.sign_in_limits.retry_after(username, address)
    if wait > 0:
        log.warning("sign-in refused by the limits (retry after %d s)", wait)
        return problem_page(
            request,
            services,
            status=429,
            title_key="too_many_title",
            message_key="too_many",
            headers={"retry-after": str(wait)},
            back=SIGN_IN,
            minutes=math.ceil(wait / 60),
        )
    at = services.now(request)
    account = check_password(services.engine, username, password, at=at)
    if account is None:
        services.sign_in_limits.failed(username, address)
        with Session(services.engine) as session, session.begin():
            record(
                session,
                actor=username[:MAX_USERNAME],
                action="sign_in_failed",
                at=at,
                method="password",
            )
        return _sign_in_form(
            request,
            services,
            next_path=next_path,
            status=401,
            problem="wrong_credentials",
            username=username,
        )
    services.sign_in_limits.succeeded(username)
    return complete_sign_in(
        services, request, account.principal(), method="password", next_path=next_path
    )


@router.post("/agent/login", response_model=None)
async def sign_in(request: Request, services: ServicesDep) -> Response:
    form = await request.form()
    next_path = _field(form, "next")
    if not form_is_ours(services.settings, request, _field(form, "csrf_token")):
        return problem_page(
            request,
            services,
            status=403,
            title_key="sign_in_title",
            message_key="form_stale",
            back=SIGN_IN,
        )
    username = _field(form, "username").strip().lower()[:MAX_USERNAME]
    password = _field(form, "password")
    try:
        return await run_in_threadpool(_attempt, services, request, username, password, next_path)
    except redis.RedisError:
        log.warning("sign-in unavailable: Redis does not answer")
        return problem_page(
            request,
            services,
            status=503,
            title_key="unavailable_title",
            message_key="unavailable",
            back=SIGN_IN,
        )


@router.post("/agent/logout")
def sign_out_page(request: Request, services: ServicesDep, who: SignedIn) -> RedirectResponse:
    return sign_out(services, request, who)


@router.get("/agent/", response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, who: SignedIn) -> HTMLResponse:
    if who.role == "agent":
        return console_page(request, services, who)  # an agent's home is the console
    returns_today: int | None = None
    untagged_today: int | None = None
    if who.role in ("agent", "manager", "department_lead"):
        zone = local_zone(services)
        today = services.now(request).astimezone(zone).date()
        since = datetime.combine(today, time(), tzinfo=zone)
        returns_today, untagged_today = count_returns(services, who, since=since)
    return render(
        request,
        services,
        "home.html",
        title_key="home_title",
        who=who,
        returns_today=returns_today,
        untagged_today=untagged_today,
    )
