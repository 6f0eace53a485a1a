"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ServicesDep
from api.responses import problem_responses
from problems import ProblemError

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses=problem_responses(503))
async def readyz(services: ServicesDep) -> JSONResponse:
    reasons: list[str] = []
    try:
        async with services.async_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        reasons.append("database")
    behind = services.transparency.behind_reason()
    if behind is not None:
        reasons.append("audit-log-behind")
    if reasons:
        detail = ", ".join(reasons) + (f": {behind}" if behind else "")
        raise ProblemError("not-ready", detail, extensions={"reasons": reasons})
    return JSONResponse({"status": "ready", "reasons": []})
