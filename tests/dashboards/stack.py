"""The monitored service, run natively for a test: `switchboard serve`, `switchboard exporter` and
a real Prometheus server (Debian's binary), each a child process in one work directory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ivr.config import parse_config
from ivr.hours import Hours
from switchboard.settings import DEFAULT_CONFIG
from tests.dashboards.boards import RULE_FILES
from tests.fixtures.localhost import free_port, poll, status
from tests.fixtures.prometheus import PrometheusApi, tool

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A country whose public holidays differ from Norway's, for a day that is one in Norway.
HOLIDAY_CALENDARS = ("NO", "IL", "JP")


def always_open_config(path: Path, *, days: list[date]) -> Path:
    """The shipped municipality, open around the clock on `days` (so that a test at any hour
    gets the open flow: queue, transfers, returns): every service 00:00-24:00, no special days
    or closures, and a public-holiday calendar in which none of `days` is a holiday."""
    raw: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    always = dict.fromkeys(DAYS, "00:00-24:00")
    raw["switchboard"]["hours"] = always
    for service in (*raw["departments"], *raw.get("receptions", [])):
        service["hours"] = always
    calendar = raw["calendar"]
    calendar.update(special_days=[], closures=[], holiday_subdivision=None)
    for country in HOLIDAY_CALENDARS:
        calendar["holiday_country"] = country
        hours = Hours(parse_config(yaml.safe_dump(raw, allow_unicode=True)))
        if not any(hours.is_holiday(day) for day in days):
            break
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def prometheus_config(
    directory: Path, *, app: str, exporter: str, ingest: str, worker: str
) -> Path:
    """The repository's rules and scrape jobs, with 1-second intervals for a short test."""
    rules = []
    for source in RULE_FILES:
        text = re.sub(r"(?m)^(\s+interval:) .*$", r"\1 1s", source.read_text(encoding="utf-8"))
        target = directory / source.name
        target.write_text(text, encoding="utf-8")
        rules.append(str(target))
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": rules,
        "scrape_configs": [
            {"job_name": "switchboard", "static_configs": [{"targets": [app]}]},
            {"job_name": "switchboard-exporter", "static_configs": [{"targets": [exporter]}]},
            {"job_name": "switchboard-ingest", "static_configs": [{"targets": [ingest]}]},
            {"job_name": "switchboard-worker", "static_configs": [{"targets": [worker]}]},
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _stop(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Stack:
    """The running processes and where they listen."""

    def __init__(self, workdir: Path, stack: ExitStack) -> None:
        self.workdir = workdir
        self.var = workdir / "var"
        self._stack = stack
        ports = [free_port() for _ in range(6)]
        self.web_port, self.exporter_port, self.prometheus_port = ports[:3]
        self.ingest_port, self.worker_port, self.web_metrics_port = ports[3:]
        self.web = f"http://127.0.0.1:{self.web_port}"
        # The web workers' metrics, which `serve` serves on their own port.
        self.web_metrics = f"http://127.0.0.1:{self.web_metrics_port}/metrics"
        self.exporter = f"http://127.0.0.1:{self.exporter_port}"
        self.prometheus = PrometheusApi(f"http://127.0.0.1:{self.prometheus_port}")
        today = datetime.now().astimezone().date()
        self.config = always_open_config(
            workdir / "municipality.yaml",
            days=[today - timedelta(days=1), today, today + timedelta(days=1)],
        )
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SWITCHBOARD_") and k != "PROMETHEUS_MULTIPROC_DIR"
        }
        self.env.update(
            SWITCHBOARD_PUBLIC_URL=self.web,
            SWITCHBOARD_CONFIG=str(self.config),
            # `serve` starts the ingest consumer, which then serves its counts here.
            SWITCHBOARD_INGEST_METRICS_PORT=str(self.ingest_port),
            SWITCHBOARD_WORKER_METRICS_PORT=str(self.worker_port),
        )

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.var / 'switchboard.db'}"

    @property
    def redis_url(self) -> str:
        return f"unix://{self.var / 'redis.sock'}"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self._stack.callback(log.close)
        process = subprocess.Popen(
            argv, cwd=self.workdir, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self._stack.callback(_stop, process)

    def start_service(self, *, web_workers: int) -> None:
        me = [sys.executable, "-m", "switchboard"]
        self.start(
            "serve",
            [
                *(*me, "serve", "--port", str(self.web_port), "--workers", str(web_workers)),
                *("--metrics-port", str(self.web_metrics_port)),
            ],
        )
        poll(lambda: status(f"{self.web}/readyz"), lambda s: s == 200, within=60, what="serve")
        exporter_env = {
            **self.env,
            "SWITCHBOARD_REDIS_URL": self.redis_url,
            "SWITCHBOARD_DATABASE_URL": self.database_url,
        }
        self.start("exporter", [*me, "exporter", "--port", str(self.exporter_port)], exporter_env)
        poll(
            lambda: status(f"{self.exporter}/metrics"),
            lambda s: s == 200,
            within=30,
            what="exporter",
        )

    def start_prometheus(self) -> None:
        directory = self.workdir / "prometheus"
        directory.mkdir()
        config = prometheus_config(
            directory,
            app=f"127.0.0.1:{self.web_metrics_port}",
            exporter=f"127.0.0.1:{self.exporter_port}",
            ingest=f"127.0.0.1:{self.ingest_port}",
            worker=f"127.0.0.1:{self.worker_port}",
        )
        self.start(
            "prometheus",
            [
                tool("prometheus", "prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                "--storage.tsdb.retention.time=1d",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            ],
        )
        poll(self.prometheus.ready, bool, within=30, what="prometheus ready")

        def health() -> list[str]:
            return sorted(target["health"] for target in self.prometheus.targets())

        poll(health, lambda h: h == ["up"] * 4, within=30, what="all four targets up")

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    with ExitStack() as stack:
        yield Stack(workdir, stack)
