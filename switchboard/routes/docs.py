"""The API's documentation: `/openapi.json` and a Swagger UI page at `/docs`, served offline.

The page's scripts and styles come from the service itself (the Swagger UI files shipped in the
`fastapi-offline` package), never from a CDN, so the page works on a closed network, and it
needs no inline script, so the edge's Content-Security-Policy (`script-src 'self'`) holds.

In production both need credentials: an API token, as a Bearer token or as the password of
HTTP Basic. A browser asked with `WWW-Authenticate: Basic` prompts for it once and sends it with
the page's own requests, the specification and "Try it out" included. In development both are
open. `/glossary` stays public: its definitions are public information.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from switchboard.deps import docs_reader

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""

router = APIRouter(include_in_schema=False, dependencies=[Depends(docs_reader)])


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    app: FastAPI = request.app
    schema: dict[str, Any] = app.openapi()
    return JSONResponse(schema)


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=f"{request.app.title}: API", assets=ASSETS_URL))


@router.get("/docs/init.js")
def docs_init() -> Response:
    return Response(INIT, media_type="text/javascript")


def list_departments(schema: dict[str, Any], departments: list[str]) -> dict[str, Any]:
    """Name the municipality's department ids as the only values a request may give.

    The ids come from the municipality file, so the models cannot list them; without the list
    the document would allow any string where the routes refuse all but these.
    """
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "department":
                    parameter["schema"] = {
                        "anyOf": [{"type": "string", "enum": departments}, {"type": "null"}]
                    }
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        field = component.get("properties", {}).get("department")
        if name.endswith("Request") and field and field.get("type") == "string":
            field["enum"] = departments
    return schema


def mount_docs(app: FastAPI, *, departments: list[str]) -> None:
    """The documentation's routes and its static files (the assets are public library files)."""
    generate = app.openapi

    def openapi_with_departments() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = list_departments(generate(), departments)
        return app.openapi_schema

    app.openapi = openapi_with_departments  # type: ignore[method-assign]
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
