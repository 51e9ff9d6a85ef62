"""What the routes get from the app, as Annotated aliases, and the API's refusals.

- `ServicesDep`: everything the app built once (settings, Redis, the engine, the event log).
- `SessionDep`: one SQLAlchemy session per request on the app's engine. A handler that writes
  opens its transaction itself (`with session.begin():`), so that a refusal raised inside it
  rolls back and writes nothing.
- `TwilioTurn` checks the content type and the signature (403 with no side effect when either
  is missing or wrong), then turns the request into the flow's `Turn`: the form plus our query
  parameters, the language and step from the URL, the caller's pseudonym, the clock, and the
  live state.
- `PrincipalDep`, `allow(...)` and `AgentDep`: who asks, by API token or staff session (with
  its CSRF token on every change), and the roles a route lets through; `allow_page(...)` is
  the same for the staff pages, which send a visitor without a session to sign in.
- `api_error` and `ApiErrorBody`: every refusal of the API, `{"detail": {"error": <code>,
  "message": <text>}}` (switchboard/errors.py turns FastAPI's and Starlette's into the same).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

import redis
from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from twilio.rest import Client as TwilioClient

from ivr.call import Context, Turn
from ivr.config import LANGUAGES, Language
from switchboard.access import ApiToken, Principal, Role, authenticate, presented_token
from switchboard.accounts import still_signed_in
from switchboard.eventlog import EventLog
from switchboard.livestate import LiveState
from switchboard.presence import Presence
from switchboard.pseudonym import caller_pseudonym
from switchboard.queue_moves import QueueMoves
from switchboard.settings import Settings
from switchboard.sign_in_limits import SignInLimits
from switchboard.signature import is_signed, public_request_url
from switchboard.staff_sessions import SessionStore, StaffSession, cookie_name

log = logging.getLogger(__name__)

SIMULATED_TIME_HEADER = "x-simulated-time"


# --- the API's refusals -----------------------------------------------------------------------


class ApiError(BaseModel):
    error: str = Field(description="a stable code, such as call_not_in_progress")
    message: str = Field(description="what went wrong, for people")


class ApiErrorBody(BaseModel):
    detail: ApiError


def api_error(
    status: int, error: str, message: str, *, headers: dict[str, str] | None = None
) -> HTTPException:
    return HTTPException(
        status_code=status, detail={"error": error, "message": message}, headers=headers
    )


# --- what the app built ----------------------------------------------------------------------


@dataclass
class Services:
    """Everything the routes use, built once by the app factory."""

    settings: Settings
    ctx: Context
    events: EventLog
    live: LiveState
    redis: redis.Redis
    engine: Engine
    fallback_xml: str
    twilio: TwilioClient  # the REST API, for agent transfers (switchboard/twilio_rest.py)
    sessions: SessionStore  # staff sessions (switchboard/staff_sessions.py)
    sign_in_limits: SignInLimits
    simulated_clock: bool = False
    api_tokens: tuple[ApiToken, ...] = ()
    # Hands waiting callers to agents (switchboard/queue_moves.py); None without Twilio.
    moves: QueueMoves | None = None
    # Agent statuses and the line redirects that follow them (switchboard/presence.py).
    presence: Presence | None = None

    def now(self, request: Request) -> datetime:
        # Tests and `switchboard try-call` play calls at chosen instants; only an app built
        # with simulated_clock=True (never `serve`) reads the simulator's header.
        header = request.headers.get(SIMULATED_TIME_HEADER)
        if self.simulated_clock and header:
            return datetime.fromisoformat(header).astimezone(UTC)
        return datetime.now(UTC)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session on the app's engine for one request, closed when the handler returns."""
    with Session(services.engine) as session:
        yield session


# Closed before the response is sent: the connection goes back to the pool at once.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def refuse_unsigned() -> HTTPException:
    """The 403 for a request that was not verified (`VoiceRoute` counts it)."""
    return HTTPException(status_code=403, detail="invalid Twilio signature")


async def verified_params(request: Request, services: ServicesDep) -> dict[str, str]:
    """The request's form and query, once its X-Twilio-Signature has been verified.

    Twilio sends only `application/x-www-form-urlencoded`; any other content type is refused
    before the body is parsed, so multipart parsing (file fields, spooling) never runs here.
    The body is parsed as Starlette would parse a form, blank fields and repeated keys kept.
    A verification that fails for any reason, or raises, is a refusal: 403, counted, and
    no side effect. Verified parameters are kept on `request.state` for the error path.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    signature = request.headers.get("x-twilio-signature", "")
    if media_type != FORM_MEDIA_TYPE or not signature:
        raise refuse_unsigned()
    body = await request.body()
    fields: list[tuple[str, str | UploadFile]] = list(
        parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    )
    form = FormData(fields)
    url = public_request_url(request, services.settings.public_url)
    try:
        verified = is_signed(
            url=url, form=form, signature=signature, tokens=services.settings.auth_tokens
        )
    except Exception:
        log.warning("signature verification raised on %s; refused", request.url.path)
        verified = False
    if not verified:
        raise refuse_unsigned()
    params = {key: str(value) for key, value in form.items()}
    params.update(request.query_params.items())  # our own names never collide with Twilio's
    request.state.twilio_params = params
    return params


def verified_twilio_params(request: Request) -> dict[str, str] | None:
    """What `verified_params` let through for this request, or None if it did not."""
    params: dict[str, str] | None = getattr(request.state, "twilio_params", None)
    return params


def language_of(value: str, default: Language) -> Language:
    for language in LANGUAGES:
        if value == language:
            return language
    return default


def make_turn(services: Services, request: Request, params: dict[str, str]) -> Turn:
    at = services.now(request)
    call_sid = params.get("CallSid", "")
    caller = params.get("From", "")
    config = services.ctx.config
    try:
        step = max(0, int(params.get("s", "0")))
    except ValueError:
        step = 0
    caller_id = caller_pseudonym(caller, key=services.settings.caller_key) if caller else ""
    return Turn(
        call_sid=call_sid,
        caller=caller,
        caller_id=caller_id,
        params=params,
        language=language_of(params.get("lang", ""), config.municipality.default_language),
        step=step,
        at=at,
        live=services.live.view(
            call_sid=call_sid,
            transfer_id=params.get("t", ""),
            caller_id=caller_id,
            at=at,
            agent_id=params.get("a", ""),
        ),
    )


def twilio_turn(
    request: Request,
    services: ServicesDep,
    params: Annotated[dict[str, str], Depends(verified_params)],
) -> Turn:
    return make_turn(services, request, params)


TwilioTurn = Annotated[Turn, Depends(twilio_turn)]


# --- who asks: a staff session or an API token, and roles ----------------------------------

# Declared for the OpenAPI document (and so for clients and schemathesis); `principal` reads
# the header itself, so that HTTP Basic (the docs page in a browser) works too.
bearer = HTTPBearer(
    auto_error=False, description="An API token (`switchboard token new`), sent as Bearer."
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def _token_holder(request: Request, services: Services) -> Principal | None:
    """Whose token the request's Authorization header carries (Bearer or Basic), if anyone's."""
    token = presented_token(request.headers.get("authorization", ""))
    return authenticate(token, services.api_tokens)


def session_cookie(request: Request, services: Services) -> str:
    return request.cookies.get(cookie_name(services.settings.env == "production"), "")


def staff_session(request: Request, services: Services) -> StaffSession | None:
    """The live staff session the request's cookie names, if any. A password session ends when
    its account is disabled or gets a new password. 503 while Redis cannot be reached."""
    cookie = session_cookie(request, services)
    if not cookie:
        return None
    try:
        session = services.sessions.find(cookie, at=services.now(request))
        if session is not None and session.method == "password":
            if not still_signed_in(services.engine, session.principal.name, session.started):
                services.sessions.end(cookie)
                session = None
    except redis.RedisError:
        raise api_error(
            503, "sessions_unavailable", "signed-in pages are unavailable: Redis does not answer"
        ) from None
    request.state.staff_session = session
    return session


async def _presented_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type in (FORM_MEDIA_TYPE, "multipart/form-data"):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def find_principal(request: Request, services: Services) -> Principal | None:
    """Who the request acts for: an API token's holder (Authorization header), else the person
    whose session the cookie names. A request that changes something (any method but GET, HEAD
    and OPTIONS) on a session must present the session's CSRF token, as the X-CSRF-Token header
    or the csrf_token form field; a token-bearing request needs none (no browser sends a
    token by itself)."""
    holder = _token_holder(request, services)
    if holder is not None:
        return holder
    session = staff_session(request, services)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        presented = await _presented_csrf(request)
        if not hmac.compare_digest(presented.encode(), session.csrf.encode()):
            raise api_error(403, "csrf", "the form is out of date or forged: reload the page")
    return session.principal


async def principal(
    request: Request,
    services: ServicesDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """The staff member or tool behind an API request; 401 without a valid token or session."""
    found = await find_principal(request, services)
    if found is None:
        raise api_error(
            401,
            "unauthenticated",
            "sign in, or send an API token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def refuse_role(who: Principal, roles: tuple[Role, ...]) -> None:
    if who.role not in roles:
        raise api_error(
            403, "forbidden", f"this needs the role {' or '.join(roles)}, not {who.role}"
        )


def allow(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles through (403 for the others)."""

    def check(who: PrincipalDep) -> Principal:
        refuse_role(who, roles)
        return who

    return check


AgentDep = Annotated[Principal, Depends(allow("agent"))]


class SignInRequired(Exception):
    """A page was asked for without a session: errors.py sends the browser to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def allow_page(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """For the staff pages: like `allow`, but a request without a session (or token) is sent
    to the sign-in page, and comes back to where it was after."""

    async def check(request: Request, services: ServicesDep) -> Principal:
        found = await find_principal(request, services)
        if found is None:
            path = request.url.path
            raise SignInRequired(path + (f"?{request.url.query}" if request.url.query else ""))
        refuse_role(found, roles)
        return found

    return check


def docs_reader(request: Request, services: ServicesDep) -> None:
    """The API docs: open in development; in production, any valid token, Bearer or Basic."""
    if services.settings.env != "production":
        return
    if _token_holder(request, services) is None:
        raise api_error(
            401,
            "unauthenticated",
            "the API documentation needs an API token (as the password)",
            headers={"WWW-Authenticate": 'Basic realm="switchboard API", charset="UTF-8"'},
        )
