"""The report pages over HTTP: who may filter what, and what the CSV download looks like."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pages.site import OTHER_DEPARTMENT, Site, add_return, live_site, sign_in
from tests.switchboard.apphost import LEAD_DEPARTMENT, auth


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        add_return(live.engine, "own-1", department=LEAD_DEPARTMENT, at=hour_ago)
        add_return(live.engine, "other-1", department=OTHER_DEPARTMENT, at=hour_ago)
        add_return(
            live.engine, "old-1", department=OTHER_DEPARTMENT, at=hour_ago - timedelta(days=3)
        )
        yield live


def _rows(html: str) -> int:
    return html.count("<tr>") - 1  # less the header row


def test_a_manager_may_narrow_the_returns_to_one_department_and_period(site: Site) -> None:
    with site.client() as client:
        sign_in(client, "mona")
        assert _rows(client.get("/reports/returns").text) == 2
        assert _rows(client.get("/reports/returns?days=7").text) == 3
        one = client.get(f"/reports/returns?department={OTHER_DEPARTMENT}&days=7")
        assert _rows(one.text) == 2
        assert "barnehage og skule" in one.text
        assert "Returnerte samtalar i dag: 2" in client.get("/agent/").text


def test_an_api_token_opens_the_pages_without_a_sign_out_form(site: Site) -> None:
    with site.client() as client:
        page = client.get("/reports/returns", headers=auth("department_lead"))
    assert page.status_code == 200
    assert _rows(page.text) == 1
    assert "/agent/logout" not in page.text


def test_the_audit_csv_is_a_download(site: Site) -> None:
    with site.client() as client:
        sign_in(client, "mona")
        export = client.get("/reports/audit.csv?actor=mona")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = export.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="audit-')
    lines = export.text.splitlines()
    assert lines[0] == "at,actor,action,subject,detail"
    assert len(lines) == 2
    assert ",mona,sign_in," in lines[1]


def test_only_managers_read_the_audit_log(site: Site) -> None:
    for username in ("kari", "lars", "otto"):
        with site.client() as client:
            sign_in(client, username)
            assert client.get("/reports/audit").status_code == 403
            assert client.get("/reports/audit.csv").status_code == 403
    with site.client() as client:
        sign_in(client, "otto")
        assert client.get("/reports/returns").status_code == 403
