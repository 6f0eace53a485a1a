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
from verification.views import VisibleRecord, visible_records

# What a verification shows of a record: whether it is in the pipeline, and its letter where the
# caller's view shows `letter_id`.
IN_PIPELINE_FIELDS = ("in_pipeline",)
WITH_LETTER_FIELDS = (*IN_PIPELINE_FIELDS, "letter_id")


def _lookup(
    request: VerificationRequest, verdict: LetterVerdict | None = None
) -> tuple[Select[tuple[Any, ...]], dict[str, object]]:
    """The query for an identifier the person presents (a letter, its credential, a document).
    It needs no field of the caller's view: the officer holds the number, and the answer says
    only whether the pipeline holds it. Unlike a birth day or a family name, such a number
    cannot be read back one guess at a time (docs/architecture.md, "Verification answers
    within the caller's view")."""
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


def _presented_letter(request: VerificationRequest, verdict: LetterVerdict | None) -> str | None:
    """The id of the letter the officer holds: typed in, or read from a genuine credential."""
    if verdict is not None:
        return verdict.letter_id  # None unless genuine
    return request.letter_id.strip() if request.letter_id is not None else None


def _matched_by(request: VerificationRequest) -> str:
    if request.credential is not None:
        return "credential"
    if request.letter_id is not None:
        return "letter_id"
    return "document" if request.document is not None else "person"


@dataclass(frozen=True, slots=True)
class Matches:
    """What a request names: the reachable records (by id), the credential's verdict if one
    was scanned, and the status of the letter asked about if Sanad issued it."""

    records: dict[str, VisibleRecord]
    verdict: LetterVerdict | None
    issued_letter: LetterReference | None
    # a claim by name that fits more than one person (or none surely): no guess is made
    ambiguous: bool = False

    @property
    def letter_vouches(self) -> bool:
        """Whether the letter presented, scanned or typed in, may vouch for its holder: a
        revoked or expired one may not, whichever way the officer read it (typing in the id
        of a stolen, revoked letter must not answer otherwise than scanning its code)."""
        if self.verdict is not None and self.verdict.status != "valid":
            return False
        return self.issued_letter is None or self.issued_letter.status == "valid"


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
        answer = await match_person(driver, access, request.person, now)
        return Matches(answer.records, None, None, answer.ambiguous)
    verdict = None
    if request.credential is not None:
        verdict = await check_credential(request.credential)
    lookup, params = _lookup(request, verdict)
    agency_id = access.principal.agency_id
    reachable = await repository.reachable_records(driver, agency_id, now, lookup, params)
    records = visible_records(access, reachable)
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
    # the letter the officer holds may be named back whatever the view: it was presented
    presented = _presented_letter(request, verdict)
    for visible in records.values():
        record = visible.record
        shown = visible.shows_letter or (presented is not None and record.letter_id == presented)
        named = bool(record.letter_id) and shown and not ambiguous
        audit.disclose(
            list_id=record.list_id,
            record_id=record.record_id,
            record_key=record.record_key,
            owner_agency_id=record.owner_agency_id,
            fields=WITH_LETTER_FIELDS if named else IN_PIPELINE_FIELDS,
        )
        if named and record.letter_id:
            letters[record.letter_id] = LetterReference(
                letter_id=record.letter_id, status="withdrawn" if record.withdrawn else "valid"
            )
    active = any(not visible.record.withdrawn for visible in records.values())
    issued = matches.issued_letter
    if issued is not None and records and not ambiguous:
        letters[issued.letter_id] = issued  # the letter asked about: its own status wins
    if verdict is not None:
        audit.reason = None if verdict.genuine else f"credential-{verdict.status}"
    in_pipeline = active and not ambiguous and matches.letter_vouches
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
