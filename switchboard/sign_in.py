"""The end of every sign-in, whichever way the person proved who they are (a local password,
switchboard/routes/staff.py; OpenID Connect, switchboard/routes/oidc_sign_in.py): a new
server-side session, its cookie, an audit entry, and the way back to the page they asked for.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from switchboard.access import Principal
from switchboard.audit import record
from switchboard.deps import Services, session_cookie
from switchboard.staff_sessions import Method, clear_session_cookie, set_session_cookie

HOME = "/agent/"


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a path on this service, never another site (an open
    redirect would let a phishing link send people anywhere after a real sign-in)."""
    if not next_path:
        return HOME
    parts = urlsplit(next_path)
    if (
        parts.scheme
        or parts.netloc
        or not next_path.startswith("/")
        or next_path.startswith("//")
        or "\\" in next_path
        or any(ord(c) < 0x20 for c in next_path)
    ):
        return HOME
    return next_path


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def complete_sign_in(
    services: Services,
    request: Request,
    who: Principal,
    *,
    method: Method,
    next_path: str | None,
) -> RedirectResponse:
    """Start a session for `who` (ending any the browser had), record it, and send the
    browser on with its cookie (303, so the next request is a GET)."""
    previous = session_cookie(request, services)
    if previous:
        services.sessions.end(previous)  # a new session id at every sign-in: no fixation
    session_id, _session = services.sessions.start(who, method=method, at=services.now(request))
    with Session(services.engine) as db, db.begin():
        record(
            db,
            actor=who.name,
            action="sign_in",
            at=services.now(request),
            method=method,
            role=who.role,
        )
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, session_id, production=services.settings.env == "production")
    return response


def sign_out(services: Services, request: Request, who: Principal) -> RedirectResponse:
    """End the request's session, record it, clear the cookie, and show the sign-in page."""
    services.sessions.end(session_cookie(request, services))
    with Session(services.engine) as db, db.begin():
        record(db, actor=who.name, action="sign_out", at=services.now(request))
    response = RedirectResponse("/agent/login?signed_out=1", status_code=303)
    clear_session_cookie(response, production=services.settings.env == "production")
    return response
