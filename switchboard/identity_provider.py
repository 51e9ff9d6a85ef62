"""What the sign-in asks the municipality's OpenID provider, apart from the code exchange
(switchboard/oidc.py): its discovery document, its signing keys, and its UserInfo endpoint.

The discovery document and the keys are cached in this process for CACHE_SECONDS; an ID token
signed with a key not in the cache makes one fresh fetch of the keys (the provider rotated
them). Every request has a PROVIDER_TIMEOUT_SECONDS timeout. Anything wrong is an `OidcRefused`
with the code `oidc_failed`, whose reason names the problem but never a token.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx2
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

PROVIDER_TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = 300.0
FAILED = "oidc_failed"
NO_ROLE = "oidc_no_role"


class OidcRefused(Exception):
    """A sign-in that must not happen. `code` is for the sign-in page (`oidc_failed`,
    `oidc_no_role`), `reason` for the logs; `name` is who the provider said the person was,
    when the ID token was valid."""

    def __init__(self, code: str, reason: str, *, name: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.name = name


def failed(reason: str) -> OidcRefused:
    return OidcRefused(FAILED, reason)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


_documents: dict[str, tuple[float, Any]] = {}


async def _get_json(url: str, *, fresh: bool = False, bearer: str | None = None) -> Any:
    """A JSON document from the provider; a public one (no `bearer`) from the cache when
    younger than CACHE_SECONDS."""
    cached = _documents.get(url)
    if bearer is None and cached is not None and not fresh:
        if time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    headers = {"Accept": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        async with httpx2.AsyncClient(timeout=PROVIDER_TIMEOUT_SECONDS) as client:
            response = await client.get(url, headers=headers)
        response.raise_for_status()
        document = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise failed(f"provider_unreachable: {type(exc).__name__} from {url}") from None
    if bearer is None:
        _documents[url] = (time.monotonic(), document)
    return document


async def discover(issuer: str) -> ProviderMetadata:
    """The provider's endpoints, from `<issuer>/.well-known/openid-configuration`; the document
    must name the configured issuer exactly (OpenID Connect Discovery 1.0, section 4.3)."""
    document = await _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    try:
        userinfo = document.get("userinfo_endpoint")
        metadata = ProviderMetadata(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
        )
    except (KeyError, TypeError, AttributeError):
        raise failed("discovery_incomplete") from None
    if metadata.issuer != issuer:
        raise failed("discovery_issuer_mismatch")
    return metadata


async def _key_set(jwks_uri: str, *, fresh: bool) -> KeySet:
    try:
        return KeySet.import_key_set(await _get_json(jwks_uri, fresh=fresh))
    except (JoseError, ValueError, TypeError, KeyError):
        raise failed("jwks_invalid") from None


def _kid(id_token: str) -> str | None:
    """The `kid` in a token's header, read without trusting it (only to pick a key set)."""
    try:
        segment = id_token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


async def signing_keys(provider: ProviderMetadata, id_token: str) -> KeySet:
    """The provider's keys, fetched again once when none has the token's key id."""
    keys = await _key_set(provider.jwks_uri, fresh=False)
    if _kid(id_token) not in {key.kid for key in keys.keys}:
        keys = await _key_set(provider.jwks_uri, fresh=True)
    return keys


async def userinfo(provider: ProviderMetadata, access_token: str, *, sub: str) -> dict[str, Any]:
    """The UserInfo endpoint's claims for the person the ID token names (`sub`): a response
    about anyone else is refused (OpenID Connect Core 1.0, section 5.3.2)."""
    if provider.userinfo_endpoint is None:
        return {}
    claims = await _get_json(provider.userinfo_endpoint, bearer=access_token)
    if not isinstance(claims, dict) or claims.get("sub") != sub:
        raise failed("userinfo_sub_mismatch")
    return claims
