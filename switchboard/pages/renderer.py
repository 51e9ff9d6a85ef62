"""The staff pages' HTML: one Jinja2 environment (autoescaped), the page language, and the
pieces every page shares (the language links, the menu, the sign-out form).

The language is `?lang=nn|nb|en` when a link asks for one (then remembered in the
`switchboard_lang` cookie), else that cookie, else the municipality's default language. Pages
are never cached: they show personal data, and the back button after sign-out must not bring
them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from ivr.config import LANGUAGES, Language
from switchboard.access import Principal
from switchboard.deps import Services
from switchboard.pages.console_wording import WORDING as CONSOLE_WORDING
from switchboard.pages.directory_wording import WORDING as DIRECTORY_WORDING
from switchboard.pages.status_wording import WORDING as STATUS_WORDING
from switchboard.pages.wording import (
    ACTION_LABELS,
    KIND_LABELS,
    LANGUAGE_NAMES,
    REASON_LABELS,
    ROLE_LABELS,
    WORDING,
)
from switchboard.staff_sessions import StaffSession

# The wording of every page: the shared words (switchboard/pages/wording.py), then each
# feature's own module of words, one dict per language with the same keys in each. A feature
# adds its module here; a key may be defined once only (`_merged` refuses a clash).
WORDING_PARTS: tuple[Mapping[Language, Mapping[str, str]], ...] = (
    WORDING,
    CONSOLE_WORDING,
    DIRECTORY_WORDING,
    STATUS_WORDING,
)


def _merged(language: Language) -> dict[str, str]:
    merged: dict[str, str] = {}
    for part in WORDING_PARTS:
        clash = merged.keys() & part[language].keys()
        if clash:
            raise RuntimeError(f"wording keys defined twice: {sorted(clash)}")
        merged.update(part[language])
    return merged


PAGE_WORDING: dict[Language, dict[str, str]] = {
    language: _merged(language) for language in LANGUAGES
}

LANG_COOKIE = "switchboard_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
STATIC_DIR = Path(__file__).parent / "static"
# Query parameters a language link leaves out: a citizen's number is never written into a
# page's links.
NOT_IN_LINKS = frozenset({"lang", "number"})

_ENV = Environment(
    loader=PackageLoader("switchboard.pages", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    code: str = ""
    current: bool = False


def _asked_language(request: Request) -> Language | None:
    asked = request.query_params.get("lang", "")
    return next((language for language in LANGUAGES if language == asked), None)


def page_language(request: Request, services: Services) -> Language:
    """The language to show this request's page in."""
    asked = _asked_language(request)
    if asked is not None:
        return asked
    remembered = request.cookies.get(LANG_COOKIE, "")
    for language in LANGUAGES:
        if language == remembered:
            return language
    return services.ctx.config.municipality.default_language


def local_zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.ctx.config.municipality.timezone)


def language_links(request: Request, current: Language) -> list[Link]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in NOT_IN_LINKS]
    return [
        Link(
            href=request.url.path + "?" + urlencode([*kept, ("lang", language)]),
            label=LANGUAGE_NAMES[language],
            code=language,
            current=language == current,
        )
        for language in LANGUAGES
    ]


def menu(who: Principal | None, wording: dict[str, str]) -> list[Link]:
    """The pages this role may open."""
    if who is None:
        return []
    links = [Link("/agent/", wording["home"])]
    if who.role in ("agent", "manager", "department_lead"):
        links.append(Link("/reports/returns", wording["returns_link"]))
    if who.role == "manager":
        links.append(Link("/reports/audit", wording["audit_link"]))
    links.append(Link("/docs", wording["api_docs_link"]))
    return links


def render(
    request: Request,
    services: Services,
    template: str,
    *,
    title_key: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    who: Principal | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language, for `who`: the principal the route's dependency let
    through, else the person whose session the request's dependencies found
    (`request.state.staff_session`, which also gives the sign-out form its CSRF token)."""
    language = page_language(request, services)
    wording = PAGE_WORDING[language]
    session: StaffSession | None = getattr(request.state, "staff_session", None)
    if who is None and session is not None:
        who = session.principal
    zone = local_zone(services)

    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime("%d.%m.%Y %H:%M")

    def department_name(department_id: str | None) -> str:
        for department in services.ctx.config.departments:
            if department.id == department_id:
                return department.name.get(language)
        return department_id or ""

    html = _ENV.get_template(template).render(
        lang=language,
        t=wording,
        title=wording[title_key],
        municipality=services.ctx.config.municipality.name,
        languages=language_links(request, language),
        session=session,
        who=who,
        menu=menu(who, wording),
        path=request.url.path,
        roles=ROLE_LABELS[language],
        actions=ACTION_LABELS[language],
        kinds=KIND_LABELS[language],
        reasons=REASON_LABELS[language],
        local=local,
        department_name=department_name,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.headers["cache-control"] = "no-store"
    if _asked_language(request) is not None:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            secure=services.settings.env == "production",
            httponly=True,
            samesite="lax",
        )
    return response


def problem_page(
    request: Request,
    services: Services,
    *,
    status: int,
    title_key: str,
    message_key: str,
    headers: dict[str, str] | None = None,
    back: tuple[str, str] = ("/agent/", "to_home"),
    **values: object,
) -> HTMLResponse:
    """A page that says what went wrong, in the page language, with a way on."""
    return render(
        request,
        services,
        "problem.html",
        title_key=title_key,
        status=status,
        headers=headers,
        message_key=message_key,
        values=values,
        back_href=back[0],
        back_key=back[1],
    )
