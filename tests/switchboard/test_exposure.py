"""The local URLs `serve` shows and probes for what it listens on."""

from __future__ import annotations

import pytest

from switchboard.exposure import local_url


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000"),  # noqa: S104
        ("::", "http://127.0.0.1:8000"),
        ("", "http://127.0.0.1:8000"),
        ("10.0.0.5", "http://10.0.0.5:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_local_url_reaches_what_serve_listens_on(host: str, url: str) -> None:
    assert local_url(host, 8000) == url
