"""Build the real app for tests: real Redis, real SQLite, the shipped config, signed requests."""

from __future__ import annotations

from pathlib import Path

import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from twilio.request_validator import RequestValidator

from switchboard.access import ROLES, ApiToken, Role, token_digest
from switchboard.app import create_app
from switchboard.db import migrate
from switchboard.settings import Settings
from tests.fixtures.agents import config_with_agents, roster_with_pins
from tests.fixtures.keys import PRODUCTION_NUMBER_KEYS

PUBLIC = "https://ivr.alver.example"
TOKEN = "test-auth-token"
CALL_SID = "CA" + "a" * 32
ACCOUNT = "AC" + "b" * 32
# One API token per role; the department lead heads byggesak.
API_TOKENS: dict[Role, str] = {role: f"test-{role}-token" for role in ROLES}
LEAD_DEPARTMENT = "byggesak"


def api_token_entries() -> list[ApiToken]:
    return [
        ApiToken(
            name=f"test {role}",
            role=role,
            department=LEAD_DEPARTMENT if role == "department_lead" else None,
            sha256=token_digest(token),
        )
        for role, token in API_TOKENS.items()
    ]


def auth(role: Role) -> dict[str, str]:
    """The Authorization header of the test token for `role`."""
    return {"Authorization": f"Bearer {API_TOKENS[role]}"}


def make_settings(tmp_path: Path, redis_url: str, **overrides: object) -> Settings:
    db = tmp_path / "switchboard.db"
    migrate(f"sqlite:///{db}")
    values: dict[str, object] = {
        "var_dir": tmp_path,
        "database_url": f"sqlite:///{db}",
        "redis_url": redis_url,
        "public_url": PUBLIC,
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": ACCOUNT,
        "caller_key": "test-caller-key",
        "breaker_open_seconds": 30.0,
        "api_tokens": api_token_entries(),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def production_settings(tmp_path: Path, redis_url: str, **overrides: object) -> Settings:
    """Settings that production accepts: https, long distinct keys, a real-looking account."""
    values: dict[str, object] = {
        "env": "production",
        "secret_key": "s" * 32,
        "caller_key": "c" * 32,
        "number_keys": PRODUCTION_NUMBER_KEYS,
    }
    values.update(overrides)
    return make_settings(tmp_path, redis_url, **values)


def make_production_app(settings: Settings) -> FastAPI:
    """The production app; its agents all have PINs, which production requires."""
    return create_app(settings, config=config_with_agents(roster_with_pins()))


def make_app(settings: Settings, client: redis.Redis | None = None) -> FastAPI:
    return create_app(settings, redis_client=client, simulated_clock=True)


def inbound_params(**overrides: str) -> dict[str, str]:
    """An inbound call's form as Twilio sends it (docs/twilio.md), blank fields included."""
    params = {
        "CallSid": CALL_SID,
        "AccountSid": ACCOUNT,
        "From": "+4791234567",
        "To": "+4756375000",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
        "Caller": "+4791234567",
        "Called": "+4756375000",
        "FromCountry": "NO",
        "ToCountry": "NO",
        "FromCity": "",
        "FromState": "",
        "FromZip": "",
        "ToCity": "",
        "ToState": "",
        "ToZip": "",
    }
    params.update(overrides)
    return params


def signed_post(
    client: TestClient,
    path_and_query: str,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    public: str = PUBLIC,
    at: str | None = None,
) -> Response:
    signature = RequestValidator(token).compute_signature(public + path_and_query, params)
    headers = {"X-Twilio-Signature": signature}
    if at is not None:
        headers["X-Simulated-Time"] = at
    return client.post(path_and_query, data=params, headers=headers)
