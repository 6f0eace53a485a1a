"""All SQL of verification: pipeline records reachable by a caller — owned, or shared through a
live agreement — found by letter, document or name keys with date-of-birth overlap, in ONE
prepared query (the checkpoint path is the hottest in the service: `database/prepared.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, null, or_, select, union, union_all
from sqlalchemy.sql.elements import ColumnElement

from auth.policy import LIST_KINDS
from database.prepared import DriverChannel
from matching.dates import LONGEST_SPAN
from schemas.identity import Agency
from schemas.letters import ProtectionLetter, ProtectionLetterMember
from schemas.lists import ExchangeList, SharingAgreement
from schemas.records import Record, RecordDocument
from schemas.vocabulary import ListKind

_record = Record.__table__.c  # type: ignore[attr-defined]
_record_table = Record.__table__  # type: ignore[attr-defined]
_document = RecordDocument.__table__.c  # type: ignore[attr-defined]
_list = ExchangeList.__table__.c  # type: ignore[attr-defined]
_agreement = SharingAgreement.__table__.c  # type: ignore[attr-defined]
_list_table = ExchangeList.__table__  # type: ignore[attr-defined]
_agreement_table = SharingAgreement.__table__  # type: ignore[attr-defined]

MAX_CANDIDATES = 50
# A claim by name is scored against every record born near the claimed date; past this many
# the officer is asked for a letter or document instead of a guess among namesakes.
MAX_PERSON_CANDIDATES = 5000


@dataclass(frozen=True, slots=True)
class Grant:
    """One live sharing agreement through which a record is reached: what it allows."""

    purposes: tuple[str, ...]
    fields: tuple[str, ...]
    coarsen: dict[str, str]


@dataclass(frozen=True, slots=True)
class ReachableRecord:
    """A record as a lookup finds it, once per agreement that reaches it (a list shared twice
    with the caller comes twice; `verification.service.visible_records` merges them)."""

    record_id: str
    list_id: str
    record_key: str
    letter_id: str | None
    withdrawn: bool
    owner_agency_id: str
    grant: Grant | None  # None: the caller owns the list
    # what the lookup selects beyond these: a letter's dates, or the names a claim is scored on
    extra: tuple[Any, ...] = ()


_BASE_COLUMNS = 9  # the columns every lookup selects


_LIVE_AGREEMENT = and_(
    _agreement.list_id == _list.id,
    _agreement.recipient_agency_id == bindparam("agency_id"),
    _agreement.terminated_at.is_(None),
    _agreement.valid_from <= bindparam("at"),
    _agreement.valid_until > bindparam("at"),
)
_agency = Agency.__table__.c  # type: ignore[attr-defined]
# Only the kinds of agency that may hold a pipeline list (`auth.policy.LIST_KINDS`) vouch for
# pipeline membership: a pipeline list another agency made before that rule was enforced
# must not answer "in the US pipeline" at a checkpoint.
# (one equality per kind, not IN: a prepared statement carries each literal as one parameter)
_PIPELINE_HOLDERS = select(_agency.id).where(
    or_(*(_agency.kind == kind for kind, kinds in LIST_KINDS.items() if ListKind.PIPELINE in kinds))
)
_REACHABLE = and_(
    _list.kind == ListKind.PIPELINE.value,
    _list.owner_agency_id.in_(_PIPELINE_HOLDERS),
    or_(_list.owner_agency_id == bindparam("agency_id"), _agreement.id.is_not(None)),
)


def _in_reachable_lists(query: Select[Any]) -> Select[Any]:
    """`query` over records, kept to pipeline lists the caller owns or receives through a live
    agreement (the agreement's purposes are checked by the service)."""
    return (
        query.join(_list_table, _list.id == _record.list_id)
        .outerjoin(_agreement_table, _LIVE_AGREEMENT)
        .where(_REACHABLE)
    )


_GRANT_COLUMNS = (_agreement.purposes, _agreement.fields, _agreement.coarsen)


def _reachable(
    criterion: ColumnElement[bool],
    *extra_columns: ColumnElement[Any],
    limit: int | None = MAX_CANDIDATES,
    with_grants: bool = True,
) -> Select[tuple[Any, ...]]:
    """Records matching `criterion` in the caller's reachable lists. Built once per kind of
    lookup: only bound parameters change per request. Without `with_grants` the agreement's
    columns are left NULL (a claim by name reads the views of whole lists, `REACHABLE_GRANTS`,
    instead of decoding them again on each of thousands of rows)."""
    grants = _GRANT_COLUMNS if with_grants else tuple(null() for _ in _GRANT_COLUMNS)
    columns = select(
        _record.id,
        _record.list_id,
        _record.record_key,
        _record.letter_id,
        _record.withdrawn_at,
        _list.owner_agency_id,
        *grants,
        *extra_columns,
    )
    return _in_reachable_lists(columns.where(criterion)).limit(limit)


# The caller's reachable pipeline lists, each once per live agreement (none for its own).
REACHABLE_GRANTS = (
    select(_list.id, _list.owner_agency_id, *_GRANT_COLUMNS)
    .select_from(_list_table)
    .outerjoin(_agreement_table, _LIVE_AGREEMENT)
    .where(_REACHABLE)
)


_member = ProtectionLetterMember.__table__.c  # type: ignore[attr-defined]
_letter = ProtectionLetter.__table__.c  # type: ignore[attr-defined]


def _issued_letter_column(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    return select(column).where(_letter.id == bindparam("letter_id")).scalar_subquery().label(label)


# A letter names records through their `letter_id` field or, for a letter Sanad issued, through
# its member table (it may cover several records); each row also carries that letter's dates,
# so a checkpoint's letter question is one query. The two lookups are a UNION of index searches:
# `letter_id = :l OR id IN (…)` made PostgreSQL scan the whole record table (~0.25 s at 1M).
_NAMED_BY_LETTER = union(
    select(_record.id).where(_record.letter_id == bindparam("letter_id")),
    select(_member.record_id).where(_member.letter_id == bindparam("letter_id")),
)
BY_LETTER = _reachable(
    _record.id.in_(_NAMED_BY_LETTER),
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
# The fields a claim by name is scored on (reconcile.verification), in this order.
PERSON_FIELDS = ("given_name", "family_name", "father_name", "name_native", "dob", "dob_calendar")
# Candidates for a claim by name: records born in the claimed span widened by the caller (a
# year either way is weak evidence, not none) or of unknown birth; the scorer decides. Two arms,
# each an index range on (list_id, dob_earliest) per reachable list: as one `IS NULL OR
# overlaps` condition, with no lower bound on dob_earliest, PostgreSQL scanned every record
# (250 ms among 1.3 million records of other lists; 1-2 ms so). No record's span is longer
# than LONGEST_SPAN, so `dob_latest >= earliest` implies the lower bound `born_after`.
# After the fields, the stored span of the birth date and that of its whole year: a caller whose
# view cuts the date to its year is answered on the year's span (`verification.person`).
_PERSON_COLUMNS = (
    *(_record[name] for name in PERSON_FIELDS),
    _record.dob_earliest,
    _record.dob_latest,
    _record.dob_year_earliest,
    _record.dob_year_latest,
)
_BORN_IN_SPAN = and_(
    _record.dob_earliest >= bindparam("born_after"),
    _record.dob_earliest <= bindparam("latest"),
    _record.dob_latest >= bindparam("earliest"),
)
_PERSON_ROWS = union_all(
    _reachable(_BORN_IN_SPAN, *_PERSON_COLUMNS, limit=None, with_grants=False),
    _reachable(_record.dob_earliest.is_(None), *_PERSON_COLUMNS, limit=None, with_grants=False),
).subquery()
BY_PERSON = select(_PERSON_ROWS).limit(MAX_PERSON_CANDIDATES + 1)


def person_params(earliest: dt.date, latest: dt.date) -> dict[str, object]:
    """BY_PERSON's parameters for a claimed span of birth."""
    return {"earliest": earliest, "latest": latest, "born_after": earliest - LONGEST_SPAN}


# The pipeline lists a claim searches, each with its size (which sets the prior odds of a
# chance match) and what changes whenever a record is added, corrected or withdrawn (which says
# when the names counted in it are out of date).
REACHABLE_LISTS = _in_reachable_lists(
    select(
        _record.list_id,
        func.count(),
        func.coalesce(func.sum(_record.version), 0),
        func.count(_record.withdrawn_at),
    ).select_from(_record_table)
).group_by(_record.list_id)
# The names of a list's active records, for their counts (reconcile.name_counts).
LIST_NAMES = select(*(_record[name] for name in PERSON_FIELDS[:4])).where(
    _record.list_id == bindparam("list_id"), _record.withdrawn_at.is_(None)
)


async def reachable_records(
    driver: DriverChannel,
    agency_id: str,
    at: dt.datetime,
    lookup: Select[tuple[Any, ...]],
    params: dict[str, object],
) -> list[ReachableRecord]:
    rows = await driver.fetch(driver.prepare(lookup), {"agency_id": agency_id, "at": at, **params})
    return [
        ReachableRecord(
            record_id=row[0],
            list_id=row[1],
            record_key=row[2],
            letter_id=row[3],
            withdrawn=row[4] is not None,
            owner_agency_id=row[5],
            grant=_grant(row, agency_id, 5),
            extra=tuple(row[_BASE_COLUMNS:]),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class ListGrant:
    """A reachable list and one agreement through which the caller reaches it (None: its own)."""

    list_id: str
    grant: Grant | None


def _grant(row: Any, agency_id: str, owner: int) -> Grant | None:
    if row[owner] == agency_id:
        return None
    purposes, fields, coarsen = row[owner + 1 : owner + 4]
    return Grant(tuple(purposes or ()), tuple(fields or ()), dict(coarsen or {}))


async def reachable_grants(
    driver: DriverChannel, agency_id: str, at: dt.datetime
) -> list[ListGrant]:
    rows = await driver.fetch(driver.prepare(REACHABLE_GRANTS), {"agency_id": agency_id, "at": at})
    return [ListGrant(row[0], _grant(row, agency_id, 1)) for row in rows]


@dataclass(frozen=True, slots=True)
class SearchedList:
    list_id: str
    size: int
    state: tuple[int, int]  # (summed record versions, withdrawn records): moves on any change


async def reachable_lists(
    driver: DriverChannel, agency_id: str, at: dt.datetime
) -> list[SearchedList]:
    rows = await driver.fetch(driver.prepare(REACHABLE_LISTS), {"agency_id": agency_id, "at": at})
    return [SearchedList(row[0], int(row[1]), (int(row[2]), int(row[3]))) for row in rows]


async def list_names(driver: DriverChannel, list_id: str) -> list[dict[str, Any]]:
    """Every active record's names (given, family, father's, native) as exchange fields."""
    rows = await driver.fetch(driver.prepare(LIST_NAMES), {"list_id": list_id})
    return [
        {"record_id": str(k), **dict(zip(PERSON_FIELDS[:4], row, strict=True))}
        for k, row in enumerate(rows)
    ]
