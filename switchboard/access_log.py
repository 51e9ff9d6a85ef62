"""The web access log without query strings.

Twilio's action URLs carry the call's state in their query string, and one of them carries a
caller's keyed-in callback number (`/twilio/callback/confirm?...&number=...`). uvicorn's access
log would write it to stdout and from there to journald or a log collector, where no purge
reaches. So the access log keeps method, path and status, and drops everything after `?`.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class WithoutQuery(logging.Filter):
    """Rewrites uvicorn's access record `(client, method, path, http_version, status)`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, mark, _query = args[2].partition("?")
            if mark:
                record.args = (args[0], args[1], path + "?…", args[3], args[4])
        return True


def drop_query_strings() -> None:
    """Install the filter on uvicorn's access logger (once; harmless to repeat)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, WithoutQuery) for f in logger.filters):
        logger.addFilter(WithoutQuery())
