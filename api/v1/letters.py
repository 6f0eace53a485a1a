"""Protection-letter routes: issue (and re-issue), read, render as PDF, revoke."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import Access, AuditDep, SessionDep
from api.language import LanguageDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from letters import service
from letters.pdf import FontsMissingError, render_letter_pdf
from problems import ProblemError
from schemas.letters import LetterCreate, LetterPublic, LetterRevocation

router = APIRouter(prefix="/letters", tags=["letters"], route_class=ProtocolRoute)
log = structlog.get_logger("sanad.letters")


@router.post(
    "",
    name="issue_letter",
    status_code=201,
    response_model=LetterPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def issue_letter(
    body: LetterCreate, access: Access, session: SessionDep, audit: AuditDep, language: LanguageDep
) -> LetterPublic:
    return await service.issue_letter(session, access, audit, body, language)


@router.get(
    "/{letter_id}",
    name="get_letter",
    response_model=LetterPublic,
    responses=problem_responses(401, 403, 404),
)
async def get_letter(
    letter_id: str, access: Access, session: SessionDep, audit: AuditDep, language: LanguageDep
) -> LetterPublic:
    return await service.get_letter(session, access, audit, letter_id, language)


@router.get(
    "/{letter_id}/pdf",
    name="get_letter_pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The letter, one A4 page"},
        **problem_responses(401, 403, 404),
    },
)
async def get_letter_pdf(
    letter_id: str, access: Access, session: SessionDep, audit: AuditDep
) -> Response:
    letter, mission = await service.letter_for_pdf(session, access, audit, letter_id)
    try:
        pdf = await asyncio.to_thread(render_letter_pdf, letter.credential, mission)
    except FontsMissingError as exc:
        log.error("letter_fonts_missing", letter_id=letter.id, detail=str(exc))
        raise ProblemError("pdf-unavailable", "the letter fonts are not installed here") from exc
    headers = {"Content-Disposition": f'attachment; filename="{letter.id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(
    "/{letter_id}/revocation",
    name="revoke_letter",
    response_model=LetterPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def revoke_letter(
    letter_id: str,
    body: LetterRevocation,
    access: Access,
    session: SessionDep,
    audit: AuditDep,
    language: LanguageDep,
) -> LetterPublic:
    return await service.revoke_letter(session, access, audit, letter_id, body, language)
