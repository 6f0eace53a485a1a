"""Status claims an agency makes of a person it was shared the record of (UNHCR's registration,
Pakistan's documents, detention and departure), kept as that agency's own and never
overwritten by another's; the record's owner sees each agency's newest claim and the history
(`encounters.service.record_status`) and hears of each claim through the change feed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from auth.policy import CLAIMABLE_STATUSES
from changes.service import Change, publish
from encounters import repository
from exchange import repository as records
from exchange.service import load_view
from i18n import text
from problems import ProblemError, invalid_field
from schemas.encounters import (
    EncounterEvent,
    StatusClaim,
    StatusClaimCreate,
    StatusClaimPublic,
)

_ENCOUNTER_EVENTS = frozenset(EncounterEvent.__args__)  # type: ignore[attr-defined]


def status_text(status: str, language: str) -> str:
    """What the status means, in `language` (an encounter's event reads as the encounter's)."""
    return text(f"{'encounter' if status in _ENCOUNTER_EVENTS else 'status'}.{status}", language)


def claim_public(claim: StatusClaim, language: str) -> StatusClaimPublic:
    return StatusClaimPublic(
        agency_id=claim.agency_id,
        status=claim.status,
        status_text=status_text(claim.status, language),
        effective_at=claim.effective_at,
        recorded_at=claim.recorded_at,
        encounter_id=claim.encounter_id,
    )


async def claim_status(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    record_key: str,
    body: StatusClaimCreate,
    language: str,
) -> StatusClaimPublic:
    """Add the caller's agency's claim to a record shared with it (404 for one it does not
    see, withdrawn ones included), and tell the record's owner."""
    if body.status not in CLAIMABLE_STATUSES.get(access.principal.agency_kind, frozenset()):
        raise invalid_field("status", "not a status your agency records")
    view = await load_view(session, access, list_id, personal_data=True)
    row = await records.get_record(session, list_id, record_key)
    if row is None or row["withdrawn_at"] is not None:
        raise ProblemError("not-found", "no such record is visible to the caller")
    claim = StatusClaim(
        agency_id=access.principal.agency_id,
        list_id=list_id,
        record_id=row["id"],
        status=body.status,
        effective_at=body.effective_at.astimezone(dt.UTC),  # as it reads back from the table
    )
    repository.add(session, claim)
    await session.flush()
    # shows the claimant no field, but is an access to the owner's record (and confirms it
    # lives): audited as one, so the owner's auditors and bulk-read counting see it
    owner = view.list.owner_agency_id
    audit.disclose(
        list_id=list_id, record_id=row["id"], record_key=record_key, owner_agency_id=owner,
        fields=(),
    )  # fmt: skip
    data: dict[str, object] = {
        "list_id": list_id,
        "record_id": record_key,
        "claimed_by": claim.agency_id,
        "status": claim.status,
        "effective_at": claim.effective_at.isoformat(),
    }
    change = Change("status.claimed", owner, "owner_only", data, list_id, row["id"])
    publish(session, [change])
    await commit_with_audit(session, audit, 201)
    return claim_public(claim, language)
