"""Encounter reports from Pakistan's officials, status claims by the agencies a record is shared
with, and a pipeline record's status as its owner sees it (each agency's claims, their
history, the encounters)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Access, AuditDep, ServicesDep, SessionDep
from api.language import LanguageDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from encounters import claims, service
from schemas.encounters import (
    EncounterCreate,
    EncounterPublic,
    RecordStatus,
    StatusClaimCreate,
    StatusClaimPublic,
)

router = APIRouter(tags=["encounters"], route_class=ProtocolRoute)


@router.post(
    "/encounters",
    name="report_encounter",
    status_code=201,
    response_model=EncounterPublic,
    responses=problem_responses(401, 403, 422),
)
async def report_encounter(
    body: EncounterCreate,
    access: Access,
    session: SessionDep,
    services: ServicesDep,
    audit: AuditDep,
    language: LanguageDep,
) -> EncounterPublic:
    return await service.report_encounter(session, services.driver, access, audit, body, language)


@router.get(
    "/lists/{list_id}/records/{record_id}/status",
    name="record_status",
    response_model=RecordStatus,
    responses=problem_responses(401, 403, 404),
)
async def record_status(
    list_id: str,
    record_id: str,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    language: LanguageDep,
) -> RecordStatus:
    return await service.record_status(session, access, audit, list_id, record_id, language)


@router.post(
    "/lists/{list_id}/records/{record_id}/status-claims",
    name="claim_status",
    status_code=201,
    response_model=StatusClaimPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def claim_status(
    list_id: str,
    record_id: str,
    body: StatusClaimCreate,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    language: LanguageDep,
) -> StatusClaimPublic:
    """State the caller's agency's status of a person whose record is shared with it: UNHCR
    its registration, Pakistan the person's documents, detention or departure. Each agency's
    claims are its own; the record's owner sees them under `.../status` and in its feed."""
    return await claims.claim_status(session, access, audit, list_id, record_id, body, language)
