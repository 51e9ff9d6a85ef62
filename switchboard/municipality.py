"""The one place that reads the municipality file (YAML) from disk.

`ivr.config.parse_config` validates the text and does no I/O; this reads the file for every
process that needs it: the web app (`switchboard.app.load_config`), the command line
(`switchboard.cli.command.read_config`, which turns failures into exit codes) and the
projection in the ingest consumer (`workers.records.load_projector`).
"""

from __future__ import annotations

from pathlib import Path

from ivr.config import Config, parse_config


def read_municipality(path: Path) -> Config:
    """The validated configuration in `path`. Raises OSError or UnicodeDecodeError when the file
    cannot be read, and ConfigError (one message per problem) when it is invalid."""
    return parse_config(path.read_text(encoding="utf-8"))
