"""What every command shares: the error an operator reads, the settings, the municipality file
and the argument types.

Light on purpose (pydantic and the settings only): every command module imports this while the
parser is built, and `switchboard --help` must stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from pydantic import ValidationError

from ivr.config import Config, ConfigError
from switchboard.municipality import read_municipality
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


def say(text: str = "") -> None:
    # The operator reads stdout; logging goes to stderr.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# --- configuration and settings -------------------------------------------------------------


def read_config(path: Path) -> Config:
    """Read and validate a municipality file. Unreadable: exit 2; invalid: exit 1."""
    try:
        return read_municipality(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}", code=2) from None
    except ConfigError as exc:
        count = len(exc.errors)
        lines = [f"{path}: {count} error{'s' if count != 1 else ''}", *exc.errors]
        raise CommandError("\n".join(lines)) from None


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


def configured_path() -> Path:
    # Read the variable directly, not through Settings: checking a file must work on a machine
    # whose production secrets are not (yet) set.
    return Path(os.environ.get("SWITCHBOARD_CONFIG") or DEFAULT_CONFIG)


def require_redis(connection: Redis, settings: Settings) -> None:
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


# --- argument types ----------------------------------------------------------------------------


def port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
