"""The audit page's filters, read from the query string, and its CSV export.

Filters: the person who acted (exact user name), the action (one of `audit.ACTIONS`), a date
range in local days (the `to` day included), and a citizen's phone number, matched through the
number's pseudonym as `switchboard privacy audit --number` does. Looking a number up is itself
a lookup of personal data: the route records it as `privacy_find`.

The CSV guards against formula injection: a spreadsheet runs a cell that starts with `=`, `+`,
`-` or `@` (or a tab or carriage return) as a formula, and a failed sign-in's user name is
whatever an attacker typed. Such a cell is prefixed with `'`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from switchboard import audit
from switchboard.audit import ACTIONS, Audited
from switchboard.subject_data import NotANumber, Subject

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("at", "actor", "action", "subject", "detail")


@dataclass(frozen=True)
class AuditFilter:
    """What the form asked for (as typed, to show in the form again) and what it means."""

    actor: str = ""
    action: str = ""
    date_from: str = ""
    date_to: str = ""
    number: str = ""
    since: datetime | None = None
    until: datetime | None = None
    subject: str | None = None  # the number's pseudonym
    errors: dict[str, str] = field(default_factory=dict)  # field name -> wording key

    def entries(self, engine: Engine, *, limit: int) -> Sequence[Audited]:
        """The entries this filter lets through, newest first."""
        return audit.entries(
            engine,
            actor=self.actor or None,
            action=self.action or None,
            subject=self.subject,
            since=self.since,
            until=self.until,
            limit=limit,
        )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_filter(params: Mapping[str, str], *, zone: ZoneInfo, caller_key: str) -> AuditFilter:
    actor = params.get("actor", "").strip()[:128]
    action = params.get("action", "").strip()
    date_from = params.get("from", "").strip()
    date_to = params.get("to", "").strip()
    number = params.get("number", "").strip()[:40]
    errors: dict[str, str] = {}
    if action and action not in ACTIONS:
        errors["action"] = "fix_filters"
    since = until = None
    if date_from:
        start = _day(date_from)
        if start is None:
            errors["from"] = "bad_date"
        else:
            since = datetime.combine(start, time(), tzinfo=zone)
    if date_to:
        end = _day(date_to)
        if end is None:
            errors["to"] = "bad_date"
        else:
            until = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
    subject = None
    if number:
        try:
            subject = Subject.of(number, key=caller_key).pseudonym
        except NotANumber:
            errors["number"] = "bad_number"
    return AuditFilter(
        actor=actor,
        action=action,
        date_from=date_from,
        date_to=date_to,
        number=number,
        since=since,
        until=until,
        subject=subject,
        errors=errors,
    )


def compact_detail(entry: Audited) -> str:
    return json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def audit_csv(entries: Iterable[Audited], *, zone: ZoneInfo) -> str:
    """The entries as CSV: a header row, then one row each; times in ISO 8601, local time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        cells = (
            entry.at.astimezone(zone).isoformat(timespec="seconds"),
            entry.actor,
            entry.action,
            entry.subject or "",
            compact_detail(entry),
        )
        writer.writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()
