"""Files the service writes hold callers' data (numbers in the database, the Redis AOF, the
spool, the development outbox, backups): only the service's own user may read them.

`switchboard` sets the umask to 077 before any command runs (`switchboard.cli.main`), so every
file it, its children and the embedded Redis create is 0600 and every directory 0700.
`switchboard serve` also tightens what an older install left under var/ (`restrict_tree`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_umask() -> None:
    """New files 0600, new directories 0700, in this process and the ones it starts."""
    os.umask(PRIVATE_UMASK)


def restrict_tree(root: Path) -> int:
    """Make `root` and every directory under it 0700 and every regular file 0600 (symlinks and
    sockets are left alone); returns how many modes it changed. A missing root: nothing."""
    changed = 0
    if not root.is_dir():
        return changed
    for directory, subdirectories, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, d) for d in subdirectories)]:
            changed += _chmod(Path(name), DIRECTORY_MODE)
        for name in files:
            changed += _chmod(Path(directory, name), FILE_MODE)
    return changed


def _chmod(path: Path, mode: int) -> int:
    try:
        current = path.lstat()
    except FileNotFoundError:  # gone meanwhile (a spool file replayed, say)
        return 0
    kind = stat.S_ISDIR if mode == DIRECTORY_MODE else stat.S_ISREG
    if not kind(current.st_mode) or stat.S_IMODE(current.st_mode) == mode:
        return 0
    path.chmod(mode)
    return 1
