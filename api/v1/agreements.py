"""Sharing-agreement routes: the list owner gives, both sides list, the owner terminates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Access, AuditDep, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from exchange import service
from schemas.lists import SharingAgreementCreate, SharingAgreementPage, SharingAgreementPublic
from schemas.records import PRINTABLE_PATTERN

router = APIRouter(prefix="/agreements", tags=["agreements"], route_class=ProtocolRoute)


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
    access: Access,
    session: SessionDep,
    list_id: Annotated[str | None, Query(max_length=36, pattern=PRINTABLE_PATTERN)] = None,
) -> SharingAgreementPage:
    return await service.list_agreements(session, access, list_id)


@router.post(
    "/{agreement_id}/termination",
    name="terminate_agreement",
    response_model=SharingAgreementPublic,
    responses=problem_responses(401, 403, 404, 409),
)
async def terminate_agreement(
    agreement_id: Annotated[str, Path(max_length=36, pattern=PRINTABLE_PATTERN)],
    access: Access,
    session: SessionDep,
    audit: AuditDep,
) -> SharingAgreementPublic:
    return await service.terminate_agreement(session, access, audit, agreement_id)
