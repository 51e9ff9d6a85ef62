"""Fixtures for the pure core: the shipped Alver config, as text and parsed."""

from __future__ import annotations

import pytest

from ivr.config import Config, parse_config
from ivr.hours import Hours
from switchboard.settings import DEFAULT_CONFIG


@pytest.fixture(scope="session")
def alver_yaml() -> str:
    """The shipped YAML text; tests that change the config edit this text, as an operator would."""
    return DEFAULT_CONFIG.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def alver(alver_yaml: str) -> Config:
    return parse_config(alver_yaml)


@pytest.fixture
def hours(alver: Config) -> Hours:
    return Hours(alver)
