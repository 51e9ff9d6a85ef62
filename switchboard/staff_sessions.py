"""Staff sessions, kept server-side in Redis; the browser holds only a random id in a cookie.

A session is created at sign-in (a local password or OpenID Connect) and holds who signed in
(the `Principal`: name, role, department, agent link), how, when, and the session's CSRF token.
Redis keeps it under the SHA-256 of the cookie's value, so a copy of Redis (its append-only
file, a backup) holds no cookie that could be replayed.

- **Idle expiry:** every request that finds the session records when it was last used; a
  session unused for `idle_seconds` is ended. The key's TTL is the idle time too, renewed on
  use, so Redis forgets abandoned sessions by itself. The clock is the caller's (`at`), so
  tests can play idle time without waiting.
- **An absolute limit:** a session older than `max_seconds` is ended even if in use.
- **Sign-out** deletes the key: the cookie is worthless from then on, wherever it was copied.

The cookie is HttpOnly and SameSite=Lax always, and Secure with the `__Host-` prefix in
production (which browsers accept only over HTTPS, on path /, without a Domain).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

import redis
from starlette.responses import Response

from switchboard.access import ROLES, Principal

KEY_PREFIX = "switchboard:session:"
COOKIE = "switchboard_session"
PRODUCTION_COOKIE = "__Host-switchboard_session"
Method = Literal["password", "oidc"]


def cookie_name(production: bool) -> str:
    return PRODUCTION_COOKIE if production else COOKIE


def set_session_cookie(response: Response, session_id: str, *, production: bool) -> None:
    """Give the browser its session: HttpOnly, SameSite=Lax, and in production Secure under
    the `__Host-` prefix. No Max-Age: the cookie lasts as long as the browser runs, and the
    session's own limits end it on the server."""
    response.set_cookie(
        cookie_name(production),
        session_id,
        path="/",
        secure=production,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, production: bool) -> None:
    response.delete_cookie(
        cookie_name(production), path="/", secure=production, httponly=True, samesite="lax"
    )


@dataclass(frozen=True)
class StaffSession:
    principal: Principal
    csrf: str
    method: Method
    started: datetime
    last_seen: datetime


def _key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def _encode(session: StaffSession) -> str:
    who = session.principal
    return json.dumps(
        {
            "name": who.name,
            "role": who.role,
            "department": who.department,
            "agent_id": who.agent_id,
            "display_name": who.display_name,
            "csrf": session.csrf,
            "method": session.method,
            "started": session.started.isoformat(),
            "last_seen": session.last_seen.isoformat(),
        }
    )


def _decode(raw: str | bytes) -> StaffSession | None:
    try:
        data = json.loads(raw)
        role = next(r for r in ROLES if r == data["role"])
        method: Method = "oidc" if data["method"] == "oidc" else "password"
        return StaffSession(
            principal=Principal(
                name=str(data["name"]),
                role=role,
                department=data.get("department"),
                agent_id=data.get("agent_id"),
                display_name=str(data.get("display_name") or ""),
            ),
            csrf=str(data["csrf"]),
            method=method,
            started=datetime.fromisoformat(data["started"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
        )
    except (ValueError, KeyError, TypeError, StopIteration):
        return None


class SessionStore:
    """Sessions in Redis, each expiring after `idle_seconds` without use and at the latest
    `max_seconds` after sign-in. Redis errors propagate: a page that needs a session cannot be
    served without Redis, and says so."""

    def __init__(self, client: redis.Redis, *, idle_seconds: int, max_seconds: int) -> None:
        self._redis = client
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def start(
        self, principal: Principal, *, method: Method, at: datetime | None = None
    ) -> tuple[str, StaffSession]:
        """A new session; returns the cookie's value (shown to nobody else) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = at or datetime.now(UTC)
        session = StaffSession(
            principal=principal,
            csrf=secrets.token_urlsafe(32),
            method=method,
            started=now,
            last_seen=now,
        )
        self._redis.set(_key(session_id), _encode(session), ex=self.idle_seconds)
        return session_id, session

    def find(self, session_id: str, *, at: datetime | None = None) -> StaffSession | None:
        """The live session behind a cookie's value, marked as used now; None when there is
        none, or it was idle for `idle_seconds` or is older than `max_seconds` (then it is
        ended)."""
        if not session_id or len(session_id) > 128:
            return None
        key = _key(session_id)
        raw = self._redis.get(key)
        if raw is None:
            return None
        session = _decode(raw)
        now = at or datetime.now(UTC)
        if (
            session is None
            or (now - session.last_seen).total_seconds() > self.idle_seconds
            or (now - session.started).total_seconds() > self.max_seconds
        ):
            self._redis.delete(key)
            return None
        session = replace(session, last_seen=max(now, session.last_seen))
        self._redis.set(key, _encode(session), ex=self.idle_seconds, xx=True)
        return session

    def end(self, session_id: str) -> None:
        if session_id:
            self._redis.delete(_key(session_id))
