"""Answer a checkpoint's question with the least the caller needs: in the pipeline or not, and
the letter reference with its validity. Every matched record is disclosed in the audit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy import Select

from audit.context import AuditContext
from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES
from exchange.keys import document_key, name_key
from matching.dates import parse_birth_date
from problems import ProblemError
from schemas.types import utcnow
from schemas.verification import LetterReference, VerificationRequest, VerificationResult
from verification import repository
from verification.repository import ReachableRecord

DISCLOSED_FIELDS = ("in_pipeline", "letter_id")


def _lookup(request: VerificationRequest) -> tuple[Select[tuple[Any, ...]], dict[str, object]]:
    if request.letter_id is not None:
        return repository.BY_LETTER, {"letter_id": request.letter_id.strip()}
    if request.document is not None:
        doc_type = request.document.type.value
        number = document_key(doc_type, request.document.number)
        return repository.BY_DOCUMENT, {"doc_type": doc_type, "number": number}
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
    earliest, latest = born.evidence_range
    return repository.BY_PERSON, {
        "given_key": name_key(person.given_name),
        "father_key": name_key(person.father_name),
        "earliest": earliest,
        "latest": latest,
    }


def _matched_by(request: VerificationRequest) -> str:
    if request.letter_id is not None:
        return "letter_id"
    return "document" if request.document is not None else "person"


def _purpose_allows(access: AccessContext, record: ReachableRecord) -> bool:
    """Owners by their agency's own purposes; recipients by their agreement's purposes."""
    if record.agreement_purposes is None:
        return access.purpose in OWNER_PURPOSES[access.principal.agency_kind]
    return access.purpose is not None and access.purpose.value in record.agreement_purposes


async def verify(
    connection: AsyncConnection,
    access: AccessContext,
    audit: AuditContext,
    request: VerificationRequest,
) -> VerificationResult:
    lookup, params = _lookup(request)
    reachable = await repository.reachable_records(
        connection, access.principal.agency_id, utcnow(), lookup, params
    )
    records = {r.record_id: r for r in reachable if _purpose_allows(access, r)}
    matched_by = _matched_by(request)
    # Several different people answering to one name must not be resolved by a guess:
    # the officer is told to verify by letter or document instead.
    ambiguous = matched_by == "person" and len(records) > 1
    letters: dict[str, LetterReference] = {}
    for record in records.values():
        audit.disclose(
            list_id=record.list_id,
            record_id=record.record_id,
            record_key=record.record_key,
            owner_agency_id=record.owner_agency_id,
            fields=DISCLOSED_FIELDS,
        )
        if record.letter_id and not ambiguous:
            status = "withdrawn" if record.withdrawn else "valid"
            letters[record.letter_id] = LetterReference(letter_id=record.letter_id, status=status)
    active = any(not record.withdrawn for record in records.values())
    return VerificationResult(
        verification_id=str(uuid.uuid4()),
        checked_at=utcnow(),
        matched_by=matched_by,  # type: ignore[arg-type]
        in_pipeline=active and not ambiguous,
        ambiguous=ambiguous,
        letters=sorted(letters.values(), key=lambda letter: letter.letter_id),
    )
