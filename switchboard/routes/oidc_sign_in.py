"""Sign-in through the municipality's OpenID provider (switchboard/oidc.py, docs/oidc.md).

- `GET /agent/login/oidc?next=/agent/` sends the browser to the provider, with a short-lived
  cookie that binds the sign-in to this browser.
- `GET /agent/login/oidc/callback?code=...&state=...` is where the provider sends it back: a
  session and the page asked for, or the sign-in page with `error=oidc_failed` (anything
  wrong with the answer or the provider) or `error=oidc_no_role` (the person is not allowed in).

Both answer 404 while `SWITCHBOARD_OIDC_ISSUER` is empty.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated

import redis
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from switchboard import oidc
from switchboard.audit import record
from switchboard.deps import Services, ServicesDep, api_error
from switchboard.identity_provider import FAILED, OidcRefused, failed
from switchboard.sign_in import HOME, client_address, complete_sign_in, safe_next

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
LOGIN_PAGE = "/agent/login"


def _require_oidc(services: Services) -> None:
    if not services.settings.oidc_issuer:
        raise api_error(404, "not_found", "sign-in through OpenID Connect is not configured")


def _production(services: Services) -> bool:
    return services.settings.env == "production"


def _to_login_page(services: Services, code: str) -> RedirectResponse:
    response = RedirectResponse(f"{LOGIN_PAGE}?error={code}", status_code=303)
    response.delete_cookie(
        oidc.binding_cookie_name(_production(services)),
        path="/",
        secure=_production(services),
        httponly=True,
        samesite="lax",
    )
    return response


def _audit_refusal(services: Services, request: Request, refused: OidcRefused) -> None:
    with Session(services.engine) as db, db.begin():
        record(
            db,
            actor=refused.name or "oidc:unknown",
            action="sign_in_failed",
            at=services.now(request),
            method="oidc",
            why=refused.reason,
        )


@router.get("/agent/login/oidc")
async def oidc_start(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str, Query(alias="next")] = HOME,
) -> Response:
    _require_oidc(services)
    cookie = oidc.binding_cookie_name(_production(services))
    try:
        start = await oidc.begin(
            services.settings,
            next_path=safe_next(next_path),
            binding=request.cookies.get(cookie, ""),
        )
        await run_in_threadpool(oidc.keep_flow, services.redis, start.state, start.flow)
    except OidcRefused as refused:
        log.warning("OpenID Connect sign-in could not start: %s", refused.reason)
        return _to_login_page(services, refused.code)
    except redis.RedisError:
        log.warning("OpenID Connect sign-in could not start: Redis does not answer")
        return _to_login_page(services, FAILED)
    response = RedirectResponse(start.authorization_url, status_code=303)
    response.set_cookie(
        cookie,
        start.binding,
        max_age=oidc.FLOW_SECONDS,
        path="/",
        secure=_production(services),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(oidc.CALLBACK_PATH)
async def oidc_callback(
    request: Request,
    services: ServicesDep,
    code: str = "",
    state: str = "",
    iss: str | None = None,
    error: str = "",
) -> Response:
    _require_oidc(services)
    settings = services.settings
    try:
        # The flow is taken first, whatever the answer: a state never works twice.
        flow = await run_in_threadpool(oidc.take_flow, services.redis, state) if state else None
        if error and flow is not None:
            # The provider's error code (access_denied when the person cancelled); only its
            # letters reach the log, so a crafted one cannot forge log lines.
            raise failed("provider_error: " + re.sub(r"[^a-z_]", "", error)[:40])
        finished = await oidc.finish(
            settings,
            services.ctx.config,
            flow,
            code=code,
            binding=request.cookies.get(oidc.binding_cookie_name(_production(services)), ""),
            iss=iss,
            now=int(time.time()),
        )
    except OidcRefused as refused:
        log.warning(
            "OpenID Connect sign-in refused from %s: %s", client_address(request), refused.reason
        )
        if refused.reason != "state_unknown_or_used":
            await run_in_threadpool(_audit_refusal, services, request, refused)
        return _to_login_page(services, refused.code)
    except redis.RedisError:
        log.warning("OpenID Connect sign-in refused: Redis does not answer")
        return _to_login_page(services, FAILED)
    try:
        response = await run_in_threadpool(
            complete_sign_in,
            services,
            request,
            finished.principal,
            method="oidc",
            next_path=finished.next_path,
        )
    except redis.RedisError:
        log.warning(
            "OpenID Connect sign-in of %s failed: Redis does not answer", finished.principal.name
        )
        return _to_login_page(services, FAILED)
    response.delete_cookie(
        oidc.binding_cookie_name(_production(services)),
        path="/",
        secure=_production(services),
        httponly=True,
        samesite="lax",
    )
    return response
