"""Checkpoint verification route: personal data travels in the body, never in the URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from api.deps import Access, AuditDep, ConnectionDep
from api.responses import problem_responses
from i18n import negotiate
from schemas.verification import VerificationRequest, VerificationResult
from verification import service

router = APIRouter(tags=["verification"])


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
    connection: ConnectionDep,
    audit: AuditDep,
    accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> VerificationResult:
    language = negotiate(accept_language) if accept_language else None
    return await service.verify(connection, access, audit, body, language)
