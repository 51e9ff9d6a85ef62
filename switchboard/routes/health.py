"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from switchboard.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up. Says nothing about Redis or the database."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Redis and the database both answer. 503 names what is down."""
    checks: dict[str, str] = {}
    try:
        services.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    checks["event_breaker"] = services.events.state
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
