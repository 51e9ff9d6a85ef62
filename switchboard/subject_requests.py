"""(Being written: see switchboard/privacy.py for what this module adds.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.cli import Subparsers


def register_privacy(commands: Subparsers) -> None:
    """Adds nothing yet."""
