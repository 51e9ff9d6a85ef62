"""Staff sign-in through OpenID Connect (docs/oidc.md): this service is the relying party.

The flow, with `switchboard/routes/oidc_sign_in.py` as its two thin handlers:

1. `begin`: a random `state`, `nonce` and PKCE verifier (S256), and where to go afterwards, are
   kept in Redis under the SHA-256 of the state for ten minutes; the browser is sent to the
   provider's authorization endpoint. The browser also gets a short-lived HttpOnly cookie whose
   value's hash is kept with the flow: the callback must come back to the same browser, so an
   attacker cannot make a victim's browser finish the attacker's sign-in (login CSRF), nor
   replay a code stolen from someone else's browser.
2. `finish`: the flow is taken out of Redis (GETDEL: a state works once), the cookie checked,
   the code exchanged for tokens (Authlib's client, with the verifier and the client secret),
   and the ID token validated against the provider's keys: signature (asymmetric algorithms
   only), `iss`, `aud`, `azp`, `exp`, `iat` and the `nonce`. The claims then become a
   `Principal`, or a refusal.

The claims come from the ID token; only when it lacks the role claim is the provider's UserInfo
endpoint asked (for the same `sub`), and the ID token's claims win. The discovery document, the
keys and UserInfo are switchboard/identity_provider.py's, with its cache and short timeouts. A
refusal is an `OidcRefused`: `code` is what the sign-in page shows (`oidc_failed`,
`oidc_no_role`), `reason` what the log and the audit log say; neither ever holds a token or a
code.

Claims to a role: the values of the role claim (a string or a list) go through
`SWITCHBOARD_OIDC_ROLE_MAP`; when several values map to roles, the first of `ROLE_PRECEDENCE`
wins (manager, department_lead, agent, operator: the widest view of call data first). A
department lead must have a department claim naming a department of the municipality; an
agent's optional agent claim must name an agent of the roster.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
import redis
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ivr.config import Config
from switchboard.access import Principal, Role
from switchboard.identity_provider import (
    FAILED,
    NO_ROLE,
    PROVIDER_TIMEOUT_SECONDS,
    OidcRefused,
    ProviderMetadata,
    discover,
    failed,
    signing_keys,
    userinfo,
)
from switchboard.settings import Settings

CALLBACK_PATH = "/agent/login/oidc/callback"
FLOW_PREFIX = "switchboard:oidc:flow:"
FLOW_SECONDS = 600
BINDING_COOKIE = "switchboard_oidc"
PRODUCTION_BINDING_COOKIE = "__Host-switchboard_oidc"
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric only: "none" and HMAC (with the client secret) are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
ROLE_PRECEDENCE: tuple[Role, ...] = ("manager", "department_lead", "agent", "operator")


def binding_cookie_name(production: bool) -> str:
    return PRODUCTION_BINDING_COOKIE if production else BINDING_COOKIE


def redirect_uri(settings: Settings) -> str:
    return settings.public_url + CALLBACK_PATH


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- the ID token ------------------------------------------------------------------------------


def validate_id_token(
    id_token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: int,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The ID token's claims, once its signature (by one of `keys`, an asymmetric algorithm),
    issuer, audience, authorized party, expiry, issue time and nonce are right; else
    OidcRefused (`oidc_failed`) naming what was wrong."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except JoseError as exc:
        raise failed(f"id_token_signature: {exc.error}") from None
    except ValueError:
        raise failed("id_token_malformed") from None
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True, "value": nonce},
        },
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=now, leeway=CLOCK_LEEWAY_SECONDS)
    except JoseError as exc:
        raise failed(f"id_token_claims: {exc.error}: {exc.description}") from None
    return dict(claims)


# --- claims to a principal ---------------------------------------------------------------------


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def name_from_claims(claims: Mapping[str, Any], settings: Settings) -> str | None:
    """Who the audit log records: the name claim, else the email, else the subject."""
    for key in (settings.oidc_name_claim, "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def role_from_claims(claims: Mapping[str, Any], settings: Settings) -> Role | None:
    """The role the claim's values map to; with several, the first in ROLE_PRECEDENCE."""
    mapped = {
        settings.oidc_role_map[value]
        for value in _strings(claims.get(settings.oidc_role_claim))
        if value in settings.oidc_role_map
    }
    return next((role for role in ROLE_PRECEDENCE if role in mapped), None)


def principal_from_claims(
    claims: Mapping[str, Any], settings: Settings, config: Config
) -> Principal:
    """The staff member the validated claims describe, or OidcRefused (`oidc_no_role`)."""
    name = name_from_claims(claims, settings)
    if name is None:
        raise OidcRefused(FAILED, "no_name_claim")
    role = role_from_claims(claims, settings)
    if role is None:
        raise OidcRefused(NO_ROLE, "no_mapped_role", name=name)
    department: str | None = None
    agent_id: str | None = None
    if role == "department_lead":
        value = claims.get(settings.oidc_department_claim)
        if not isinstance(value, str) or not value:
            raise OidcRefused(NO_ROLE, "department_missing", name=name)
        if value not in {d.id for d in config.departments}:
            raise OidcRefused(NO_ROLE, "department_unknown", name=name)
        department = value
    if role == "agent":
        value = claims.get(settings.oidc_agent_claim)
        if value is not None:
            roster = {agent.id for agent in config.switchboard.agents.roster}
            if not isinstance(value, str) or value not in roster:
                raise OidcRefused(NO_ROLE, "agent_not_in_roster", name=name)
            agent_id = value
    display = claims.get("name")
    return Principal(
        name=name,
        role=role,
        department=department,
        agent_id=agent_id,
        display_name=display.strip() if isinstance(display, str) else "",
    )


# --- the flow, kept in Redis -------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    nonce: str
    verifier: str
    next_path: str
    binding_digest: str


def _flow_key(state: str) -> str:
    return FLOW_PREFIX + _digest(state)


def keep_flow(client: redis.Redis, state: str, flow: Flow) -> None:
    client.set(
        _flow_key(state),
        json.dumps(
            {
                "nonce": flow.nonce,
                "verifier": flow.verifier,
                "next": flow.next_path,
                "binding": flow.binding_digest,
            }
        ),
        ex=FLOW_SECONDS,
    )


def take_flow(client: redis.Redis, state: str) -> Flow | None:
    """The flow this state started, removed as it is read: a state works once."""
    raw = client.getdel(_flow_key(state))
    if raw is None:
        return None
    data = json.loads(raw)
    return Flow(
        nonce=str(data["nonce"]),
        verifier=str(data["verifier"]),
        next_path=str(data["next"]),
        binding_digest=str(data["binding"]),
    )


def _oauth_client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        timeout=PROVIDER_TIMEOUT_SECONDS,
    )


@dataclass(frozen=True)
class Start:
    """Where to send the browser, the value of its binding cookie, and the flow to keep
    (`keep_flow`) under the state before the browser goes."""

    authorization_url: str
    binding: str
    state: str
    flow: Flow


async def begin(settings: Settings, *, next_path: str, binding: str) -> Start:
    """Start a sign-in: the provider's authorization URL and the flow to keep. `binding` is
    the browser's binding cookie if it has a usable one (two tabs may sign in at once), else
    "" for a new one."""
    provider = await discover(settings.oidc_issuer)
    if len(binding) < 32:
        binding = secrets.token_urlsafe(32)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    flow = Flow(
        nonce=nonce, verifier=verifier, next_path=next_path, binding_digest=_digest(binding)
    )
    async with _oauth_client(settings) as oauth:
        url, _ = oauth.create_authorization_url(
            provider.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
        )
    return Start(authorization_url=str(url), binding=binding, state=state, flow=flow)


@dataclass(frozen=True)
class Finished:
    principal: Principal
    next_path: str


async def _exchange(settings: Settings, provider: ProviderMetadata, code: str, flow: Flow) -> Any:
    try:
        async with _oauth_client(settings) as oauth:
            return await oauth.fetch_token(
                provider.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.verifier,
            )
    except OAuthError as exc:
        raise failed(f"token_refused: {exc.error}") from None
    except httpx2.HTTPError as exc:
        raise failed(f"provider_unreachable: {type(exc).__name__} at the token endpoint") from None
    except ValueError:
        raise failed("token_response_invalid") from None


async def finish(
    settings: Settings,
    config: Config,
    flow: Flow | None,
    *,
    code: str,
    binding: str,
    iss: str | None,
    now: int,
) -> Finished:
    """Complete a sign-in from the provider's answer to the browser: the flow its state named
    (already taken out of Redis), the code, the browser's binding cookie, and `iss` when the
    provider sends one (RFC 9207)."""
    if flow is None:
        raise failed("state_unknown_or_used")
    if not binding or not hmac.compare_digest(_digest(binding), flow.binding_digest):
        raise failed("other_browser")
    if iss is not None and iss != settings.oidc_issuer:
        raise failed("callback_issuer_mismatch")
    if not code:
        raise failed("no_code")
    provider = await discover(settings.oidc_issuer)
    tokens = await _exchange(settings, provider, code, flow)
    id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
    if not isinstance(id_token, str):
        raise failed("no_id_token")
    access = tokens.get("access_token")
    access_token = access if isinstance(access, str) else None
    claims = validate_id_token(
        id_token,
        await signing_keys(provider, id_token),
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        nonce=flow.nonce,
        now=now,
        access_token=access_token,
    )
    if settings.oidc_role_claim not in claims and access_token is not None:
        # Some providers put only the standard claims in the ID token; the ID token's own
        # claims still win over UserInfo's.
        claims = {**await userinfo(provider, access_token, sub=str(claims["sub"])), **claims}
    return Finished(
        principal=principal_from_claims(claims, settings, config), next_path=flow.next_path
    )
