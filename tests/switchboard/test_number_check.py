"""`switchboard twilio check` against the simulator's REST API, as an operator sees it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sim.twilio.rest import SimulatedRest
from switchboard.cli.command import CommandError
from switchboard.cli.twilio_check import run_check
from switchboard.settings import Settings
from tests.fixtures.cli import run_cli
from tests.switchboard.apphost import ACCOUNT, PUBLIC, TOKEN

MAIN = "+4756375000"
FORWARD_TARGET = "+4732990000"  # a Twilio number the old operator forwards the main number to
GOOD = {
    "voice_url": f"{PUBLIC}/twilio/voice#ct=1000&rt=3000",
    "status_callback": f"{PUBLIC}/twilio/status",
    "voice_fallback_url": "https://fallback.alver.example/fallback.xml",
    "voice_fallback_method": "GET",
}


def settings(tmp_path: Path, **overrides: str) -> Settings:
    values = {
        "var_dir": tmp_path,
        "public_url": PUBLIC,
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TOKEN,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def rest() -> SimulatedRest:
    twilio = SimulatedRest(account_sid=ACCOUNT, auth_token=TOKEN)
    twilio.add_number("+4756375001", voice_url="https://elsewhere.example/voice")  # a neighbour
    return twilio


def test_a_number_pointed_at_the_service_passes(tmp_path, rest, capsys) -> None:
    number = rest.add_number(MAIN, **GOOD)
    assert run_check(settings(tmp_path), http_client=rest) == 0
    assert capsys.readouterr().out == f"OK: {MAIN} ({number.sid}) points at {PUBLIC}\n"
    (request,) = rest.requests
    assert urlsplit(request.url).netloc == "api.twilio.com"


def test_every_misconfiguration_is_one_line_to_fix(tmp_path, rest, capsys) -> None:
    number = rest.add_number(
        MAIN,
        voice_url=f"{PUBLIC}/twilio/voice",  # no connection overrides
        voice_method="GET",
        status_callback=None,
        voice_fallback_url=None,
    )
    assert run_check(settings(tmp_path), http_client=rest) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{MAIN} ({number.sid}): 4 to fix",
        f"fix: voice URL {PUBLIC}/twilio/voice lacks the connection overrides #ct=1000&rt=3000 "
        f"(fail over to the fallback within seconds, not 15 s); set it to "
        f"{PUBLIC}/twilio/voice#ct=1000&rt=3000",
        "fix: voice URL method is GET; set it to POST",
        f"fix: status callback is empty; set it to {PUBLIC}/twilio/status",
        "fix: no fallback URL: callers would hear Twilio's English error message when the "
        "service fails; host deploy/fallback.xml on an independent https host (or use "
        f"{PUBLIC}/twilio/fallback)",
    ]


def test_urls_of_another_host_or_an_app_on_the_number_are_named(tmp_path, rest, capsys) -> None:
    rest.add_number(
        MAIN,
        **{**GOOD, "voice_url": "https://old-ivr.example/answer", "voice_fallback_url": None},
        voice_application_sid="AP" + "1" * 32,
    )
    rest.numbers[-1].voice_fallback_url = f"{PUBLIC}/menu"
    assert run_check(settings(tmp_path), http_client=rest) == 1
    fixes = capsys.readouterr().out.splitlines()[1:]
    assert fixes == [
        f"fix: the number uses TwiML App AP{'1' * 32}, so Twilio ignores its voice URL: set "
        "'A call comes in' to Webhook instead of the app",
        "fix: voice URL is https://old-ivr.example/answer; set it to "
        f"{PUBLIC}/twilio/voice#ct=1000&rt=3000",
        f"fix: fallback URL is {PUBLIC}/menu; the service's own fallback is "
        f"{PUBLIC}/twilio/fallback",
    ]


def test_the_services_own_fallback_passes_with_a_note(tmp_path, rest, capsys) -> None:
    rest.add_number(
        MAIN, **{**GOOD, "voice_fallback_url": f"{PUBLIC}/twilio/fallback"}
    ).voice_fallback_method = "POST"
    assert run_check(settings(tmp_path), http_client=rest) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"note: the fallback {PUBLIC}/twilio/fallback runs on the service's")
    assert out[1].startswith(f"OK: {MAIN}")


def test_a_loopback_public_url_is_a_fix(tmp_path, rest, capsys) -> None:
    rest.add_number(MAIN, **GOOD)
    assert run_check(settings(tmp_path, public_url="http://127.0.0.1:8000"), http_client=rest) == 1
    assert (
        "fix: SWITCHBOARD_PUBLIC_URL is http://127.0.0.1:8000: Twilio needs the service's "
        "public https origin"
    ) in capsys.readouterr().out.splitlines()


def test_a_forwarded_main_number_checks_the_twilio_number(tmp_path, rest, capsys) -> None:
    rest.add_number(FORWARD_TARGET, **GOOD)
    with pytest.raises(CommandError, match=rf"\{MAIN} is not a number of account {ACCOUNT}"):
        run_check(settings(tmp_path), http_client=rest)
    assert run_check(settings(tmp_path, twilio_number=FORWARD_TARGET), http_client=rest) == 0
    assert capsys.readouterr().out.startswith(f"OK: {FORWARD_TARGET}")
    assert rest.requests[-1].query["PhoneNumber"] == FORWARD_TARGET


def test_region_and_edge_send_the_requests_to_dublin(tmp_path, rest) -> None:
    rest.add_number(MAIN, **GOOD)
    ireland = settings(tmp_path, twilio_region="ie1", twilio_edge="dublin")
    assert run_check(ireland, http_client=rest) == 0
    (request,) = rest.requests
    assert urlsplit(request.url).netloc == "api.dublin.ie1.twilio.com"


def test_a_refused_token_is_a_clear_error(tmp_path, rest) -> None:
    rest.add_number(MAIN, **GOOD)
    with pytest.raises(CommandError, match=r"Twilio refused \(401, error 20003\): Authenticate"):
        run_check(settings(tmp_path, twilio_auth_token="wrong-token"), http_client=rest)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "error: SWITCHBOARD_TWILIO_ACCOUNT_SID is the development placeholder"),
        (
            {"SWITCHBOARD_TWILIO_ACCOUNT_SID": ACCOUNT, "SWITCHBOARD_TWILIO_REGION": "IE 1"},
            "  SWITCHBOARD_TWILIO_REGION: String should match pattern",
        ),
    ],
)
def test_the_command_refuses_bad_settings_without_a_traceback(tmp_path, env, message) -> None:
    result = run_cli("twilio", "check", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
