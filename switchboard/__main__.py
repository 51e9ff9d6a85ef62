"""`python -m switchboard`: the same as the `switchboard` console script.

`serve` starts its children this way, so they need no console script on PATH.
"""

from switchboard.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
