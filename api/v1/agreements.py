"""Sharing-agreement routes: the list owner gives, both sides list, the owner terminates."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Access, AuditDep, SessionDep
from api.responses import problem_responses
from exchange import service
from schemas.lists import SharingAgreementCreate, SharingAgreementPage, SharingAgreementPublic

router = APIRouter(prefix="/agreements", tags=["agreements"])


@router.post(
    "",
    name="create_agreement",
    status_code=201,
    response_model=SharingAgreementPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_agreement(
    body: SharingAgreementCreate, access: Access, session: SessionDep, audit: AuditDep
) -> SharingAgreementPublic:
    return await service.create_agreement(session, access, audit, body)


@router.get(
    "",
    name="list_agreements",
    response_model=SharingAgreementPage,
    responses=problem_responses(401, 403, 422),
)
async def list_agreements(
    access: Access, session: SessionDep, list_id: str | None = None
) -> SharingAgreementPage:
    return await service.list_agreements(session, access, list_id)


@router.post(
    "/{agreement_id}/termination",
    name="terminate_agreement",
    response_model=SharingAgreementPublic,
    responses=problem_responses(401, 403, 404, 409),
)
async def terminate_agreement(
    agreement_id: str, access: Access, session: SessionDep, audit: AuditDep
) -> SharingAgreementPublic:
    return await service.terminate_agreement(session, access, audit, agreement_id)
