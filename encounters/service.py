"""Report an encounter: link it to the pipeline records it concerns (through the same lookup a
verification makes, under the reporter's agreements), add the reporter's status claim to each,
and tell the records' owner through the change feed, all in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from changes.service import Change, publish
from database.prepared import DriverChannel
from encounters import repository
from encounters.claims import claim_public
from exchange import repository as records
from exchange.service import load_view
from exchange.visibility import require_owner
from i18n import text
from letters.checking import check_credential
from problems import ProblemError
from schemas.encounters import (
    EncounterCreate,
    EncounterLink,
    EncounterOnRecord,
    EncounterPublic,
    EncounterReport,
    Place,
    RecordStatus,
    StatusClaim,
)
from verification.repository import ReachableRecord
from verification.service import IN_PIPELINE_FIELDS, matching_records

_STATUS_FIELDS = ("status", "encounters")


def _matched_by(body: EncounterCreate) -> str:
    subject = body.subject
    for name in ("credential", "letter_id", "document"):
        if getattr(subject, name) is not None:
            return name
    return "person"


def _changes(
    report: EncounterReport, links: Sequence[tuple[ReachableRecord, str]], in_pipeline: bool
) -> list[Change]:
    """One event per linked record for its owner, one for the reporter about its own report.
    The reporter's event names no record, and says no more than its answer did (an ambiguous
    name must not reveal candidates, nor a revoked letter vouch for its holder)."""
    place: dict[str, object] = {
        "province": report.province,
        "district": report.district,
        "facility": report.facility,
    }
    common: dict[str, object] = {
        "encounter_id": report.id,
        "event": report.event,
        "occurred_at": report.occurred_at.isoformat(),
        **place,
    }
    changes = [
        Change(
            type="encounter.reported",
            owner_agency_id=record.owner_agency_id,
            audience="owner_only",
            data={
                **common,
                "list_id": record.list_id,
                "record_id": record.record_key,
                "match": match,
            },
            list_id=record.list_id,
            record_id=record.record_id,
        )
        for record, match in links
    ]
    own: dict[str, object] = {**common, "in_pipeline": in_pipeline}
    changes.append(Change("encounter.reported", report.agency_id, "owner_only", own))
    return changes


async def report_encounter(
    session: AsyncSession,
    driver: DriverChannel,
    access: AccessContext,
    audit: AuditContext,
    body: EncounterCreate,
    language: str,
) -> EncounterPublic:
    connection = await session.connection()
    matches = await matching_records(
        driver, access, body.subject, lambda text: check_credential(connection, text)
    )
    records, verdict = matches.records, matches.verdict
    if verdict is not None and not verdict.genuine:  # as a verification: forgeries stand out
        audit.reason = f"credential-{verdict.status}"
    matched_by = _matched_by(body)
    live = [v.record for v in records.values() if not v.record.withdrawn]
    ambiguous = matches.ambiguous
    # a family letter names several people and the officer stopped one of them: like
    # namesakes, each is a candidate, and none is declared detained on the others' behalf
    several_on_a_letter = matched_by in ("letter_id", "credential") and len(live) > 1
    match = "candidate" if ambiguous or several_on_a_letter else "exact"
    report = EncounterReport(
        agency_id=access.principal.agency_id,
        client_id=access.principal.client_id,
        event=body.event,
        province=body.place.province,
        district=body.place.district,
        facility=body.place.facility,
        occurred_at=body.occurred_at,
        matched_by=matched_by,
        subject=body.subject.model_dump(mode="json", exclude_none=True),
    )
    repository.add(session, report)
    await session.flush()
    for record in live:
        repository.add(
            session,
            EncounterLink(
                encounter_id=report.id, record_id=record.record_id, list_id=record.list_id,
                match=match,
            ),
        )  # fmt: skip
        if match == "exact":  # a candidate's owner hears of the encounter, not of a status
            repository.add(
                session,
                StatusClaim(
                    agency_id=report.agency_id, list_id=record.list_id,
                    record_id=record.record_id, status=body.event,
                    effective_at=body.occurred_at, encounter_id=report.id,
                ),
            )  # fmt: skip
        audit.disclose(
            list_id=record.list_id,
            record_id=record.record_id,
            record_key=record.record_key,
            owner_agency_id=record.owner_agency_id,
            fields=IN_PIPELINE_FIELDS,
        )
    await session.flush()
    # as a verification answers: a letter vouches only while valid (not revoked, expired)
    in_pipeline = bool(live) and not ambiguous and matches.letter_vouches
    publish(session, _changes(report, [(r, match) for r in live], in_pipeline))
    await commit_with_audit(session, audit, 201)
    return EncounterPublic(
        encounter_id=report.id,
        event=body.event,
        event_text=text(f"encounter.{body.event}", language),
        place=body.place,
        occurred_at=report.occurred_at,
        reported_at=report.reported_at,
        in_pipeline=in_pipeline,
        ambiguous=ambiguous,
    )


async def record_status(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    record_key: str,
    language: str,
) -> RecordStatus:
    """For the list's owner: each agency's newest claim, the full history, the encounters."""
    view = await load_view(session, access, list_id, personal_data=True)
    require_owner(view)
    row = await records.get_record(session, list_id, record_key)
    if row is None:
        raise ProblemError("not-found", "no such record is visible to the caller")
    claims = await repository.claims_of_record(session, row["id"])
    current = {claim.agency_id: claim for claim in claims}  # time-ordered: the newest wins
    encounters = await repository.encounters_of_record(session, row["id"])
    audit.disclose(
        list_id=list_id,
        record_id=row["id"],
        record_key=record_key,
        owner_agency_id=view.list.owner_agency_id,
        fields=_STATUS_FIELDS,
    )
    return RecordStatus(
        list_id=list_id,
        record_id=record_key,
        current=[
            claim_public(c, language) for c in sorted(current.values(), key=lambda c: c.agency_id)
        ],
        history=[claim_public(c, language) for c in claims],
        encounters=[
            EncounterOnRecord(
                encounter_id=report.id,
                reporting_agency_id=report.agency_id,
                event=report.event,
                event_text=text(f"encounter.{report.event}", language),
                place=Place(
                    province=report.province, district=report.district, facility=report.facility
                ),
                occurred_at=report.occurred_at,
                reported_at=report.reported_at,
                match=link.match,  # type: ignore[arg-type]
            )
            for report, link in encounters
        ],
    )
