"""The privacy scan: after a day of calls through the real running service, where do the
callers' numbers end up?

`switchboard serve` runs as `make run` starts it (web app, ingest, RQ worker, embedded Redis
with its AOF under var/, SMS to the development outbox). A day of calls from known numbers is
played at its HTTP port, some callbacks are marked done through the API, and `switchboard
purge` runs. Then everything is scanned: the service's output, every file under var/, every
Redis key, /metrics, every SQL column. The rule: a number may be only in `callbacks.number` of a
callback still within retention, in `sms_messages.number` of an SMS still queued, and in the
database's own files for those numbers only. Every file under var/ is 0600, every directory
0700. `pytest -s` prints the whole report.
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine

from ivr.config import parse_config
from switchboard.number_scan import Finding, NumberScan
from switchboard.number_stores import scan_redis, scan_sql
from switchboard.settings import Settings
from tests.fixtures.cli import run_cli
from tests.fixtures.localhost import fetch, free_port, poll, status, wait_for
from tests.fixtures.serve import running_serve
from tests.privacy.workday import KEYED, KNOWN, Day, Workday

AGENT = {"Authorization": "Bearer dev-agent-token"}
LATER = timedelta(days=8)  # past the callback retention (7 days by default)
DATABASE_FILES = ("switchboard.db", "switchboard.db-wal", "switchboard.db-shm")


def query(database: Path, sql: str, parameters: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
        return list(db.execute(sql, parameters))


def ingested(database: Path, sids: set[str]) -> bool:
    if not database.exists():
        return False
    try:
        rows = query(database, "SELECT call_sid FROM calls WHERE ended_at IS NOT NULL")
    except sqlite3.OperationalError:  # the tables are made as serve starts
        return False
    return sids <= {str(row[0]) for row in rows}


def sms_settled(database: Path, outbox: Path) -> bool:
    """No SMS row is queued any more, and the outbox has a line for each one sent."""
    rows = query(database, "SELECT status FROM sms_messages")
    sent = sum(1 for (state,) in rows if state == "sent")
    lines = len(outbox.read_text().splitlines()) if outbox.exists() else 0
    return all(state != "queued" for (state,) in rows) and lines == sent


@contextmanager
def service(workdir: Path, port: int, metrics_port: int) -> Iterator[None]:
    with running_serve(workdir, port, "--metrics-port", str(metrics_port)) as serve:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        yield
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0


def play_day(url: str) -> Day:
    settings = Settings(public_url=url)
    config = parse_config(settings.config.read_text(encoding="utf-8"))
    with httpx.Client(timeout=30) as client:
        return Workday(http=client, settings=settings, config=config).play()


def mark_half_done(url: str) -> int:
    """An agent marks every other pending callback done, through the API."""
    with httpx.Client(base_url=url, headers=AGENT, timeout=10) as api:
        pending = api.get("/api/callbacks").raise_for_status().json()
        for callback in pending[::2]:
            api.post(f"/api/callbacks/{callback['id']}", json={"status": "done"}).raise_for_status()
        return len(pending[::2])


def purge(workdir: Path, *, now: datetime | None = None) -> str:
    """`switchboard purge`, now or as if at `now`; what it printed."""
    args = ("--now", now.isoformat()) if now else ()
    done = run_cli("purge", *args, cwd=workdir)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def rewrites_asked(connection: redis.Redis) -> int:
    stats = connection.info("commandstats").get("cmdstat_bgrewriteaof", {})
    return int(stats.get("calls", 0))


def aof_rewritten(connection: redis.Redis, *, asked_before: int) -> bool:
    """Each purge asked for a rewrite since `asked_before`, and none is still running."""
    info = connection.info("persistence")
    return (
        rewrites_asked(connection) >= asked_before + 2
        and not info["aof_rewrite_in_progress"]
        and not info["aof_rewrite_scheduled"]
    )


def allowed(database: Path, *, as_of: datetime) -> tuple[set[str], set[str]]:
    """The SQL locations where a number may be, and the numbers they hold: callbacks within
    retention (pending, or done or cancelled less than the retention ago) and queued SMS."""
    keep = timedelta(days=Settings().retain_callback_days)
    cutoff = (as_of - keep).strftime("%Y-%m-%d %H:%M:%S")
    rows = query(
        database,
        "SELECT id, number FROM callbacks WHERE number != '' AND "
        "((status = 'pending' AND requested_at >= ?) OR done_at >= ?)",
        (cutoff, cutoff),
    )
    sms = query(
        database,
        "SELECT id, number FROM sms_messages WHERE status = 'queued' AND number IS NOT NULL",
    )
    locations = {f"callbacks.number#{id_}" for id_, _ in rows}
    locations |= {f"sms_messages.number#{id_}" for id_, _ in sms}
    return locations, {str(number) for _, number in [*rows, *sms]}


def forbidden(
    scan: NumberScan, var: Path, *, locations: set[str], numbers: set[str]
) -> list[Finding]:
    database_files = {str(var / name) for name in DATABASE_FILES}

    def ok(finding: Finding) -> bool:
        if finding.kind == "sql":
            return finding.location in locations
        if finding.kind == "file" and finding.location in database_files:
            return finding.number in numbers
        return False

    return [finding for finding in scan.findings if not ok(finding)]


def scan_everything(workdir: Path, connection: redis.Redis, metrics_port: int) -> NumberScan:
    """Every place a number could be: Redis, /metrics, the files under var/ (the database's
    and the AOF among them), the service's output, every SQL column."""
    var = workdir / "var"
    scan = NumberScan.of(KNOWN)
    scan_redis(scan, connection)
    metrics = fetch(f"http://127.0.0.1:{metrics_port}/metrics")
    assert "switchboard_webhook_requests_total" in metrics  # the scrape is not vacuous
    scan.scan_text("/metrics", metrics, kind="metrics")
    scan.scan_tree(var)
    for name in ("stdout.txt", "stderr.txt"):
        scan.scan_text(f"serve {name}", (workdir / name).read_text(errors="replace"), kind="log")
    engine = create_engine(f"sqlite:///{var / 'switchboard.db'}")
    try:
        scan_sql(scan, engine)
    finally:
        engine.dispose()
    # The scan looked where the numbers could be: no place is vacuously clean.
    assert scan.places["redis"] > 0
    assert scan.places["sql"] > 0
    assert any(entry.path.name.startswith("appendonly") for entry in scan.entries)
    assert any(entry.path == var / "switchboard.db" for entry in scan.entries)
    return scan


def report(scan: NumberScan, wrong: list[Finding], *, title: str) -> str:
    modes = scan.modes_other_than(file=0o600, directory=0o700)
    return "\n".join(
        [
            f"== {title}",
            f"findings by kind: {dict(scan.by_kind())}; forbidden by kind: "
            f"{dict(NumberScan(scan.matcher, wrong).by_kind())}",
            scan.report(),
            f"forbidden: {len(wrong)} findings of {len({f.number for f in wrong})} numbers",
            *(f"  {finding}" for finding in wrong),
            f"{len(modes)} files and directories under var/ with another mode than 0600/0700",
            *(f"  {entry}" for entry in modes),
        ]
    )


def test_numbers_end_up_only_where_the_rules_allow(workdir: Path) -> None:
    var = workdir / "var"
    database = var / "switchboard.db"
    port, metrics_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    with service(workdir, port, metrics_port):
        day = play_day(url)
        sids = {call.sid for call in day.calls}
        wait_for(lambda: ingested(database, sids), within=120, what="every call ingested")
        poll(
            lambda: sms_settled(database, var / "outbox.jsonl"),
            bool,
            within=120,
            what="every SMS sent to the outbox",
        )
        numbers = {str(n) for (n,) in query(database, "SELECT number FROM callbacks")}
        assert numbers & set(KEYED), "a landline caller keyed in a number for a callback"
        assert query(database, "SELECT count(*) FROM sms_messages")[0][0] != 0
        done = mark_half_done(url)
        connection = redis.Redis(unix_socket_path=str(var / "redis.sock"), socket_timeout=10)
        try:
            asked = rewrites_asked(connection)
            now = datetime.now(UTC)
            notes = [f"purge now: {purge(workdir)}"]
            # Today: numbers only in the callbacks still owed or done within retention (the
            # SMS are all sent, so none is left on a queued row).
            today = scan_everything(workdir, connection, metrics_port)
            locations, kept = allowed(database, as_of=now)
            wrong_today = forbidden(today, var, locations=locations, numbers=kept)
            later = now + LATER
            notes.append(f"purge as of {later:%Y-%m-%d}: {purge(workdir, now=later)}")
            # Each purge asked Redis to rewrite its append-only file; scan what it rewrote.
            wait_for(
                lambda: aof_rewritten(connection, asked_before=asked),
                within=60,
                what="the AOF rewritten",
            )
            # Eight days on, every callback is past retention (done ones 7 days after done,
            # pending ones cancelled 7 days after the request): no number may be left.
            after = scan_everything(workdir, connection, metrics_port)
        finally:
            connection.close()
    played = ", ".join(f"{scenario} {len(v)}" for scenario, v in day.scenarios.items())
    summary = "\n".join(
        [
            f"played {len(day.calls)} calls ({played}); {day.agent_calls} agent calls; "
            f"{done} callbacks marked done",
            *notes,
            f"today: {len(locations)} SQL locations may hold {len(kept)} numbers",
            report(today, wrong_today, title="today"),
            report(after, after.findings, title="eight days later"),
        ]
    )
    print(summary)  # noqa: T201 - `pytest -s tests/privacy` shows the report
    assert len(kept) >= done > 0, summary  # numbers were there, where allowed
    assert not wrong_today, summary
    assert not after.findings, summary
    assert not after.modes_other_than(file=0o600, directory=0o700), summary
