"""Answer a checkpoint's question with the least the caller needs: in the pipeline or not, and
the letter reference with its validity. Every matched record is disclosed in the audit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.context import AuditContext
from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES
from exchange.keys import document_key, name_key
from i18n import text
from letters.checking import LetterVerdict, check_credential
from letters.lookup import credential_result, issued_letter_reference
from matching.dates import parse_birth_date
from problems import ProblemError
from schemas.types import utcnow
from schemas.verification import LetterReference, VerificationRequest, VerificationResult
from verification import repository
from verification.repository import ReachableRecord

DISCLOSED_FIELDS = ("in_pipeline", "letter_id")


def _lookup(
    request: VerificationRequest, verdict: LetterVerdict | None = None
) -> tuple[Select[tuple[Any, ...]], dict[str, object]]:
    if verdict is not None:
        # only a genuine credential leads to records; "" names no letter
        return repository.BY_LETTER, {"letter_id": verdict.letter_id or ""}
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
    if request.credential is not None:
        return "credential"
    if request.letter_id is not None:
        return "letter_id"
    return "document" if request.document is not None else "person"


def _purpose_allows(access: AccessContext, record: ReachableRecord) -> bool:
    """Owners by their agency's own purposes; recipients by their agreement's purposes."""
    if record.agreement_purposes is None:
        return access.purpose in OWNER_PURPOSES[access.principal.agency_kind]
    return access.purpose is not None and access.purpose.value in record.agreement_purposes


async def matching_records(
    connection: AsyncConnection, access: AccessContext, request: VerificationRequest
) -> tuple[dict[str, ReachableRecord], LetterVerdict | None]:
    """Pipeline records the request names that the caller may search for this purpose, and
    the verdict on the credential if one was given. Encounter reports link through this."""
    verdict = None
    if request.credential is not None:
        verdict = await check_credential(connection, request.credential)
    lookup, params = _lookup(request, verdict)
    agency_id, now = access.principal.agency_id, utcnow()
    reachable = await repository.reachable_records(connection, agency_id, now, lookup, params)
    letter_id = params.get("letter_id") if lookup is repository.BY_LETTER else None
    if letter_id:  # also the records a letter Sanad issued names
        issued = repository.BY_ISSUED_LETTER
        reachable += await repository.reachable_records(
            connection, agency_id, now, issued, {"letter_id": letter_id}
        )
    return {r.record_id: r for r in reachable if _purpose_allows(access, r)}, verdict


async def verify(
    connection: AsyncConnection,
    access: AccessContext,
    audit: AuditContext,
    request: VerificationRequest,
    language: str | None = None,
) -> VerificationResult:
    records, verdict = await matching_records(connection, access, request)
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
            letters[record.letter_id] = LetterReference(
                letter_id=record.letter_id, status="withdrawn" if record.withdrawn else "valid"
            )
    active = any(not record.withdrawn for record in records.values())
    letter_id = verdict.letter_id if verdict else request.letter_id
    issued = await issued_letter_reference(connection, letter_id.strip()) if letter_id else None
    if issued is not None and records and not ambiguous:
        letters[issued.letter_id] = issued  # a letter Sanad issued: its own status wins
    if verdict is not None:
        active = active and verdict.status == "valid"
        audit.reason = None if verdict.genuine else f"credential-{verdict.status}"
    in_pipeline = active and not ambiguous
    situation = "ambiguous" if ambiguous else "in_pipeline" if in_pipeline else "not_in_pipeline"
    return VerificationResult(
        verification_id=str(uuid.uuid4()),
        checked_at=utcnow(),
        matched_by=matched_by,  # type: ignore[arg-type]
        in_pipeline=in_pipeline,
        ambiguous=ambiguous,
        letters=sorted(letters.values(), key=lambda letter: letter.letter_id),
        status_text=text(f"verification.{situation}", language) if language else None,
        credential=credential_result(verdict, language) if verdict else None,
    )
