"""Login CSRF: the sign-in form only works when posted from our own sign-in page.

Without a session there is no session CSRF token, so the sign-in page gives the browser a
random pre-session cookie (`switchboard_login`: HttpOnly, SameSite=Lax, Secure in production,
an hour long) and puts HMAC-SHA256(secret key, that value) in the form. A forged form on
another site cannot know the cookie's value, so it cannot carry the matching token; a page
that signs a victim into the attacker's account is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request
from starlette.responses import Response

from switchboard.settings import Settings

LOGIN_COOKIE = "switchboard_login"
LOGIN_COOKIE_SECONDS = 3600
LOGIN_COOKIE_PATH = "/agent/login"
_VALUE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def login_cookie(request: Request) -> str:
    """The request's pre-session value, if it has a well-formed one."""
    value = request.cookies.get(LOGIN_COOKIE, "")
    return value if _VALUE.match(value) else ""


def new_login_value() -> str:
    return secrets.token_urlsafe(32)


def form_token(settings: Settings, value: str) -> str:
    """What the form carries for this pre-session value."""
    return hmac.new(settings.secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def form_is_ours(settings: Settings, request: Request, presented: str) -> bool:
    """Whether a posted sign-in form came from our page in this browser."""
    value = login_cookie(request)
    if not value or not presented:
        return False
    return hmac.compare_digest(form_token(settings, value).encode(), presented.encode())


def set_login_cookie(response: Response, value: str, *, production: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_COOKIE_SECONDS,
        path=LOGIN_COOKIE_PATH,
        secure=production,
        httponly=True,
        samesite="lax",
    )
