"""`switchboard backup FILE` and `switchboard restore FILE`: the database, copied out and back.

SQLite: the backup uses SQLite's online backup API (`sqlite3.Connection.backup`), which copies
a consistent snapshot page by page while the service keeps writing, so it is safe with `serve`
running. It writes `FILE.partial` and renames it when complete and checked, so an interrupted
backup never looks like a finished one.

The restore copies the file back into the database with the same API. It refuses while any
process on this machine has the database open (found in /proc), naming them: stop `switchboard
serve` (or the app, `switchboard ingest` and `switchboard exporter`) first, or pass `--force`.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`,
run when they are on PATH, else printed to run where they are. The password travels in
PGPASSWORD, never on the command line. The restore refuses while other sessions use the
database (pg_stat_activity), unless `--force`.

After a restore, the ingest consumer resumes where the stream is: events the backup already
holds are skipped by their dedupe keys, so replaying the stream (or the spool) counts nothing
twice. docs/operations.md tells the whole procedure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from switchboard.cli.command import CommandError, Subparsers, load_settings
from switchboard.db import normalise_url

STOP_FIRST = (
    "stop `switchboard serve` (or the app, `switchboard ingest` and `switchboard exporter`) "
    "first, or pass --force to restore anyway"
)


def register(subparsers: Subparsers) -> None:
    commands = {
        "backup": (
            "copy the database to FILE (safe while the service runs)",
            "Copy the database at SWITCHBOARD_DATABASE_URL to FILE, which must not exist yet. "
            "SQLite: an online backup, consistent and safe while the service runs. PostgreSQL: "
            "pg_dump -Fc (run if on PATH, else printed).",
            _backup,
        ),
        "restore": (
            "replace the database with the backup in FILE",
            "Replace the database at SWITCHBOARD_DATABASE_URL with the backup in FILE; refused "
            "while the database is in use, unless --force. SQLite: the online backup API; "
            "PostgreSQL: pg_restore --clean (run if on PATH, else printed).",
            _restore,
        ),
    }
    for name, (summary, description, handler) in commands.items():
        parser = subparsers.add_parser(name, help=summary, description=description)
        parser.add_argument("file", type=Path, metavar="FILE")
        if name == "restore":
            parser.add_argument(
                "--force", action="store_true", help="restore even while the database is in use"
            )
        parser.set_defaults(handler=handler)


def _backup(args: argparse.Namespace) -> int:
    url = make_url(normalise_url(load_settings().sqlalchemy_url))
    target: Path = args.file
    if target.exists():
        raise CommandError(f"{target} exists already; choose a new file name")
    if url.get_backend_name() == "sqlite":
        summary = backup_sqlite(sqlite_path(url), target)
        _say(f"Backed up {sqlite_path(url)} to {target}: {summary}")
        return 0
    return _postgres(url, dump_command(url, target), done=f"Backed up the database to {target}")


def _restore(args: argparse.Namespace) -> int:
    url = make_url(normalise_url(load_settings().sqlalchemy_url))
    source: Path = args.file
    if not source.is_file():
        raise CommandError(f"cannot read {source}: no such file", code=2)
    if url.get_backend_name() == "sqlite":
        database = sqlite_path(url)
        users = [] if args.force else database_users(database)
        if users:
            lines = [f"{database} is in use by:", *(f"  {user}" for user in users)]
            raise CommandError("\n".join([*lines, STOP_FIRST]))
        summary = restore_sqlite(source, database)
        _say(f"Restored {database} from {source}: {summary}")
        _say("Start the service again; `switchboard serve` applies newer migrations first.")
        return 0
    if not args.force:
        sessions = postgres_sessions(url)
        if sessions:
            lines = ["the database is in use by:", *(f"  {session}" for session in sessions)]
            raise CommandError("\n".join([*lines, STOP_FIRST]))
    done = f"Restored the database from {source}; run `switchboard migrate` before starting"
    return _postgres(url, restore_command(url, source), done=done)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


# --- SQLite ----------------------------------------------------------------------------------


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise CommandError("SWITCHBOARD_DATABASE_URL names an in-memory SQLite database")
    return Path(url.database).resolve()


def backup_sqlite(database: Path, target: Path) -> str:
    """Copy `database` into `target` with the online backup API; returns what it holds."""
    if not database.is_file():
        raise CommandError(f"no database at {database}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        summary = describe_sqlite(partial)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"backup of {database} failed: {exc}") from None
    partial.rename(target)
    return summary


def restore_sqlite(source: Path, database: Path) -> str:
    """Replace the contents of `database` with the backup `source`; returns what it holds."""
    try:
        summary = describe_sqlite(source)
    except sqlite3.Error as exc:
        raise CommandError(f"{source} is not a usable SQLite backup: {exc}") from None
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup,
            closing(sqlite3.connect(database)) as live,
        ):
            backup.backup(live)
    except sqlite3.Error as exc:
        raise CommandError(f"restore into {database} failed: {exc}") from None
    return summary


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def database_users(database: Path) -> list[Holder]:
    """The processes on this machine (other than this one) with the database file open."""
    names = {str(database), f"{database}-wal", f"{database}-shm", f"{database}-journal"}
    holders: list[Holder] = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:  # gone meanwhile, or another user's: not ours to see
            continue
        if links & names:
            holders.append(Holder(int(entry.name), command))
    return holders


def describe_sqlite(path: Path) -> str:
    """What a switchboard database holds, after SQLite's integrity check; raises if unusable."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        (check,) = db.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if not {"alembic_version", "call_events", "calls"} <= tables:
            raise sqlite3.DatabaseError("not a switchboard database (no call_events or calls)")
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        (events,) = db.execute("SELECT count(*) FROM call_events").fetchone()
        (calls,) = db.execute("SELECT count(*) FROM calls").fetchone()
    return f"{events} events, {calls} calls, schema {revision}"


# --- PostgreSQL ------------------------------------------------------------------------------


def libpq_uri(url: URL) -> str:
    """The URL as pg_dump and pg_restore take it: no driver, no password."""
    # Built anew: URL.set ignores a None, so it cannot drop the password.
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False)


def dump_command(url: URL, target: Path) -> list[str]:
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", libpq_uri(url)]


def restore_command(url: URL, source: Path) -> list[str]:
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={libpq_uri(url)}",
        str(source),
    ]


def _postgres(url: URL, command: list[str], *, done: str) -> int:
    shown = " ".join(command)
    if url.password:
        shown = "PGPASSWORD=… " + shown
    program = shutil.which(command[0])
    if program is None:
        raise CommandError(
            f"{command[0]} is not on PATH, so nothing was done; run this where it is "
            f"(for docker compose: docker compose exec postgres …):\n  {shown}"
        )
    _say(f"running: {shown}")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    result = subprocess.run([program, *command[1:]], env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        raise CommandError(f"{command[0]} failed with exit code {result.returncode}")
    _say(done)
    return 0


def postgres_sessions(url: URL) -> list[str]:
    """Other sessions connected to the database, as `application_name (client)`."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    query = text(
        "SELECT pid, coalesce(nullif(application_name, ''), '?'), "
        "coalesce(host(client_addr), 'local') FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise CommandError(f"cannot reach the database: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    return [f"pid {pid}: {name} ({client})" for pid, name, client in rows]
