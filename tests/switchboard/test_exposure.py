"""Which addresses `serve` warns about in development, and the local URLs it shows and probes.
(The warning as the operator sees it, from the command line: test_cli.py.)"""

from __future__ import annotations

import argparse

import pytest

from switchboard.exposure import exposure_warnings, local_url
from switchboard.settings import DEV_TWILIO_TOKEN, Settings
from tests.fixtures.keys import PRODUCTION_NUMBER_KEYS

DEVELOPMENT = Settings(env="development", twilio_auth_token=DEV_TWILIO_TOKEN)
PRODUCTION = Settings(
    env="production",
    public_url="https://ivr.example.no",
    secret_key="a-real-secret-of-at-least-32-chars",
    caller_key="another-real-secret-of-32-or-more",
    number_keys=PRODUCTION_NUMBER_KEYS,
    twilio_auth_token="a-real-token",
    twilio_account_sid="AC" + "1" * 32,
)


def serve_args(host: str, *, metrics_host: str = "127.0.0.1", metrics_port: int = 9107):
    return argparse.Namespace(host=host, metrics_host=metrics_host, metrics_port=metrics_port)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_is_quiet(host: str) -> None:
    assert exposure_warnings(DEVELOPMENT, serve_args(host)) == []


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.20", "switchboard.local"])  # noqa: S104
def test_anything_else_warns_in_development_only(host: str) -> None:
    (warning,) = exposure_warnings(DEVELOPMENT, serve_args(host))
    assert "reachable from the network" in warning
    assert exposure_warnings(PRODUCTION, serve_args(host)) == []


def test_the_token_is_named_only_while_it_is_the_public_development_one() -> None:
    own_token = Settings(env="development", twilio_auth_token="my-own-test-account-token")
    (warning,) = exposure_warnings(own_token, serve_args("0.0.0.0"))  # noqa: S104
    assert "Twilio token" not in warning
    assert "the public development API tokens open the API" in warning


def test_metrics_served_beyond_loopback_warn_unless_they_are_off() -> None:
    args = serve_args("127.0.0.1", metrics_host="0.0.0.0")  # noqa: S104
    assert exposure_warnings(DEVELOPMENT, args) == [
        "--metrics-host 0.0.0.0 serves the web metrics to other machines, without login."
    ]
    off = serve_args("127.0.0.1", metrics_host="0.0.0.0", metrics_port=0)  # noqa: S104
    assert exposure_warnings(DEVELOPMENT, off) == []


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000"),  # noqa: S104
        ("::", "http://127.0.0.1:8000"),
        ("", "http://127.0.0.1:8000"),
        ("10.0.0.5", "http://10.0.0.5:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_local_url_reaches_what_serve_listens_on(host: str, url: str) -> None:
    assert local_url(host, 8000) == url
