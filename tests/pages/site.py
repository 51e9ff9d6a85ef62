"""A live switchboard for the staff pages' tests: the real app under uvicorn on a loopback
port, its own SQLite database, the test Redis, and one local account per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from switchboard.accounts import add_account
from switchboard.db import make_engine
from switchboard.models import ReturnRecord
from switchboard.settings import Settings
from tests.fixtures.localhost import serving
from tests.switchboard.apphost import LEAD_DEPARTMENT, make_app, make_settings

PASSWORD = "korrekt-hest-batteri-stift"
# user name -> (display name, role, department)
ACCOUNTS = {
    "kari": ("Kari Nordmann", "agent", None),
    "lars": ("Lars Leiar", "department_lead", LEAD_DEPARTMENT),
    "mona": ("Mona Sjef", "manager", None),
    "otto": ("Otto Drift", "operator", None),
}
OTHER_DEPARTMENT = "barnehage_skule"


@dataclass
class Site:
    url: str
    settings: Settings
    engine: Engine

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


def add_accounts(engine: Engine) -> None:
    for username, (display_name, role, department) in ACCOUNTS.items():
        add_account(
            engine,
            username=username,
            display_name=display_name,
            role=role,  # type: ignore[arg-type]
            department=department,
            password=PASSWORD,
        )


@contextmanager
def live_site(
    tmp_path: Path,
    redis_url: str,
    *,
    build: Callable[[Settings], FastAPI] = make_app,
    settings: Settings | None = None,
    **overrides: object,
) -> Iterator[Site]:
    settings = settings or make_settings(tmp_path, redis_url, **overrides)
    engine = make_engine(settings.sqlalchemy_url)
    add_accounts(engine)
    try:
        with serving(build(settings)) as port:
            yield Site(url=f"http://127.0.0.1:{port}", settings=settings, engine=engine)
    finally:
        engine.dispose()


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def sign_in(
    client: httpx.Client, username: str, password: str = PASSWORD, *, next_path: str = ""
) -> httpx.Response:
    """Open the sign-in page and post its form, as a browser would."""
    page = client.get("/agent/login", params={"next": next_path} if next_path else None)
    assert page.status_code == 200
    return client.post(
        "/agent/login",
        data={
            "csrf_token": form_token(page.text),
            "next": next_path,
            "username": username,
            "password": password,
        },
    )


def add_return(
    engine: Engine, transfer_id: str, *, department: str, at: datetime, reason: str | None = None
) -> None:
    """A returned transfer as the projection writes it."""
    with Session(engine) as session, session.begin():
        session.add(
            ReturnRecord(
                transfer_id=transfer_id,
                call_sid="CA" + transfer_id.rjust(32, "0")[-32:],
                transfer_call_sid="CA" + transfer_id.rjust(32, "1")[-32:],
                kind="bounce",
                cause="busy",
                reason=reason,
                detected_at=at,
                department=department,
                initiator="ivr",
                day_local=at.date(),
                hour_local=at.hour,
                weekday_local=at.weekday(),
            )
        )
