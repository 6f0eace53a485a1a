"""Checkpoint verification route: personal data travels in the body, never in the URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from api.deps import Access, audit_of
from api.lean_route import LeanRoute
from api.responses import problem_responses
from api.services import services_of
from i18n import negotiate
from letters.checking import credential_checker
from schemas.verification import VerificationRequest, VerificationResult
from verification import service

# full paths: `include_v1` puts these routes on the app itself
router = APIRouter(prefix="/v1", tags=["verification"], route_class=LeanRoute)


@router.post(
    "/verifications",
    name="create_verification",
    response_model=VerificationResult,
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 422),
)
async def create_verification(
    body: VerificationRequest,
    access: Access,
    request: Request,
    accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> VerificationResult:
    # services and audit straight from the scope, and `LeanRoute` calls this without
    # FastAPI's dependency solving: the checkpoint path is the hottest (docs/performance.md)
    services, audit = services_of(request.scope), audit_of(request.scope)
    language = negotiate(accept_language) if accept_language else None
    check = credential_checker(services.async_engine)
    return await service.verify(services.driver, access, audit, body, check, language)
