"""Data-subject requests: a number's rows found, exported and erased with every count kept, and
the audit log they write, through the functions and through `switchboard privacy` itself."""

from __future__ import annotations

import csv
import io
import json
import stat
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from switchboard.audit import entries
from switchboard.models import Callback, CallEvent, CallRecord, SmsMessage, TransferRecord
from switchboard.pseudonym import caller_pseudonym
from switchboard.settings import DEFAULT_CONFIG
from switchboard.stats.aggregates import report
from switchboard.stats.figures import GROUPINGS
from switchboard.subject_data import (
    ERASED_PREFIX,
    NotANumber,
    Subject,
    erase,
    find,
    normalise_number,
)
from tests.fixtures.calls import Call, oslo
from tests.fixtures.cli import run_cli
from workers.event_rows import insert_events
from workers.records import load_projector, project_calls

KEY = "test-caller-key"
NUMBER = "+4791234567"
SUBJECT = Subject.of(NUMBER, key=KEY)
OTHER = caller_pseudonym("+4741111111", key=KEY)
LANDLINE = caller_pseudonym("+4756000000", key=KEY)  # an office phone, not the subject's
WINDOW = (oslo("2026-11-20 00:00:00"), oslo("2026-12-01 00:00:00"))


@pytest.mark.parametrize(
    "typed",
    ["+4791234567", "004791234567", "91234567", "912 34 567", "+47 912 34 567", "4791234567"],
)
def test_a_number_is_read_the_ways_an_operator_types_it(typed: str) -> None:
    assert normalise_number(typed) == NUMBER


def test_foreign_numbers_need_their_country_code() -> None:
    assert normalise_number("0046 70 123 45 67") == "+46701234567"
    assert normalise_number("+46701234567") == "+46701234567"
    for bad in ("12345", "0701234567", "tel:91234567", ""):
        with pytest.raises(NotANumber):
            normalise_number(bad)


def _calls() -> dict[str, Call]:
    """The subject's calls (a transfer, a recall the next morning, a callback, an SMS), a
    callback to their number keyed in from an office phone, and another caller's call."""
    first = Call(at=oslo("2026-11-25 10:00:00"), caller=SUBJECT.pseudonym).start()
    first.choose("byggesak", key="3")
    first.transfer("byggesak", outcome="connected")
    first.end()
    again = Call(at=oslo("2026-11-25 14:00:00"), caller=SUBJECT.pseudonym).start()
    again.choose("switchboard", key="0")
    visit = again.join("main")
    again.callback(after=30, number=NUMBER)
    again.left(visit, result="hangup", after=1).end()
    texted = Call(at=oslo("2026-11-25 16:30:00"), caller=SUBJECT.pseudonym)
    texted.start(switchboard_open=False).choose("sms", menu="closed", key="7").sms(to=NUMBER).end()
    keyed = Call(at=oslo("2026-11-26 17:00:00"), caller=LANDLINE).start(switchboard_open=False)
    keyed.choose("callback", menu="closed", key="8")
    keyed.callback(number=NUMBER)
    keyed.end()
    other = Call(at=oslo("2026-11-25 10:05:00"), caller=OTHER).start()
    other.choose("byggesak", key="3")
    other.transfer("byggesak", outcome="no_answer")
    other.end()
    return {"first": first, "again": again, "texted": texted, "keyed": keyed, "other": other}


def _load(engine: Engine, calls: dict[str, Call]) -> None:
    with engine.begin() as connection:
        events = [e for call in calls.values() for e in call.events]
        insert_events(connection, events, caller_key=KEY)
        project_calls(connection, call_sids={c.sid for c in calls.values()}, projector=_projector())
        # The SMS row keeps its number until sent (migration 0003); the first callback is done.
        connection.execute(update(SmsMessage).values(number=NUMBER))
        connection.execute(
            update(Callback)
            .where(Callback.call_sid == calls["again"].sid)
            .values(status="done", done_at=oslo("2026-11-26 09:30:00"))
        )


def _projector() -> Any:
    return load_projector(DEFAULT_CONFIG, caller_key=KEY)


def _statistics(engine: Engine) -> list[dict[str, Any]]:
    """Everything `/api/stats` can show for the window: ungrouped and in every grouping."""
    with engine.connect() as connection:
        return [
            asdict(report(connection, start=WINDOW[0], end=WINDOW[1], group_by=group_by))
            for group_by in (None, *GROUPINGS)
        ]


@pytest.fixture
def loaded(engine: Engine) -> dict[str, Call]:
    calls = _calls()
    _load(engine, calls)
    return calls


def mine_names() -> tuple[str, ...]:
    return ("first", "again", "texted", "keyed")


def test_find_gathers_the_subjects_calls_and_the_keyed_callback(engine, loaded) -> None:
    with Session(engine) as session:
        found = find(session, SUBJECT)
    mine = {loaded[name].sid for name in mine_names()}
    assert set(found.call_sids) == mine
    counts = found.counts()
    assert counts["calls"] == 4
    assert counts["callbacks"] == 2  # their own, and the one keyed in from the office phone
    assert counts["sms_messages"] == 1
    assert counts["transfers"] == 1
    assert counts["queue_visits"] == 1
    assert counts["returns"] == 1  # the transfer they called back about
    assert counts["call_events"] == sum(len(loaded[name].events) for name in mine_names())
    assert loaded["other"].sid not in found.call_sids


def test_erase_unlinks_the_subject_and_keeps_every_count(engine, loaded) -> None:
    before = _statistics(engine)
    assert before[0]["transfers"]["total"]["recalls"] == 1  # the relation that must survive
    with Session(engine) as session, session.begin():
        erased = erase(session, SUBJECT)
    assert erased.counts["calls"] == 3  # the office phone's call keeps its own caller
    assert erased.cancelled_callbacks == 1  # the keyed one was still pending
    assert erased.stopped_sms == 1
    with Session(engine) as session:
        assert find(session, SUBJECT).empty
        callbacks = {row.call_sid: row for row in session.scalars(select(Callback))}
        sms = session.scalars(select(SmsMessage)).one()
        tokens = {
            caller
            for column in (
                CallRecord.caller,
                TransferRecord.caller,
                Callback.caller,
                SmsMessage.caller,
            )
            for caller in session.scalars(select(column))
        } | {event.data.get("caller") for event in session.scalars(select(CallEvent))}
    assert {row.number for row in callbacks.values()} == {""}
    assert callbacks[loaded["keyed"].sid].status == "cancelled"
    assert callbacks[loaded["again"].sid].status == "done"
    assert (sms.number, sms.status, sms.error) == ("", "failed", "erased")
    assert SUBJECT.pseudonym not in tokens
    assert {t for t in tokens if t and t.startswith(ERASED_PREFIX)} == {erased.token}
    assert {OTHER, LANDLINE} <= tokens
    # The pending callback and the queued SMS really changed; all else is as it was. Compared
    # with that one change put back, the figures are identical, and stay so when the records
    # are projected again from the erased events.
    after = _statistics(engine)
    assert _settled(after) == _settled(before)
    with engine.begin() as connection:
        sids = set(connection.scalars(select(CallEvent.call_sid).distinct()))
        project_calls(connection, call_sids=sids, projector=_projector())
    assert _statistics(engine) == after


def _settled(statistics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statistics without the callback and SMS sections, which erasure changes on purpose."""
    return [{k: v for k, v in s.items() if k not in ("callbacks", "sms")} for s in statistics]


def test_erase_changes_no_figure_when_nothing_is_pending(engine, loaded) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Callback).values(status="done", done_at=oslo("2026-11-27 09:00:00"))
        )
        connection.execute(update(SmsMessage).values(status="sent", number=""))
    before = _statistics(engine)
    with Session(engine) as session, session.begin():
        erased = erase(session, SUBJECT)
    assert (erased.cancelled_callbacks, erased.stopped_sms) == (0, 0)
    assert _statistics(engine) == before
    with Session(engine) as session:
        assert find(session, SUBJECT).empty


# --- through the command line --------------------------------------------------------------


def _cli(db_url: str, tmp_path: Path, *args: str, stdin: str | None = None) -> Any:
    env = {
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_CALLER_KEY": KEY,
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
    }
    return run_cli("privacy", *args, cwd=tmp_path, env=env, stdin=stdin)


def test_find_export_erase_and_the_audit_log_from_the_command_line(
    engine, db_url, loaded, tmp_path
) -> None:
    someone_else = _cli(db_url, tmp_path, "find", "+4741111111", "--actor", "ola")
    assert someone_else.returncode == 0, someone_else.stderr
    found = _cli(db_url, tmp_path, "find", "912 34 567", "--actor", "kari")
    assert found.returncode == 0, found.stderr
    assert "+47 ••• •• 567: rows per table" in found.stdout
    assert all(loaded[name].sid in found.stdout for name in mine_names())
    assert loaded["other"].sid not in found.stdout
    assert NUMBER not in found.stdout
    assert SUBJECT.pseudonym not in found.stdout

    out = tmp_path / "export.json"
    exported = _cli(db_url, tmp_path, "export", "004791234567", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["number"] == NUMBER
    assert len(document["tables"]["callbacks"]) == 2
    assert {row["number"] for row in document["tables"]["callbacks"]} == {NUMBER}
    assert document["tables"]["call_events"][0]["occurred_at"].startswith("2026-11-25T")
    to_stdout = _cli(db_url, tmp_path, "export", "91234567")
    assert json.loads(to_stdout.stdout)["tables"] == document["tables"]

    refused = _cli(db_url, tmp_path, "erase", "91234567")  # no answer: nothing happens
    assert refused.returncode == 1
    assert "not erased" in refused.stdout
    erased = _cli(db_url, tmp_path, "erase", "91234567", stdin="yes\n")
    assert erased.returncode == 0, erased.stderr
    assert "cancelled 1 pending callback(s), stopped 1 queued SMS" in erased.stdout
    after = _cli(db_url, tmp_path, "find", "+4791234567")
    assert after.stdout == "+47 ••• •• 567: nothing found\n"

    by_number = _cli(db_url, tmp_path, "audit", "--number", "41111111", "--csv")
    assert [row["actor"] for row in csv.DictReader(io.StringIO(by_number.stdout))] == ["ola"]
    assert _cli(db_url, tmp_path, "audit", "--number", "abc").returncode == 2
    log = entries(engine, subject=SUBJECT.pseudonym)
    assert [e.action for e in log] == [
        "privacy_find",
        "privacy_erase",
        "privacy_export",
        "privacy_export",
        "privacy_find",
    ]
    assert {e.subject for e in log} == {SUBJECT.pseudonym}
    assert log[-1].actor == "kari"
    assert log[1].actor.startswith("cli:")
    assert log[-1].detail["rows"]["callbacks"] == 2
    assert log[1].detail["rows"]["calls"] == 3

    listed = _cli(db_url, tmp_path, "audit", "--action", "privacy_export", "--csv")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [row["action"] for row in rows] == ["privacy_export", "privacy_export"]
    assert json.loads(rows[0]["detail"])["rows"]["sms_messages"] == 1
    table = _cli(db_url, tmp_path, "audit", "--actor", "kari", "--since", "2020-01-01")
    assert table.stdout.splitlines()[0].split() == [
        "at",
        "(local)",
        "actor",
        "action",
        "subject",
        "detail",
    ]
    assert len(table.stdout.splitlines()) == 2
    assert _cli(db_url, tmp_path, "audit", "--since", "2030-01-02").stdout == "no audit entries\n"


def test_a_bad_number_is_a_usage_error(db_url, tmp_path) -> None:
    result = _cli(db_url, tmp_path, "find", "abc")
    assert result.returncode == 2
    assert "not a phone number" in result.stderr
