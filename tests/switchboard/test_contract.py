"""The API keeps the contract its OpenAPI document states, checked by schemathesis.

schemathesis reads `/openapi.json` from the real app (real Redis and SQLite, Twilio's REST API
simulated), generates valid and invalid requests for every `/api` operation, sends them with a
token whose role may use the route, and checks every answer: no server error, a documented
status, the documented content type and schema, invalid data refused and valid data accepted.
The examples are bounded and derandomized, so a run is repeatable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from schemathesis.core.result import Err

from sim.call_trial import simulator_for
from sim.twilio.rest import SimulatedRest
from switchboard.access import Role
from switchboard.app import create_app
from switchboard.twilio_rest import twilio_client
from tests.switchboard.apphost import auth, make_settings

EXAMPLES = 40
AGENT_ONLY = ("/api/callbacks", "/api/calls")


def _role(path: str) -> Role:
    return "agent" if path.startswith(AGENT_ONLY) else "manager"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _window_is_valid(query: dict[str, Any] | None) -> bool:
    """The one rule OpenAPI cannot state: `from` before `to`, at most 400 days apart."""
    query = query or {}
    start, end = _instant(query.get("from")), _instant(query.get("to"))
    now = datetime.now(UTC)
    end = end or now
    start = start or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        return True
    return start < end and end - start <= timedelta(days=400)


def test_every_api_operation_keeps_its_documented_contract(tmp_path, redis_url):
    config_settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=config_settings.twilio_account_sid,
        auth_token=config_settings.auth_tokens[0],
    )
    app = create_app(
        config_settings,
        twilio=twilio_client(config_settings, http_client=rest),
        simulated_clock=True,
    )
    # A simulator with no calls: Twilio answers "no such call" (404), as for a made-up SID,
    # whatever the time of day lets through to Twilio.
    rest.attach(
        simulator_for(
            http=TestClient(app),
            settings=config_settings,
            config=app.state.services.ctx.config,
            start=datetime.now(UTC),
        )
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/api/")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document describes an operation schemathesis cannot read
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            if case.path == "/api/stats":
                assume(_window_is_valid(case.query))
            case.call_and_validate(headers=auth(_role(case.path)))

        try:
            check()
        except BaseException as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 7
    assert not failures, "\n\n".join(failures)


def test_the_contract_names_the_departments_a_request_may_give(tmp_path, redis_url):
    from fastapi.testclient import TestClient

    with TestClient(create_app(make_settings(tmp_path, redis_url))) as client:
        spec = client.get("/openapi.json").json()
    transfer = spec["components"]["schemas"]["TransferRequest"]["properties"]["department"]
    assert "byggesak" in transfer["enum"]
    assert "sentralbord" not in transfer["enum"]
    stats = spec["paths"]["/api/stats"]["get"]["parameters"]
    (department,) = [p for p in stats if p["name"] == "department"]
    assert "nav" in department["schema"]["anyOf"][0]["enum"]
