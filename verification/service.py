"""Answer a checkpoint's question with the least the caller needs: in the pipeline or not, and
the letter reference with its validity. Every matched record is disclosed in the audit."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES
from exchange.keys import document_key, name_key
from matching.dates import parse_birth_date
from problems import ProblemError
from schemas.lists import ExchangeList
from schemas.records import Record
from schemas.types import utcnow
from schemas.verification import LetterReference, VerificationRequest, VerificationResult
from verification import repository

DISCLOSED_FIELDS = ("in_pipeline", "letter_id")


async def searchable_lists(session: AsyncSession, access: AccessContext) -> list[ExchangeList]:
    """Pipeline lists the caller owns, plus those shared with it for this purpose of use."""
    principal, purpose = access.principal, access.purpose
    lists: dict[str, ExchangeList] = {}
    if purpose in OWNER_PURPOSES[principal.agency_kind]:
        for owned in await repository.pipeline_lists_of_owner(session, principal.agency_id):
            lists[owned.id] = owned
    for agreement, shared in await repository.live_pipeline_agreements(
        session, principal.agency_id, utcnow()
    ):
        if purpose in agreement.purposes:
            lists[shared.id] = shared
    return list(lists.values())


async def _candidates(
    session: AsyncSession, list_ids: list[str], request: VerificationRequest
) -> list[Record]:
    if request.letter_id is not None:
        return await repository.records_by_letter(session, list_ids, request.letter_id.strip())
    if request.document is not None:
        doc = request.document
        number = document_key(doc.type.value, doc.number)
        return await repository.records_by_document(session, list_ids, doc.type.value, number)
    person = request.person
    assert person is not None
    try:
        born = parse_birth_date(person.dob, person.dob_calendar)
    except ValueError as exc:
        raise ProblemError(
            "validation-failed",
            f"person.dob: {exc}",
            invalid_params=[{"name": "person.dob", "reason": str(exc)}],
        ) from None
    low, high = born.evidence_range
    return await repository.records_by_person(
        session, list_ids, name_key(person.given_name), name_key(person.father_name), low, high
    )


def _matched_by(request: VerificationRequest) -> str:
    if request.letter_id is not None:
        return "letter_id"
    return "document" if request.document is not None else "person"


async def verify(
    session: AsyncSession, access: AccessContext, audit: AuditContext, request: VerificationRequest
) -> VerificationResult:
    lists = {lst.id: lst for lst in await searchable_lists(session, access)}
    records = await _candidates(session, list(lists), request) if lists else []
    # Several different people answering to one name must not be resolved by a guess:
    # the officer is told to verify by letter or document instead.
    ambiguous = _matched_by(request) == "person" and len(records) > 1
    letters: dict[str, LetterReference] = {}
    for record in records:
        audit.disclose(
            list_id=record.list_id,
            record_id=record.id,
            record_key=record.record_key,
            owner_agency_id=lists[record.list_id].owner_agency_id,
            fields=DISCLOSED_FIELDS,
        )
        if record.letter_id and not ambiguous:
            status = "withdrawn" if record.withdrawn_at else "valid"
            letters[record.letter_id] = LetterReference(letter_id=record.letter_id, status=status)
    active = any(record.withdrawn_at is None for record in records)
    return VerificationResult(
        verification_id=str(uuid.uuid4()),
        checked_at=utcnow(),
        matched_by=_matched_by(request),  # type: ignore[arg-type]
        in_pipeline=active and not ambiguous,
        ambiguous=ambiguous,
        letters=sorted(letters.values(), key=lambda letter: letter.letter_id),
    )
