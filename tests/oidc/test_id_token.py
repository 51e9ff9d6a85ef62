"""The ID token checks, on tokens signed here with a key of our own (the provider's keys never
leave it): a token must be signed by the provider's key with an asymmetric algorithm, and be
for us, from the provider, current, and for this sign-in (the nonce)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from switchboard.identity_provider import OidcRefused
from switchboard.oidc import validate_id_token

ISSUER = "https://login.example/tenant/v2.0"
CLIENT = "switchboard"
NONCE = "the-nonce-of-this-sign-in"
NOW = int(time.time())
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider"}, private=True)
PROVIDER_JWKS = KeySet.import_key_set({"keys": [PROVIDER_KEY.as_dict(private=False)]})


def claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "00000000-aaaa",
        "aud": CLIENT,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
        "preferred_username": "kari@alver.example",
        "roles": ["switchboard-manager"],
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def signed(payload: dict[str, Any], key: Any = PROVIDER_KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "provider"}, payload, key)


def check(token: str) -> dict[str, Any]:
    return validate_id_token(
        token, PROVIDER_JWKS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, now=NOW
    )


def refusal(token: str) -> str:
    with pytest.raises(OidcRefused) as refused:
        check(token)
    assert refused.value.code == "oidc_failed"
    return refused.value.reason


def test_a_token_from_the_provider_for_this_sign_in_is_accepted() -> None:
    assert check(signed(claims()))["roles"] == ["switchboard-manager"]


def test_a_token_whose_claims_were_altered_after_signing_is_refused() -> None:
    header, _payload, signature = signed(claims()).split(".")
    altered = claims(roles=["switchboard-manager", "switchboard-operator"], sub="someone-else")
    payload = base64.urlsafe_b64encode(json.dumps(altered).encode()).rstrip(b"=").decode()
    assert refusal(f"{header}.{payload}.{signature}").startswith("id_token_signature")


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "provider"}, private=True)
    assert refusal(signed(claims(), other)).startswith("id_token_signature")


def test_a_token_signed_with_the_client_secret_or_unsigned_is_refused() -> None:
    # HS256 with a secret the attacker knows, or no signature at all: never accepted.
    secret = OctKey.import_key("a secret an attacker may know, long enough for HS256")
    assert refusal(signed(claims(), secret, "HS256")).startswith("id_token_signature")
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    assert refusal(f"{header}.{body}.").startswith("id_token")


@pytest.mark.parametrize(
    ("changes", "claim"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "another-app"}, "aud"),
        ({"nonce": "another-sign-in"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": NOW - 120}, "exp"),
        ({"aud": [CLIENT, "another-app"], "azp": "another-app"}, "azp"),
    ],
)
def test_a_token_for_another_app_sign_in_or_time_is_refused(
    changes: dict[str, Any], claim: str
) -> None:
    reason = refusal(signed(claims(**changes)))
    assert reason.startswith("id_token_claims")
    assert claim in reason


def test_a_token_issued_in_the_future_is_refused() -> None:
    assert "issued in the future" in refusal(signed(claims(iat=NOW + 3600, exp=NOW + 7200)))


def test_a_small_clock_difference_is_tolerated() -> None:
    assert check(signed(claims(exp=NOW - 30, iat=NOW - 330)))["sub"] == "00000000-aaaa"
