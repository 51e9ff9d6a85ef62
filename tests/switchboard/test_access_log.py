"""The access log keeps the path and drops the query, where a keyed callback number travels."""

from __future__ import annotations

import logging

from switchboard.access_log import ACCESS_LOGGER, drop_query_strings

CONFIRM = "/twilio/callback/confirm?s=4&number=%2B4741100001&n=0"


def test_a_callback_confirmation_is_logged_without_the_number(caplog) -> None:
    drop_query_strings()
    drop_query_strings()  # installing twice logs once
    logger = logging.getLogger(ACCESS_LOGGER)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        # The record exactly as uvicorn's access logger makes it.
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", CONFIRM, "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        '127.0.0.1:5000 - "POST /twilio/callback/confirm?… HTTP/1.1" 200',
        '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200',
    ]
    assert "41100001" not in caplog.text
