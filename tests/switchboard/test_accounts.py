"""Local staff accounts on SQLite and PostgreSQL: who can be added, whose password signs in,
and what a new password or a disabled account does to sessions already signed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from switchboard.accounts import (
    AccountError,
    add_account,
    all_accounts,
    check_password,
    find_account,
    set_disabled,
    set_password,
    still_signed_in,
)
from switchboard.audit import entries
from switchboard.models import StaffAccount

PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another long passphrase"


def _add(engine: Engine, username: str = "kari", **values: object) -> None:
    fields: dict[str, object] = {"display_name": "Kari Nordmann", "role": "agent"}
    fields.update(values)
    add_account(engine, username=username, password=PASSWORD, **fields)  # type: ignore[arg-type]


def _stored_hash(engine: Engine, username: str) -> str | None:
    with Session(engine) as session:
        return session.scalar(
            select(StaffAccount.password_hash).where(StaffAccount.username == username)
        )


def test_an_added_account_signs_in_with_its_password_only(engine: Engine) -> None:
    _add(engine, agent_id="sentralbord")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert check_password(engine, "kari", "wrong password here") is None
    assert check_password(engine, "nobody", PASSWORD) is None
    account = check_password(engine, "kari", PASSWORD, at=at)
    assert account is not None
    assert account.principal().agent_id == "sentralbord"
    assert account.last_sign_in_at == at
    assert _stored_hash(engine, "kari") != PASSWORD
    assert [a.username for a in all_accounts(engine)] == ["kari"]


def test_a_second_account_with_the_same_name_is_refused_and_the_first_kept(
    engine: Engine,
) -> None:
    _add(engine)
    with pytest.raises(AccountError, match="already an account 'kari'"):
        add_account(
            engine, username="kari", display_name="Someone else", role="manager",
            password=OTHER_PASSWORD,
        )  # fmt: skip
    account = find_account(engine, "kari")
    assert account is not None
    assert account.role == "agent"
    assert check_password(engine, "kari", PASSWORD) is not None


def test_a_department_lead_needs_a_department_and_only_they_have_one(engine: Engine) -> None:
    with pytest.raises(AccountError, match="needs a department"):
        _add(engine, "lead", role="department_lead")
    with pytest.raises(AccountError, match="only a department lead"):
        _add(engine, "mgr", role="manager", department="byggesak")
    with pytest.raises(AccountError, match="only an agent"):
        _add(engine, "mgr", role="manager", agent_id="sentralbord")
    _add(engine, "lead", role="department_lead", department="byggesak")
    assert [a.username for a in all_accounts(engine)] == ["lead"]


@pytest.mark.parametrize("password", ["short", "elleven-chr", "x" * 257])
def test_a_password_out_of_bounds_is_refused_without_repeating_it(
    engine: Engine, password: str
) -> None:
    with pytest.raises(AccountError) as refused:
        add_account(engine, username="kari", display_name="", role="agent", password=password)
    assert password not in str(refused.value)
    assert "characters" in str(refused.value)
    assert find_account(engine, "kari") is None
    _add(engine)
    with pytest.raises(AccountError) as again:
        set_password(engine, "kari", password)
    assert password not in str(again.value)
    assert check_password(engine, "kari", PASSWORD) is not None


def test_a_disabled_account_cannot_sign_in_until_enabled(engine: Engine) -> None:
    _add(engine)
    started = datetime.now(UTC)
    assert still_signed_in(engine, "kari", started)
    set_disabled(engine, "kari")
    assert check_password(engine, "kari", PASSWORD) is None
    assert not still_signed_in(engine, "kari", started)
    set_disabled(engine, "kari", False)
    assert check_password(engine, "kari", PASSWORD) is not None
    # Enabling lets the person sign in again; the session from before stays ended.
    assert not still_signed_in(engine, "kari", started)
    assert still_signed_in(engine, "kari", datetime.now(UTC))


def test_a_new_password_ends_sessions_started_before_it(engine: Engine) -> None:
    _add(engine)
    before = datetime.now(UTC)
    assert still_signed_in(engine, "kari", before)
    set_password(engine, "kari", OTHER_PASSWORD)
    assert not still_signed_in(engine, "kari", before)
    assert still_signed_in(engine, "kari", datetime.now(UTC) + timedelta(seconds=1))
    assert check_password(engine, "kari", PASSWORD) is None
    assert check_password(engine, "kari", OTHER_PASSWORD) is not None


def test_an_account_without_a_password_never_signs_in_by_password(engine: Engine) -> None:
    add_account(engine, username="oidc.only", display_name="", role="manager")
    assert check_password(engine, "oidc.only", "") is None
    assert check_password(engine, "oidc.only", PASSWORD) is None
    assert not still_signed_in(engine, "oidc.only", datetime.now(UTC))


def test_changing_an_account_that_does_not_exist_is_refused(engine: Engine) -> None:
    with pytest.raises(AccountError, match="no account 'ghost'"):
        set_password(engine, "ghost", PASSWORD, actor="cli:ops")
    with pytest.raises(AccountError, match="no account 'ghost'"):
        set_disabled(engine, "ghost", actor="cli:ops")
    assert entries(engine) == []


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(engine: Engine) -> None:
    _add(engine)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with Session(engine) as session, session.begin():
        session.execute(
            update(StaffAccount).where(StaffAccount.username == "kari").values(password_hash=weak)
        )
    assert check_password(engine, "kari", PASSWORD) is not None
    rehashed = _stored_hash(engine, "kari")
    assert rehashed is not None
    assert rehashed != weak
    assert not PasswordHasher().check_needs_rehash(rehashed)
    assert check_password(engine, "kari", PASSWORD) is not None


def test_changes_by_an_actor_are_audited_without_the_password(engine: Engine) -> None:
    add_account(
        engine, username="lead", display_name="Lea", role="department_lead",
        department="byggesak", password=PASSWORD, actor="cli:ops",
    )  # fmt: skip
    set_password(engine, "lead", OTHER_PASSWORD, actor="cli:ops")
    set_disabled(engine, "lead", actor="cli:ops")
    set_disabled(engine, "lead", False, actor="cli:ops")
    found = list(reversed(entries(engine, actor="cli:ops")))
    assert [(e.action, e.detail.get("change")) for e in found] == [
        ("account_added", None),
        ("account_changed", "password"),
        ("account_changed", "disabled"),
        ("account_changed", "enabled"),
    ]
    assert found[0].detail["role"] == "department_lead"
    assert found[0].detail["department"] == "byggesak"
    assert all(e.detail["username"] == "lead" for e in found)
    text = repr(found)
    assert PASSWORD not in text
    assert OTHER_PASSWORD not in text
    assert "argon2" not in text
