"""The agent roster in the municipality file: what it accepts, and the located errors it gives."""

from __future__ import annotations

import pytest

from ivr.config import ConfigError, parse_config
from tests.fixtures.agents import AGENT_NUMBER, PIN, hash_of, roster_with_pins, with_agents

WHERE = "switchboard.agents.roster"


def errors_for(roster, **agents) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(with_agents(roster, **agents))
    return caught.value.errors


def phone(agent_id: str = "kari", number: str = AGENT_NUMBER, **fields) -> dict:
    return {"id": agent_id, "name": agent_id.title(), "number": number, **fields}


def test_the_shipped_file_has_a_client_agent_and_no_pin_or_hash(alver, alver_yaml):
    agents = alver.switchboard.agents
    assert agents.find("client:sentralbord") is not None
    assert all(a.pin_hash is None for a in agents.roster)
    assert "pin:" not in alver_yaml
    assert agents.pin_limits.max_failures == 5
    assert agents.pin_limits.window_minutes == 15
    assert agents.pin_limits.attempts_per_call == 3
    assert agents.idle_dial_seconds == 20


def test_a_roster_with_hashes_and_a_client_identity_is_valid():
    config = parse_config(with_agents(roster_with_pins()))
    kari = config.switchboard.agents.find(AGENT_NUMBER)
    assert kari is not None
    assert kari.id == "kari"
    assert kari.pin_hash is not None
    assert kari.pin_hash.startswith("$argon2id$v=19$")


@pytest.mark.parametrize(
    "pin_hash",
    [
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",  # argon2i
        "5f4dcc3b5aa765d61d8327deb882cf99",  # an MD5 hex digest
        "",
    ],
)
def test_a_pin_hash_that_is_not_argon2id_is_rejected_where_it_is(pin_hash):
    errors = errors_for([phone(pin_hash=pin_hash)])
    assert errors == [
        f"{WHERE}[0].pin_hash: is not an argon2id hash like "
        "'$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>' (make one with `switchboard agent "
        "pin-hash`)"
    ]


def test_a_plaintext_pin_in_pin_hash_is_rejected_without_repeating_it():
    errors = errors_for([phone(), phone("ola", "+4756375091", pin_hash=PIN)])
    assert len(errors) == 1
    assert errors[0].startswith(f"{WHERE}[1].pin_hash: looks like a plaintext PIN")
    assert PIN not in errors[0]


def test_the_old_plaintext_pin_key_is_refused_with_what_to_do():
    errors = errors_for([phone(pin_hash=hash_of(PIN))], pin="4321")
    assert len(errors) == 1
    assert errors[0].startswith("switchboard.agents: 'pin' is no longer read")
    assert "switchboard agent pin-hash" in errors[0]
    assert "4321" not in errors[0]


def test_the_old_numbers_list_says_what_replaced_it():
    text = with_agents([]).replace("roster: []", 'numbers: ["+4756375090"]')
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.errors == [
        "switchboard.agents: 'numbers' is replaced by 'roster': a list of agents, each with id, "
        "name, and number with pin_hash, or client (README, Agents)"
    ]


def test_duplicate_ids_numbers_and_identities_are_located():
    roster = [
        phone("kari", pin_hash=hash_of(PIN)),
        phone("kari", "+4756375091"),
        phone("ola", AGENT_NUMBER),
        {"id": "web", "name": "Web", "client": "sentralbord"},
        {"id": "web2", "name": "Web 2", "client": "sentralbord"},
    ]
    assert errors_for(roster) == [
        f"{WHERE}[1].id: 'kari' is already in use",
        f"{WHERE}[2].number: '+4756375090' is already agent 'kari''s",
        f"{WHERE}[4].client: 'sentralbord' is already agent 'web''s",
    ]


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        (
            {"id": "x", "name": "X", "number": AGENT_NUMBER, "client": "x"},
            "give number or client, not both",
        ),
        (
            {"id": "x", "name": "X"},
            "give number (a phone, with its pin_hash) or client (a Twilio Client identity)",
        ),
        (
            {"id": "x", "name": "X", "client": "x", "pin_hash": hash_of(PIN)},
            "pin_hash is for phone agents; a Twilio Client identity cannot be forged from the "
            "phone network and has no PIN",
        ),
    ],
)
def test_each_agent_has_exactly_one_way_in(agent, message):
    assert errors_for([agent]) == [f"{WHERE}[0]: {message}"]


def test_fields_are_checked_one_by_one():
    errors = errors_for(
        [
            {"id": "Kari Nordmann", "name": "Kari", "number": AGENT_NUMBER},
            {"id": "ola", "name": "Ola", "number": "56375091"},
            {"id": "web", "name": "Web", "client": "client:sentralbord"},
        ]
    )
    assert errors[0].startswith(f"{WHERE}[0].id: String should match pattern")
    assert errors[1] == f"{WHERE}[1].number: '56375091' is not an E.164 number like +4756375000"
    assert errors[2] == f"{WHERE}[2].client: give the identity without 'client:'"
