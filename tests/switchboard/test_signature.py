"""X-Twilio-Signature on every Twilio route but the fallback (docs/twilio.md)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from switchboard.signature import is_signed
from tests.switchboard.apphost import (
    PUBLIC,
    TOKEN,
    inbound_params,
    make_app,
    make_settings,
    signed_post,
)

AT = "2026-11-25T10:00:00+00:00"


@pytest.fixture
def client(tmp_path, redis_url):
    with TestClient(make_app(make_settings(tmp_path, redis_url))) as test_client:
        yield test_client


def _stream_length(redis_client):
    return (
        redis_client.xlen("switchboard:events") if redis_client.exists("switchboard:events") else 0
    )


def test_official_twilio_vector_validates():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert (
        RequestValidator("12345").compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    from starlette.datastructures import FormData

    assert is_signed(
        url=url, form=FormData(params), signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=", tokens=["12345"]
    )


def test_signed_voice_request_gets_norwegian_twiml(client):
    response = signed_post(client, "/twilio/voice", inbound_params(), at=AT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "Velkomen til Alver kommune" in response.text


def test_forged_signature_is_refused_with_no_side_effect(client, redis_client):
    response = signed_post(client, "/twilio/voice", inbound_params(), token="wrong-token", at=AT)
    assert response.status_code == 403
    missing = client.post("/twilio/voice", data=inbound_params())
    assert missing.status_code == 403
    assert _stream_length(redis_client) == 0


def test_tampered_parameter_is_refused(client):
    params = inbound_params()
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/voice", params)
    params["From"] = "+4799999999"
    response = client.post("/twilio/voice", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signature_behind_a_proxy_uses_the_public_url(client):
    # The app sees http://testserver; Twilio signed https://ivr.alver.example. The query is
    # signed byte for byte.
    path = "/twilio/menu?lang=nn&s=1&n=0"
    response = signed_post(
        client, path, inbound_params(Digits="0", CallStatus="in-progress"), at=AT
    )
    assert response.status_code == 200
    internal = signed_post(
        client, path, inbound_params(Digits="0"), public="http://testserver", at=AT
    )
    assert internal.status_code == 403


def test_rotated_token_is_accepted_during_rotation(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url, twilio_auth_token="old-token, new-token")
    with TestClient(make_app(settings)) as client:
        for token in ("old-token", "new-token"):
            assert (
                signed_post(
                    client, "/twilio/voice", inbound_params(), token=token, at=AT
                ).status_code
                == 200
            )
        assert (
            signed_post(client, "/twilio/voice", inbound_params(), token=TOKEN, at=AT).status_code
            == 403
        )


def test_unknown_parameters_are_ignored(client):
    params = inbound_params(StirStatus="B", msg="Gather End", ApplicationSid="AP" + "c" * 32)
    assert signed_post(client, "/twilio/voice", params, at=AT).status_code == 200


def test_fallback_with_a_bad_signature_still_serves_the_caller(client, redis_client):
    response = client.post(
        "/twilio/fallback",
        data=inbound_params(ErrorCode="11200", ErrorUrl=PUBLIC + "/twilio/voice"),
        headers={"X-Twilio-Signature": "forged"},
    )
    assert response.status_code == 200
    assert "Orsak, vi har eit teknisk problem." in response.text
    assert _stream_length(redis_client) == 0


def test_deploy_fallback_file_matches_the_route(client):
    from pathlib import Path

    deployed = (Path(__file__).parents[2] / "deploy" / "fallback.xml").read_text(encoding="utf-8")
    assert client.post("/twilio/fallback", data={}).text == deployed.strip()
