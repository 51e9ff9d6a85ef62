"""The `switchboard` command line: serve, worker, ingest, migrate, config check and the rest.

Each subcommand is added by a `register(subparsers)` function (see `REGISTRARS`), so a module of
its own (`calltrial.register`, say) can add one without touching the others. Heavy imports (the
app, SQLAlchemy, RQ) happen inside the handlers: `switchboard --help` stays fast and works even
when a part of the service is broken.

Exit codes: 0 success, 1 invalid configuration or settings (or a failed command), 2 usage
errors and unreadable files, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from pydantic import ValidationError

from ivr.config import Config, ConfigError, parse_config
from switchboard import access, pins
from switchboard.observability.collectors import add_metrics_options
from switchboard.observability.metrics_port import DEFAULT_PORT, PORT_ENV
from switchboard.private_files import private_umask, restrict_tree
from switchboard.settings import DEFAULT_CONFIG, Settings

if TYPE_CHECKING:
    from redis import Redis

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A failure to report to the operator as plain text, without a traceback."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _say(text: str = "") -> None:
    # The operator reads stdout; logging goes to stderr.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- configuration and settings -------------------------------------------------------------


def read_config(path: Path) -> Config:
    """Read and validate a municipality file. Unreadable: exit 2; invalid: exit 1."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}", code=2) from None
    try:
        return parse_config(text)
    except ConfigError as exc:
        count = len(exc.errors)
        lines = [f"{path}: {count} error{'s' if count != 1 else ''}", *exc.errors]
        raise CommandError("\n".join(lines)) from None


def describe_config(path: Path, config: Config) -> str:
    departments = len(config.departments)
    desks = len(config.receptions)
    return (
        f"OK: {path}: {config.municipality.name}, "
        f"{departments} department{'s' if departments != 1 else ''}, "
        f"{desks} reception desk{'s' if desks != 1 else ''}"
    )


def load_settings() -> Settings:
    """Settings from the environment, or a readable list of what is wrong with them."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = ["invalid settings:"]
        for item in exc.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            loc = [str(part) for part in item["loc"]]
            if loc:
                lines.append(f"  SWITCHBOARD_{loc[0].upper()}: {message}")
            else:
                lines.append(f"  {message}")
        raise CommandError("\n".join(lines)) from None


def _configured_path() -> Path:
    # Read the variable directly, not through Settings: checking a file must work on a machine
    # whose production secrets are not (yet) set.
    return Path(os.environ.get("SWITCHBOARD_CONFIG") or DEFAULT_CONFIG)


# --- config check ----------------------------------------------------------------------------


def _register_config(subparsers: Subparsers) -> None:
    config = subparsers.add_parser(
        "config",
        help="work with the municipality configuration file",
        description="Work with the municipality configuration file (YAML).",
    )
    config.set_defaults(handler=lambda _args: usage(config))
    actions = config.add_subparsers(title="actions", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate a configuration file",
        description=(
            "Validate a municipality configuration file and print each problem with its "
            "location, one per line. Exit code 0: valid; 1: invalid, or agents let in by "
            "caller ID alone with SWITCHBOARD_ENV=production (else a warning); 2: unreadable."
        ),
    )
    check.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="the file to check (default: $SWITCHBOARD_CONFIG, else the shipped Alver file)",
    )
    check.set_defaults(handler=_config_check)


def _config_check(args: argparse.Namespace) -> int:
    path: Path = args.file or _configured_path()
    config = read_config(path)
    warning = pins.check_agent_line(path, config, env=os.environ.get("SWITCHBOARD_ENV", ""))
    _say(describe_config(path, config))
    if warning:
        _say(warning)
    return 0


def usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# --- migrate ---------------------------------------------------------------------------------


def _register_migrate(subparsers: Subparsers) -> None:
    migrate = subparsers.add_parser(
        "migrate",
        help="apply the database migrations (alembic upgrade head)",
        description=(
            "Bring the database at SWITCHBOARD_DATABASE_URL (default: a SQLite file under "
            "./var/) up to the newest schema. Safe to run again."
        ),
    )
    migrate.set_defaults(handler=_migrate)


def _migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()
    _run_migrations(settings)
    return 0


def _run_migrations(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    from switchboard.db import migrate

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    url = settings.sqlalchemy_url
    migrate(url)
    _say(f"Database is up to date: {make_url(url).render_as_string(hide_password=True)}")


# --- worker and ingest -----------------------------------------------------------------------


def _register_worker(subparsers: Subparsers) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="run an RQ worker for background jobs (such as sending SMS)",
        description=(
            "Run an RQ worker on SWITCHBOARD_REDIS_URL (jobs are JSON-serialized). Without "
            "that variable it uses the embedded Redis that `switchboard serve` runs under "
            "./var/. SIGTERM finishes the current job, then stops."
        ),
    )
    add_metrics_options(worker, env="SWITCHBOARD_WORKER_METRICS_PORT")
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from switchboard.observability.collectors import serve_metrics, worker_registry
    from switchboard.redis_client import worker_redis
    from workers.context import build_context
    from workers.queues import make_worker

    settings = load_settings()
    connection = worker_redis(settings)
    _require_redis(connection, settings)
    worker = make_worker(connection=connection, context=build_context(settings))
    serve_metrics(args, lambda: worker_registry(lambda: connection.hgetall(worker.key)))
    # The scheduler runs jobs whose retries wait (SMS sending backs off between attempts).
    worker.work(with_scheduler=True)
    return 0


def _register_ingest(subparsers: Subparsers) -> None:
    ingest = subparsers.add_parser(
        "ingest",
        help="run the event stream consumer (Redis Stream to SQL)",
        description=(
            "Read call events from the Redis Stream with a consumer group and write them to "
            "the database in batches; also replay events the web processes spooled under "
            "./var/spool while Redis was away. SIGINT or SIGTERM stops it after the current "
            "batch. It also sweeps: calls whose end never arrived are looked up in Twilio's "
            "REST API (workers/sweep.py)."
        ),
    )
    add_metrics_options(ingest, env="SWITCHBOARD_INGEST_METRICS_PORT")
    ingest.add_argument(
        "--sweep-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how often to sweep for calls without an end (default 300; 0 turns it off; "
        "off while no Twilio account is configured)",
    )
    ingest.add_argument(
        "--sweep-after",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="sweep calls started longer ago than this (default 30)",
    )
    from workers.purge import add_schedule_options

    add_schedule_options(ingest)  # --purge-every and --keep-days
    ingest.set_defaults(handler=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    from switchboard.eventlog import EventLog
    from switchboard.observability.collectors import ingest_registry, serve_metrics
    from switchboard.redis_client import worker_redis
    from workers.ingest import Ingestor, ingest_engine
    from workers.purge import scheduled_purger, start_purger
    from workers.sweep import start_from_args

    settings = load_settings()
    connection = worker_redis(settings)
    _require_redis(connection, settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    engine = ingest_engine(settings)
    # Given the event log, the consumer also replays the spool the web processes wrote while
    # Redis was away, so it must run where it can read SWITCHBOARD_VAR_DIR/spool.
    events = EventLog.from_settings(settings, redis=connection)
    ingestor = Ingestor.from_settings(settings, redis=connection, engine=engine, event_log=events)
    purger = scheduled_purger(args, engine=engine, settings=settings, redis_client=connection)
    serve_metrics(args, lambda: ingest_registry(ingestor, purger))
    start_from_args(args, settings=settings, engine=engine, events=events, stop=stop)
    if purger is not None:
        start_purger(purger, interval=args.purge_every, stop=stop)
    try:
        ingestor.run_forever(stop)
    finally:
        engine.dispose()
    return 0


def _require_redis(connection: Redis, settings: Settings) -> None:
    from redis.exceptions import RedisError

    try:
        connection.ping()
    except RedisError as exc:
        hint = (
            "start `switchboard serve` (it runs the embedded Redis) or set SWITCHBOARD_REDIS_URL"
            if not settings.redis_url
            else "check SWITCHBOARD_REDIS_URL"
        )
        raise CommandError(
            f"cannot reach Redis at {settings.effective_redis_url}: {exc}; {hint}"
        ) from None


# --- serve -----------------------------------------------------------------------------------


def _register_serve(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the service: web server, ingest consumer and RQ worker",
        description=(
            "Validate the configuration and settings, start the embedded Redis (unless "
            "SWITCHBOARD_REDIS_URL is set), apply migrations, then run and supervise uvicorn "
            "(switchboard.app:app), the ingest consumer and an RQ worker as child processes. "
            "A crashed child is restarted; SIGINT/SIGTERM stops everything, Redis last."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (%(default)s)")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="uvicorn worker processes (%(default)s)"
    )
    serve.add_argument(
        "--no-embedded-workers",
        dest="embedded_workers",
        action="store_false",
        help="run only the web server; run `switchboard worker` and `switchboard ingest` "
        "elsewhere (as docker compose does)",
    )
    add_metrics_options(serve, env=PORT_ENV, default=DEFAULT_PORT, what="the web workers' metrics")
    serve.set_defaults(handler=_serve)


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _serve(args: argparse.Namespace) -> int:
    # The config first: its errors are the likelier ones, and they need no secrets to show.
    config = read_config(_configured_path())
    settings = load_settings()
    warning = pins.check_agent_line(_configured_path(), config, env=settings.env)
    if warning:
        sys.stderr.write(warning + "\n")  # warnings on stderr, like the exposure ones below

    from switchboard.exposure import exposure_warnings, local_url

    if settings.env != "production" and "SWITCHBOARD_PUBLIC_URL" not in os.environ:
        # Development on another port (make run PORT=8010): requests are signed for the URL
        # this server answers on, and the children learn it from the environment.
        os.environ["SWITCHBOARD_PUBLIC_URL"] = local_url(args.host, args.port)
        settings = settings.model_copy(update={"public_url": os.environ["SWITCHBOARD_PUBLIC_URL"]})
    from switchboard.observability.metrics_port import MetricsPortError, open_metrics
    from switchboard.redis_server import EmbeddedRedisError, ensure_redis
    from switchboard.supervisor import (
        Supervisor,
        child_environment,
        describe_service,
        install_signal_handlers,
        service_children,
    )
    from switchboard.webport import WebPortError, check_web_port

    sys.stderr.writelines(f"warning: {text}\n" for text in exposure_warnings(settings, args))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    restrict_tree(settings.var_dir)  # an older install's var/ was made with the default umask
    try:  # before anything starts: a web or metrics port already taken stops serve at once
        check_web_port(args.host, args.port)
        metrics_dir, metrics_url = open_metrics(args, var_dir=settings.var_dir)
    except (WebPortError, MetricsPortError) as exc:
        raise CommandError(str(exc)) from None
    with ExitStack() as stack:
        try:
            embedded = ensure_redis(settings)
        except EmbeddedRedisError as exc:
            raise CommandError(f"cannot start the embedded Redis: {exc}") from None
        redis_url = settings.redis_url
        if embedded is not None:
            stack.callback(embedded.stop)  # registered first, so it runs last
            redis_url = embedded.url
            watching = threading.Event()
            watcher = threading.Thread(
                target=embedded.supervise, kwargs={"stop": watching}, daemon=True
            )
            watcher.start()
            stack.callback(watcher.join)
            stack.callback(watching.set)
        _run_migrations(settings)
        env = child_environment(
            base=os.environ,
            redis_url=redis_url,
            database_url=settings.sqlalchemy_url,
            var_dir=settings.var_dir.resolve(),
            metrics_dir=metrics_dir,
        )
        children = service_children(
            host=args.host,
            port=args.port,
            web_workers=args.workers,
            embedded_workers=args.embedded_workers,
            env=env,
        )
        supervisor = Supervisor(children)
        install_signal_handlers(supervisor)
        _say(
            describe_service(
                settings,
                host=args.host,
                port=args.port,
                metrics_url=metrics_url,
                web_workers=args.workers,
                embedded_workers=args.embedded_workers,
                redis_url=redis_url,
                embedded_redis=embedded is not None,
            )
        )
        return supervisor.run()
    return 1  # unreachable: mypy cannot see that ExitStack does not swallow exceptions


# --- entry point -----------------------------------------------------------------------------


def _lazy(module: str) -> Callable[[Subparsers], None]:
    """A registrar that imports `module` only when the parser is built, and calls its
    `register(subparsers)`."""

    def register(subparsers: Subparsers) -> None:
        importlib.import_module(module).register(subparsers)

    return register


REGISTRARS: tuple[Callable[[Subparsers], None], ...] = (
    _register_serve,
    _register_worker,
    _register_ingest,
    _register_migrate,
    _register_config,
    pins.register,
    _lazy("sim.call_trial"),
    _lazy("workers.purge"),
    _lazy("switchboard.observability.exporter"),
    _lazy("sim.simulation"),
    access.register,
    _lazy("switchboard.backup"),
    _lazy("switchboard.number_check"),
    _lazy("switchboard.privacy"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Twilio IVR and switchboard service for Norwegian municipalities.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        return usage(parser)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each plugin it loads, in every process that imports it.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Before anything is written: the database, Redis's files, the spool, the outbox and
    # backups hold callers' data, for the service's user only (switchboard/private_files.py).
    private_umask()
    try:
        return handler(args)
    except CommandError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
