"""Development without a Twilio account (the placeholder SID) never calls api.twilio.com: an SMS
goes to the local outbox, the sweep is off, and an agent transfer says why it cannot happen."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from switchboard.db import migrate
from switchboard.models import SmsMessage
from switchboard.settings import PLACEHOLDER_ACCOUNT_SID, Settings
from tests.fixtures.events import sms_request
from tests.fixtures.localhost import wait_for
from tests.switchboard.apphost import CALL_SID, auth, make_app, make_settings

NUMBER = "+4791234567"


@contextmanager
def running(command: str, *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`switchboard <command>` as its own process; stopped with SIGTERM like under `serve`."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "switchboard", command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_development_sms_lands_in_the_outbox_and_the_sweep_is_off(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    database = f"sqlite:///{tmp_path / 'switchboard.db'}"
    migrate(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env |= {
        "SWITCHBOARD_REDIS_URL": redis_url,
        "SWITCHBOARD_DATABASE_URL": database,
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
    }
    outbox = tmp_path / "outbox.jsonl"
    event = sms_request(to=NUMBER)
    with ExitStack() as stack:
        stack.enter_context(running("ingest", env=env, log=tmp_path / "ingest.log"))
        stack.enter_context(running("worker", env=env, log=tmp_path / "worker.log"))
        redis_client.xadd(Settings().stream, event.to_fields())  # type: ignore[arg-type]
        wait_for(lambda: outbox.exists() and outbox.read_text().endswith("\n"), within=30)
        engine = create_engine(database)
        try:

            def status() -> str:
                with Session(engine) as session:
                    rows = session.scalars(
                        select(SmsMessage).where(SmsMessage.event_id == event.id)
                    )
                    return next((row.status for row in rows), "")

            wait_for(lambda: status() == "sent", within=30, what="the SMS row marked sent")
            with Session(engine) as session:
                row = session.scalars(select(SmsMessage)).one()
        finally:
            engine.dispose()
    (message,) = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert message["to"] == "+47 ••• •• 567"  # the recipient, masked: var/ keeps no number
    assert "91234567" not in outbox.read_text()
    assert message["body"].startswith("Hei! Sjølvbetening hos Alver kommune")
    assert message["sid"] == row.twilio_sid
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
    worker_log = (tmp_path / "worker.log").read_text()
    assert "SMS to +47 ••• •• 567 written to" in worker_log
    assert "91234567" not in worker_log
    assert "Traceback" not in worker_log
    assert "api.twilio.com" not in worker_log
    ingest_log = (tmp_path / "ingest.log").read_text()
    assert ingest_log.count("sweep off: no Twilio account configured") == 1


def test_an_agent_transfer_without_a_twilio_account_is_503_and_says_why(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = make_settings(tmp_path, redis_url, twilio_account_sid=PLACEHOLDER_ACCOUNT_SID)
    with TestClient(make_app(settings)) as client:
        response = client.post(
            f"/api/calls/{CALL_SID}/transfer",
            json={"department": "byggesak"},
            headers=auth("agent"),
        )
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail["error"] == "twilio_not_configured"
    assert "SWITCHBOARD_TWILIO_ACCOUNT_SID" in detail["message"]
    assert redis_client.keys("*") == []  # nothing was marked in live state
    assert not (tmp_path / "outbox.jsonl").exists()
