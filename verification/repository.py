"""All SQL of verification: pipeline records reachable by a caller — owned, or shared through a
live agreement — found by letter, document or name keys with date-of-birth overlap, in ONE query
(the checkpoint path is the hottest in the service)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from schemas.letters import ProtectionLetterMember
from schemas.lists import ExchangeList, SharingAgreement
from schemas.records import Record, RecordDocument
from schemas.vocabulary import ListKind

_record = Record.__table__.c  # type: ignore[attr-defined]
_document = RecordDocument.__table__.c  # type: ignore[attr-defined]
_list = ExchangeList.__table__.c  # type: ignore[attr-defined]
_agreement = SharingAgreement.__table__.c  # type: ignore[attr-defined]
_list_table = ExchangeList.__table__  # type: ignore[attr-defined]
_agreement_table = SharingAgreement.__table__  # type: ignore[attr-defined]

MAX_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class ReachableRecord:
    record_id: str
    list_id: str
    record_key: str
    letter_id: str | None
    withdrawn: bool
    owner_agency_id: str
    agreement_purposes: tuple[str, ...] | None  # None: the caller owns the list


def _reachable(criterion: ColumnElement[bool]) -> Select[tuple[Any, ...]]:
    """Records matching `criterion` in pipeline lists the caller owns or receives through a live
    agreement. Built once per kind of lookup: only bound parameters change per request."""
    live_agreement = and_(
        _agreement.list_id == _list.id,
        _agreement.recipient_agency_id == bindparam("agency_id"),
        _agreement.terminated_at.is_(None),
        _agreement.valid_from <= bindparam("at"),
        _agreement.valid_until > bindparam("at"),
    )
    return (
        select(
            _record.id,
            _record.list_id,
            _record.record_key,
            _record.letter_id,
            _record.withdrawn_at,
            _list.owner_agency_id,
            _agreement.purposes,
        )
        .join(_list_table, _list.id == _record.list_id)
        .outerjoin(_agreement_table, live_agreement)
        .where(
            criterion,
            _list.kind == ListKind.PIPELINE.value,
            or_(_list.owner_agency_id == bindparam("agency_id"), _agreement.id.is_not(None)),
        )
        .limit(MAX_CANDIDATES)
    )


BY_LETTER = _reachable(_record.letter_id == bindparam("letter_id"))
_member = ProtectionLetterMember.__table__.c  # type: ignore[attr-defined]
# records named by a letter Sanad issued (its own table: a letter may cover several records)
BY_ISSUED_LETTER = _reachable(
    _record.id.in_(select(_member.record_id).where(_member.letter_id == bindparam("letter_id")))
)
BY_DOCUMENT = _reachable(
    _record.id.in_(
        select(_document.record_id).where(
            _document.number == bindparam("number"), _document.doc_type == bindparam("doc_type")
        )
    )
)
BY_PERSON = _reachable(
    and_(
        _record.given_name_key == bindparam("given_key"),
        _record.father_name_key == bindparam("father_key"),
        or_(
            _record.dob_earliest.is_(None),
            and_(
                _record.dob_earliest <= bindparam("latest"),
                _record.dob_latest >= bindparam("earliest"),
            ),
        ),
    )
)


async def reachable_records(
    connection: AsyncConnection,
    agency_id: str,
    at: dt.datetime,
    lookup: Select[tuple[Any, ...]],
    params: dict[str, object],
) -> list[ReachableRecord]:
    query_params = {"agency_id": agency_id, "at": at, **params}
    rows = (await connection.execute(lookup, query_params)).all()
    return [
        ReachableRecord(
            record_id=row[0],
            list_id=row[1],
            record_key=row[2],
            letter_id=row[3],
            withdrawn=row[4] is not None,
            owner_agency_id=row[5],
            agreement_purposes=None if row[5] == agency_id else tuple(row[6] or ()),
        )
        for row in rows
    ]
