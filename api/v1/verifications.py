"""Checkpoint verification route: personal data travels in the body, never in the URL."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Access, AuditDep, ConnectionDep
from api.responses import problem_responses
from schemas.verification import VerificationRequest, VerificationResult
from verification import service

router = APIRouter(tags=["verification"])


@router.post(
    "/verifications",
    name="create_verification",
    response_model=VerificationResult,
    responses=problem_responses(401, 403, 422),
)
async def create_verification(
    body: VerificationRequest, access: Access, connection: ConnectionDep, audit: AuditDep
) -> VerificationResult:
    return await service.verify(connection, access, audit, body)
