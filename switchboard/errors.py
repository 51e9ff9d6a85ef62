"""The API's one error shape, `{"detail": {"error": <code>, "message": <text>}}`, for every
refusal: our own, FastAPI's validation errors (422), a body that is not JSON (400), and
Starlette's (404, 405).

A client reads `error`, a stable code, and shows `message` to people; the OpenAPI document
describes every one of them with `ApiErrorBody`. Routes refuse with `api_error`; both live in
switchboard/deps.py with the other things routes use. This module holds the exception
handlers that give FastAPI's and Starlette's refusals the same shape, and the response docs.

The staff pages (under /agent/ and /reports/) get the same refusals as an HTML page in the
page language instead, and a page asked for without a live session sends the browser to sign
in (with `expired=1` when the cookie it sent names a session that has ended).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.deps import ApiErrorBody, SignInRequired, session_cookie
from switchboard.pages.renderer import problem_page
from switchboard.staff_sessions import clear_session_cookie


def error_response(description: str) -> dict[str, Any]:
    """An entry of a route's `responses`, in the shared shape."""
    return {"model": ApiErrorBody, "description": description}


# Every API route may answer these; `install_error_handlers` documents them on each.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response("the body is not valid JSON"),
    401: error_response("neither a valid API token (Bearer) nor a signed-in staff session"),
    403: error_response(
        "the role may not do this, or a signed-in session's change lacks its CSRF token"
    ),
    413: error_response("the body is over 64 KiB"),
    422: error_response("a parameter or the body is not valid; the message names it"),
}

_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    """`query parameter 'from'`, `body field 'department'`, `the body`.

    A parameter's location is its name alone: pydantic adds the member of a union that failed
    (`from.date`, `from.datetime`), which says nothing to the person reading it.
    """
    parts = [str(part) for part in loc]
    kinds = {"query": "query parameter", "path": "path parameter", "header": "header"}
    if parts and parts[0] in kinds and len(parts) > 1:
        return f"{kinds[parts[0]]} {parts[1]!r}"
    if parts and parts[0] == "body":
        return f"body field {'.'.join(parts[1:])!r}" if len(parts) > 1 else "the body"
    return ".".join(parts)


PAGE_PREFIXES = ("/agent/", "/reports/")
# A refusal's code -> the page's (title, message) wording keys.
PAGE_PROBLEMS = {
    "csrf": ("error_title", "form_stale"),
    "forbidden": ("forbidden_title", "forbidden"),
    "other_department": ("forbidden_title", "forbidden_department"),
    "not_found": ("not_found_title", "not_found"),
    "sessions_unavailable": ("unavailable_title", "unavailable"),
}


def _is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


def _page(request: Request, status: int, code: str, headers: Mapping[str, str] | None) -> Response:
    title, message = PAGE_PROBLEMS.get(code, ("error_title", "error"))
    return problem_page(
        request,
        request.app.state.services,
        status=status,
        title_key=title,
        message_key=message,
        headers=dict(headers) if headers is not None else None,
    )


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_page(request):
        return _page(request, 400, "invalid_request", None)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return JSONResponse(
            {"detail": {"error": "invalid_json", "message": "the body is not valid JSON"}},
            status_code=400,
        )
    first: dict[str, str] = {}  # one message per location, the first
    for error in errors:
        first.setdefault(_location(error.get("loc", ())), str(error.get("msg", "invalid")))
    message = "; ".join(f"{where}: {what}" for where, what in first.items())
    return JSONResponse(
        {"detail": {"error": "invalid_request", "message": message}}, status_code=422
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    if not (isinstance(detail, dict) and {"error", "message"} <= detail.keys()):
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = {"error": code, "message": str(detail)}
    if _is_page(request):
        return _page(request, exc.status_code, str(detail["error"]), exc.headers)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _sign_in(request: Request, exc: Exception) -> RedirectResponse:
    """A staff page asked for without a session: to the sign-in page, and back after. A cookie
    that names no live session (it ran out, or was ended elsewhere) says so, and is cleared."""
    assert isinstance(exc, SignInRequired)
    services = request.app.state.services
    # Back to a page, never to a form's target (a GET there would find no page).
    back = {"next": exc.next_path} if request.method in ("GET", "HEAD") else {}
    if not session_cookie(request, services):
        query = urlencode(back)
        return RedirectResponse("/agent/login" + (f"?{query}" if query else ""), status_code=303)
    response = RedirectResponse(
        "/agent/login?" + urlencode({"expired": "1", **back}), status_code=303
    )
    clear_session_cookie(response, production=services.settings.env == "production")
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(SignInRequired, _sign_in)
