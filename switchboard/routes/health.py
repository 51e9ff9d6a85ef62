"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from switchboard.db import write_refusal
from switchboard.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up. Says nothing about Redis or the database."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Redis answers and the database takes writes (the ingest and the API write to it). 503
    names what is down or read-only.

    A spool backlog does not make the instance unready: only this instance can replay it.
    """
    checks: dict[str, str] = {}
    try:
        services.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    try:
        refusal = write_refusal(services.engine)
        checks["database"] = f"read-only: {refusal}" if refusal else "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    checks["event_breaker"] = services.events.state
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
