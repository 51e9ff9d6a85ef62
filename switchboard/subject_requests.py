"""`switchboard privacy find|export|erase NUMBER` and `switchboard privacy audit`.

The first three answer a data subject's request (GDPR articles 15, 20 and 17) about a phone
number: which rows there are, all of them as JSON, and unlinking the person from them
(`switchboard.subject_data`). Each writes one audit row (actor `cli:<user>` or `--actor`,
subject the caller's pseudonym, detail the row counts per table); an erasure writes it in its
own transaction. `audit` lists the audit log, newest first, as a table or as CSV.
docs/privacy.md ("Data-subject requests") is the operator's guide.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ivr.phone import masked_number
from switchboard import audit
from switchboard.subject_data import NotANumber, Subject, as_json, erase, find, spans

if TYPE_CHECKING:
    from switchboard.cli.command import Subparsers

# The municipality's local time, as in the statistics: dates given and times shown.
LOCAL = ZoneInfo("Europe/Oslo")


def register_privacy(commands: Subparsers) -> None:
    find_parser = commands.add_parser(
        "find", help="which rows a phone number has, per table (no personal data shown)"
    )
    _subject_options(find_parser)
    find_parser.set_defaults(handler=_find)

    export_parser = commands.add_parser(
        "export", help="every row of a phone number as JSON (an access or portability request)"
    )
    _subject_options(export_parser)
    export_parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write here (created 0600) instead of stdout"
    )
    export_parser.set_defaults(handler=_export)

    erase_parser = commands.add_parser(
        "erase", help="unlink a phone number from every row; counts stay exact"
    )
    _subject_options(erase_parser)
    erase_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase_parser.set_defaults(handler=_erase)

    audit_parser = commands.add_parser("audit", help="list the audit log, newest first")
    audit_parser.add_argument("--actor", help="only this actor (e.g. cli:kari, an API token)")
    audit_parser.add_argument("--action", choices=audit.ACTIONS, help="only this action")
    audit_parser.add_argument(
        "--number", help="only entries about this phone number (matched by its pseudonym)"
    )
    audit_parser.add_argument(
        "--since", type=_instant, metavar="DATE", help="from this date or time (local)"
    )
    audit_parser.add_argument(
        "--until",
        type=_until,
        metavar="DATE",
        help="up to this time, or to the end of this date (local)",
    )
    audit_parser.add_argument(
        "--limit", type=_positive, default=1000, help="at most this many rows (1000)"
    )
    audit_parser.add_argument("--csv", action="store_true", help="CSV to stdout")
    audit_parser.set_defaults(handler=_audit)


def _subject_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", help="the phone number: +4791234567, 004791234567, 91234567")
    parser.add_argument(
        "--actor", help="who asks, for the audit log (default: cli:<your user name>)"
    )


# --- the handlers ---------------------------------------------------------------------------


def _find(args: argparse.Namespace) -> int:
    subject, engine, actor = _open(args)
    try:
        with Session(engine) as session, session.begin():
            found = find(session, subject)
            text = describe(subject, found_spans=spans(found), call_sids=found.call_sids)
            audit.record(
                session,
                actor=actor,
                action="privacy_find",
                subject=subject.pseudonym,
                rows=found.counts(),
            )
    finally:
        engine.dispose()
    _say(text)
    return 0


def describe(subject: Subject, *, found_spans: dict[str, Any], call_sids: list[str]) -> str:
    """What `find` prints: rows, first and last time per table, and the call SIDs."""
    shown = masked_number(subject.number)
    if not any(span.rows for span in found_spans.values()):
        return f"{shown}: nothing found"
    lines = [f"{shown}: rows per table (first and last time, local)"]
    width = max(len(name) for name in found_spans)
    for name, span in found_spans.items():
        when = f"  {_local(span.first)} .. {_local(span.last)}" if span.rows else ""
        lines.append(f"  {name:<{width}}  {span.rows:>5}{when}")
    lines.append(f"calls ({len(call_sids)}):")
    lines.extend(f"  {sid}" for sid in call_sids)
    return "\n".join(lines)


def _export(args: argparse.Namespace) -> int:
    subject, engine, actor = _open(args)
    try:
        with Session(engine) as session, session.begin():
            found = find(session, subject)
            document = {
                "number": subject.number,
                "pseudonym": subject.pseudonym,
                "exported_at": datetime.now(UTC).isoformat(),
                "call_sids": found.call_sids,
                "tables": as_json(found),
            }
            text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            # Written before the audit row commits: a failed write leaves no claim of an export.
            if args.out is not None:
                _write_private(args.out, text)
            audit.record(
                session,
                actor=actor,
                action="privacy_export",
                subject=subject.pseudonym,
                rows=found.counts(),
            )
    finally:
        engine.dispose()
    if args.out is None:
        sys.stdout.write(text)
    else:
        rows = sum(found.counts().values())
        _say(f"wrote {rows} rows of {masked_number(subject.number)} to {args.out}")
    return 0


def _write_private(path: Path, text: str) -> None:
    """Create (or replace) the file readable by its owner only, then write it."""
    from switchboard.cli.command import CommandError

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode otherwise
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}", code=2) from None


def _erase(args: argparse.Namespace) -> int:
    subject, engine, actor = _open(args)
    shown = masked_number(subject.number)
    try:
        with Session(engine) as session:
            found = find(session, subject)
        if found.empty:
            _say(f"{shown}: nothing found; nothing to erase")
            with Session(engine) as session, session.begin():
                audit.record(
                    session, actor=actor, action="privacy_erase", subject=subject.pseudonym, rows={}
                )
            return 0
        total = sum(found.counts().values())
        if not args.yes and not _confirmed(f"Erase {shown} from {total} rows? Type yes: "):
            _say("not erased")
            return 1
        with Session(engine) as session, session.begin():
            erased = erase(session, subject)
            audit.record(
                session,
                actor=actor,
                action="privacy_erase",
                subject=subject.pseudonym,
                rows=erased.counts,
                cancelled_callbacks=erased.cancelled_callbacks,
                stopped_sms=erased.stopped_sms,
            )
    finally:
        engine.dispose()
    changed = ", ".join(f"{name} {count}" for name, count in erased.counts.items() if count)
    _say(f"erased {shown}: {changed}")
    if erased.cancelled_callbacks or erased.stopped_sms:
        _say(
            f"cancelled {erased.cancelled_callbacks} pending callback(s), "
            f"stopped {erased.stopped_sms} queued SMS"
        )
    return 0


def _confirmed(question: str) -> bool:
    sys.stdout.write(question)
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in {"yes", "y", "ja", "j"}


def _audit(args: argparse.Namespace) -> int:
    subject = _subject(args.number).pseudonym if args.number else None
    engine = _engine()
    try:
        rows = audit.entries(
            engine,
            actor=args.actor,
            action=args.action,
            subject=subject,
            since=args.since,
            until=args.until,
            limit=args.limit,
        )
    finally:
        engine.dispose()
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["at", "actor", "action", "subject", "detail"])
        for row in rows:
            detail = json.dumps(row.detail, ensure_ascii=False, sort_keys=True)
            writer.writerow([row.at.isoformat(), row.actor, row.action, row.subject or "", detail])
        return 0
    if not rows:
        _say("no audit entries")
        return 0
    table = [
        (
            _local(row.at),
            row.actor,
            row.action,
            (row.subject or "-")[:12],
            json.dumps(row.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        )
        for row in rows
    ]
    header = ("at (local)", "actor", "action", "subject", "detail")
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(4)]
    for line in [header, *table]:
        cells = [cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)]
        _say("  ".join([*cells, line[4]]).rstrip())
    return 0


# --- helpers ----------------------------------------------------------------------------------


def _open(args: argparse.Namespace) -> tuple[Subject, Engine, str]:
    actor = args.actor or f"cli:{getpass.getuser()}"
    return _subject(args.number), _engine(), actor


def _subject(number: str) -> Subject:
    """The number and its pseudonym under the service's caller key; exit 2 if not a number."""
    from switchboard.cli.command import CommandError, load_settings

    try:
        return Subject.of(number, key=load_settings().caller_key)
    except NotANumber as exc:
        raise CommandError(str(exc), code=2) from None


def _engine() -> Engine:
    from switchboard.cli.command import load_settings
    from switchboard.db import make_engine

    return make_engine(load_settings().sqlalchemy_url)


def _local(at: datetime | None) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at is not None else "-"


def _instant(text: str) -> datetime:
    """A date (its local midnight) or an ISO time (local unless it names its offset)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {text!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=LOCAL)


def _until(text: str) -> datetime:
    """Like `_instant`, but a plain date includes that whole day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _instant(text)
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
