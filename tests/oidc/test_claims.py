"""From a provider's claims to who is signed in, and the settings production refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.access import Principal
from switchboard.identity_provider import OidcRefused
from switchboard.oidc import principal_from_claims
from switchboard.settings import Settings, production_problems
from tests.fixtures.agents import config_with_agents, roster_with_pins
from tests.fixtures.oidc import ROLE_MAP
from tests.switchboard.apphost import production_settings

CONFIG = config_with_agents(roster_with_pins())  # agents sentralbord, kari and ola


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"oidc_issuer": "https://idp.example", "oidc_role_map": ROLE_MAP}
    values.update(overrides)
    return Settings(**values)


def who(**claims: Any) -> Principal:
    return principal_from_claims({"sub": "s-1", **claims}, settings(), CONFIG)


def refused(**claims: Any) -> OidcRefused:
    with pytest.raises(OidcRefused) as refusal:
        who(**claims)
    return refusal.value


def test_the_widest_role_wins_when_several_map() -> None:
    assert who(roles=["switchboard-agent", "switchboard-manager"]).role == "manager"
    assert who(roles=["staff", "switchboard-agent"]).role == "agent"
    assert who(roles="switchboard-manager").role == "manager"  # a single value, not a list


def test_names_come_from_the_name_claim_then_email_then_subject() -> None:
    assert who(preferred_username="kari", email="k@x", roles="switchboard-manager").name == "kari"
    assert who(email="k@alver.example", roles="switchboard-manager").name == "k@alver.example"
    manager = who(roles="switchboard-manager", name="Kari Leiar")
    assert manager.name == "s-1"
    assert manager.display_name == "Kari Leiar"


def test_a_department_lead_gets_their_existing_department() -> None:
    lead = who(roles=["switchboard-department-lead"], department="byggesak")
    assert (lead.role, lead.department) == ("department_lead", "byggesak")
    assert refused(roles=["switchboard-department-lead"]).reason == "department_missing"
    unknown = refused(roles=["switchboard-department-lead"], department="økonomi")
    assert (unknown.code, unknown.reason) == ("oidc_no_role", "department_unknown")


def test_an_agent_is_linked_to_the_roster_when_the_claim_says_who() -> None:
    assert who(roles="switchboard-agent", switchboard_agent="kari").agent_id == "kari"
    assert who(roles="switchboard-agent").agent_id is None
    stranger = refused(roles="switchboard-agent", switchboard_agent="not-in-roster")
    assert (stranger.code, stranger.reason) == ("oidc_no_role", "agent_not_in_roster")


def test_nobody_without_a_mapped_role_gets_in() -> None:
    nothing: list[dict[str, Any]] = [{}, {"roles": []}, {"roles": ["staff"]}, {"roles": 7}]
    for claims in nothing:
        refusal = refused(preferred_username="nils", **claims)
        assert (refusal.code, refusal.reason, refusal.name) == (
            "oidc_no_role",
            "no_mapped_role",
            "nils",
        )


def test_production_refuses_incomplete_or_plain_http_oidc_settings(
    tmp_path: Path, redis_url: str
) -> None:
    with pytest.raises(ValueError, match="production refuses to start") as refusal:
        production_settings(tmp_path, redis_url, oidc_issuer="http://idp.example")
    message = str(refusal.value)
    assert "SWITCHBOARD_OIDC_ISSUER must be https://" in message
    assert "SWITCHBOARD_OIDC_CLIENT_ID is empty" in message
    assert "SWITCHBOARD_OIDC_CLIENT_SECRET is empty" in message
    assert "SWITCHBOARD_OIDC_ROLE_MAP is empty" in message


def test_production_accepts_complete_oidc_settings_and_no_oidc_at_all() -> None:
    complete = settings(
        oidc_client_id="app-id", oidc_client_secret="app-secret", public_url="https://x.example"
    )
    assert not [p for p in production_problems(complete) if "OIDC" in p]
    assert not [p for p in production_problems(Settings()) if "OIDC" in p]
