"""`switchboard serve`: the service in one command, the web server, the ingest consumer and an
RQ worker supervised as child processes, with the embedded Redis unless one is configured."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from contextlib import ExitStack

from switchboard import pins
from switchboard.cli.command import (
    CommandError,
    Subparsers,
    configured_path,
    load_settings,
    port,
    positive,
    read_config,
    say,
)
from switchboard.cli.metrics_options import add_metrics_options
from switchboard.cli.migrate import run_migrations
from switchboard.observability.metrics_port import DEFAULT_PORT, PORT_ENV
from switchboard.private_files import restrict_tree


def register(subparsers: Subparsers) -> None:
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
    serve.add_argument("--port", type=port, default=8000, help="port to listen on (%(default)s)")
    serve.add_argument(
        "--workers", type=positive, default=1, help="uvicorn worker processes (%(default)s)"
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


def _serve(args: argparse.Namespace) -> int:
    # The config first: its errors are the likelier ones, and they need no secrets to show.
    config = read_config(configured_path())
    settings = load_settings()
    warning = pins.check_agent_line(configured_path(), config, env=settings.env)
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
        run_migrations(settings)
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
        say(
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
