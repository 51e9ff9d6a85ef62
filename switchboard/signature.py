"""Twilio request signatures (X-Twilio-Signature), checked behind any proxy.

Twilio signs the public URL it called. Behind a TLS-terminating proxy the app sees another
scheme and host, so the URL is rebuilt from SWITCHBOARD_PUBLIC_URL plus the raw path and the
raw query, byte for byte (Starlette's `request.url` decodes the path; docs/twilio.md).
The form is passed as Starlette's FormData, blank fields and repeated keys included.
Several tokens are accepted during a rotation (docs/twilio.md, Signatures).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import RequestValidator


def public_request_url(request: Request, public_url: str) -> str:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    url = public_url + raw_path.decode("latin-1")
    if query:
        url += "?" + query.decode("latin-1")
    return url


def is_signed(*, url: str, form: FormData, signature: str, tokens: list[str]) -> bool:
    if not signature:
        return False
    return any(RequestValidator(token).validate(url, form, signature) for token in tokens)
