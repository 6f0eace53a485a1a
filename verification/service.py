"""Answer a checkpoint's question with the least the caller needs: in the pipeline or not, and
the letter reference with its validity. Every matched record is disclosed in the audit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from audit.context import AuditContext
from auth.access import AccessContext
from auth.policy import OWNER_PURPOSES
from database.prepared import DriverChannel
from exchange.keys import document_key
from i18n import text
from letters.checking import LetterVerdict
from letters.lookup import credential_result
from letters.service import letter_status
from schemas.letters import ProtectionLetter
from schemas.types import utcnow
from schemas.verification import LetterReference, VerificationRequest, VerificationResult
from verification import repository
from verification.person import match_person
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
    raise AssertionError("a claim by name is scored, not looked up: verification.person")


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


@dataclass(frozen=True, slots=True)
class Matches:
    """What a request names: the reachable records (by id), the credential's verdict if one
    was scanned, and the status of the letter asked about if Sanad issued it."""

    records: dict[str, ReachableRecord]
    verdict: LetterVerdict | None
    issued_letter: LetterReference | None
    # a claim by name that fits more than one person (or none surely): no guess is made
    ambiguous: bool = False


# checks a scanned credential; the caller decides which database handle it uses
CredentialChecker = Callable[[str], Awaitable[LetterVerdict]]


async def matching_records(
    driver: DriverChannel,
    access: AccessContext,
    request: VerificationRequest,
    check_credential: CredentialChecker,
) -> Matches:
    """Pipeline records the request names that the caller may search for this purpose.
    Encounter reports link through this too."""
    now = utcnow()
    if request.person is not None:

        def allowed(record: ReachableRecord) -> bool:
            return _purpose_allows(access, record)

        answer = await match_person(driver, access, request.person, now, allowed)
        return Matches(answer.records, None, None, answer.ambiguous)
    verdict = None
    if request.credential is not None:
        verdict = await check_credential(request.credential)
    lookup, params = _lookup(request, verdict)
    agency_id = access.principal.agency_id
    reachable = await repository.reachable_records(driver, agency_id, now, lookup, params)
    records = {r.record_id: r for r in reachable if _purpose_allows(access, r)}
    return Matches(records, verdict, _issued_letter(reachable, params, now))


def _issued_letter(
    reachable: list[ReachableRecord], params: dict[str, object], now: dt.datetime
) -> LetterReference | None:
    """The status of the letter asked about, if Sanad issued it (its dates ride on each row)."""
    if not reachable or not reachable[0].extra or reachable[0].extra[0] is None:
        return None
    expires_at, revoked_at = reachable[0].extra
    letter = ProtectionLetter.model_construct(expires_at=expires_at, revoked_at=revoked_at)
    return LetterReference(letter_id=str(params["letter_id"]), status=letter_status(letter, now))


async def verify(
    driver: DriverChannel,
    access: AccessContext,
    audit: AuditContext,
    request: VerificationRequest,
    check_credential: CredentialChecker,
    language: str | None = None,
) -> VerificationResult:
    matches = await matching_records(driver, access, request, check_credential)
    records, verdict = matches.records, matches.verdict
    matched_by = _matched_by(request)
    # Several different people answering to one name must not be resolved by a guess:
    # the officer is told to verify by letter or document instead.
    ambiguous = matches.ambiguous
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
    issued = matches.issued_letter
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
        matched_by=matched_by,
        in_pipeline=in_pipeline,
        ambiguous=ambiguous,
        letters=sorted(letters.values(), key=lambda letter: letter.letter_id),
        status_text=text(f"verification.{situation}", language) if language else None,
        credential=credential_result(verdict, language) if verdict else None,
    )
