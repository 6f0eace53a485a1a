"""All SQL of verification: pipeline records reachable by a caller — owned, or shared through a
live agreement — found by letter, document or name keys with date-of-birth overlap, in ONE
prepared query (the checkpoint path is the hottest in the service: `database/prepared.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.sql.elements import ColumnElement

from database.prepared import ReadChannel
from schemas.letters import ProtectionLetter, ProtectionLetterMember
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


@dataclass(frozen=True, slots=True)
class IssuedLetterDates:
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


_BASE_COLUMNS = 7  # the columns every lookup selects; letter lookups add the letter's dates


def _reachable(
    criterion: ColumnElement[bool], *extra_columns: ColumnElement[Any]
) -> Select[tuple[Any, ...]]:
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
            *extra_columns,
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


_member = ProtectionLetterMember.__table__.c  # type: ignore[attr-defined]
_letter = ProtectionLetter.__table__.c  # type: ignore[attr-defined]


def _issued_letter_column(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    return select(column).where(_letter.id == bindparam("letter_id")).scalar_subquery().label(label)


# A letter names records through their `letter_id` field or, for a letter Sanad issued, through
# its member table (it may cover several records); each row also carries that letter's dates,
# so a checkpoint's letter question is one query.
BY_LETTER = _reachable(
    or_(
        _record.letter_id == bindparam("letter_id"),
        _record.id.in_(
            select(_member.record_id).where(_member.letter_id == bindparam("letter_id"))
        ),
    ),
    _issued_letter_column(_letter.expires_at, "issued_expires_at"),
    _issued_letter_column(_letter.revoked_at, "issued_revoked_at"),
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
    reader: ReadChannel,
    agency_id: str,
    at: dt.datetime,
    lookup: Select[tuple[Any, ...]],
    params: dict[str, object],
) -> tuple[list[ReachableRecord], IssuedLetterDates | None]:
    """The records, and for a letter lookup the dates of the letter if Sanad issued it."""
    rows = await reader.fetch(reader.prepare(lookup), {"agency_id": agency_id, "at": at, **params})
    records = [
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
    issued = None
    if rows and len(rows[0]) > _BASE_COLUMNS and rows[0][_BASE_COLUMNS] is not None:
        issued = IssuedLetterDates(
            expires_at=rows[0][_BASE_COLUMNS], revoked_at=rows[0][_BASE_COLUMNS + 1]
        )
    return records, issued
