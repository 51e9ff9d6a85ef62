"""The API's one error shape, `{"detail": {"error": <code>, "message": <text>}}`, for every
refusal: our own, FastAPI's validation errors (422), a body that is not JSON (400), and
Starlette's (404, 405).

A client reads `error`, a stable code, and shows `message` to people; the OpenAPI document
describes every one of them with `ApiErrorBody`. Routes refuse with `api_error`; both live in
switchboard/deps.py with the other things routes use. This module holds the exception
handlers that give FastAPI's and Starlette's refusals the same shape, and the response docs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.deps import ApiErrorBody, SignInRequired


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


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
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


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    if not (isinstance(detail, dict) and {"error", "message"} <= detail.keys()):
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = {"error": code, "message": str(detail)}
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _sign_in(_request: Request, exc: Exception) -> RedirectResponse:
    """A staff page asked for without a session: to the sign-in page, and back after."""
    assert isinstance(exc, SignInRequired)
    return RedirectResponse("/agent/login?" + urlencode({"next": exc.next_path}), status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(SignInRequired, _sign_in)
