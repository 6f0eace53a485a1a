"""All SQL of encounters: reports, their links to records, and status claims."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.encounters import EncounterLink, EncounterReport, StatusClaim

_report = EncounterReport.__table__.c  # type: ignore[attr-defined]
_link = EncounterLink.__table__.c  # type: ignore[attr-defined]
_claim = StatusClaim.__table__.c  # type: ignore[attr-defined]


def add(session: AsyncSession, row: EncounterReport | EncounterLink | StatusClaim) -> None:
    session.add(row)


async def get_report(session: AsyncSession, encounter_id: str) -> EncounterReport | None:
    return await session.get(EncounterReport, encounter_id)


async def links_of(session: AsyncSession, encounter_id: str) -> list[EncounterLink]:
    query = select(EncounterLink).where(_link.encounter_id == encounter_id)
    return list((await session.execute(query)).scalars().all())


async def claims_of_record(session: AsyncSession, record_id: str) -> list[StatusClaim]:
    query = (
        select(StatusClaim)
        .where(_claim.record_id == record_id)
        .order_by(_claim.effective_at, _claim.recorded_at, _claim.id)
    )
    return list((await session.execute(query)).scalars().all())


async def encounters_of_record(
    session: AsyncSession, record_id: str
) -> list[tuple[EncounterReport, EncounterLink]]:
    query = (
        select(EncounterReport, EncounterLink)
        .join(EncounterLink, _link.encounter_id == _report.id)
        .where(_link.record_id == record_id)
        .order_by(_report.occurred_at, _report.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]
