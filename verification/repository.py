"""All SQL of verification: pipeline records reachable by a caller, found by letter, document or
name keys with date-of-birth overlap."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.lists import ExchangeList, SharingAgreement
from schemas.records import Record, RecordDocument
from schemas.vocabulary import ListKind

_record = Record.__table__.c  # type: ignore[attr-defined]
_document = RecordDocument.__table__.c  # type: ignore[attr-defined]
_list = ExchangeList.__table__.c  # type: ignore[attr-defined]
_agreement = SharingAgreement.__table__.c  # type: ignore[attr-defined]

MAX_CANDIDATES = 50


async def pipeline_lists_of_owner(session: AsyncSession, agency_id: str) -> list[ExchangeList]:
    query = select(ExchangeList).where(
        _list.owner_agency_id == agency_id, _list.kind == ListKind.PIPELINE.value
    )
    return list((await session.execute(query)).scalars().all())


async def live_pipeline_agreements(
    session: AsyncSession, recipient_agency_id: str, at: dt.datetime
) -> list[tuple[SharingAgreement, ExchangeList]]:
    query = (
        select(SharingAgreement, ExchangeList)
        .join(ExchangeList, _list.id == _agreement.list_id)
        .where(
            _agreement.recipient_agency_id == recipient_agency_id,
            _agreement.terminated_at.is_(None),
            _agreement.valid_from <= at,
            _agreement.valid_until > at,
            _list.kind == ListKind.PIPELINE.value,
        )
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def records_by_letter(
    session: AsyncSession, list_ids: list[str], letter_id: str
) -> list[Record]:
    query = (
        select(Record)
        .where(_record.list_id.in_(list_ids), _record.letter_id == letter_id)
        .limit(MAX_CANDIDATES)
    )
    return list((await session.execute(query)).scalars().all())


async def records_by_document(
    session: AsyncSession, list_ids: list[str], doc_type: str, number: str
) -> list[Record]:
    matching_ids = select(_document.record_id).where(
        _document.number == number, _document.doc_type == doc_type, _document.list_id.in_(list_ids)
    )
    query = select(Record).where(_record.id.in_(matching_ids)).limit(MAX_CANDIDATES)
    return list((await session.execute(query)).scalars().all())


async def records_by_person(
    session: AsyncSession,
    list_ids: list[str],
    given_key: str,
    father_key: str,
    earliest: dt.date,
    latest: dt.date,
) -> list[Record]:
    query = (
        select(Record)
        .where(
            _record.list_id.in_(list_ids),
            _record.given_name_key == given_key,
            _record.father_name_key == father_key,
            or_(
                _record.dob_earliest.is_(None),
                and_(_record.dob_earliest <= latest, _record.dob_latest >= earliest),
            ),
        )
        .limit(MAX_CANDIDATES)
    )
    return list((await session.execute(query)).scalars().all())
