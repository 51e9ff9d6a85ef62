"""The API docs page renders in a real browser with no network beyond the service itself.

Headless Chromium (Debian's, installed by `.ci/run`) opens `/docs` on a live server; the page
must build the operation list from the service's own scripts, under the edge's
Content-Security-Policy. A blocked script or a CDN link leaves the page blank.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.fixtures.localhost import serving
from tests.switchboard.apphost import make_app, make_settings


@pytest.fixture
def live_docs(tmp_path, redis_url) -> Iterator[str]:
    with serving(make_app(make_settings(tmp_path, redis_url))) as port:
        yield f"http://127.0.0.1:{port}/docs"


def test_the_docs_page_renders_offline_in_chromium(live_docs, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: apt-get install chromium (.ci/run does)"
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000", "--dump-dom", live_docs,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dom = result.stdout
    # Swagger UI drew the operations from /openapi.json.
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "/api/stats" in dom
    assert "/api/calls/{call_sid}/transfer" in dom
