"""All SQL of the exchange: lists, sharing agreements, records, their documents and versions,
and import batches. Bulk writes use SQLAlchemy Core (PostgreSQL: COPY; SQLite: executemany)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers every table on the metadata)
from database.first_write import changed, update_unless_set
from exchange.keys import SEARCH_KEYS
from schemas.identity import Agency
from schemas.lists import ExchangeList, SharingAgreement
from schemas.records import ImportBatch
from schemas.vocabulary import AgencyKind

_tables = SQLModel.metadata.tables
RECORD: Table = _tables["record"]
DOCUMENT: Table = _tables["record_document"]
VERSION: Table = _tables["record_version"]
_list = _tables["exchange_list"].c
_agreement = _tables["sharing_agreement"].c
_record = RECORD.c
_document = DOCUMENT.c
_version = VERSION.c
_import = _tables["import_batch"].c
_agency = _tables["agency"].c

_DOB_SPAN = ("dob_earliest", "dob_latest")
KEY_CHUNK = 5000  # bound parameters per IN (...) lookup; SQLite allows 32766


# --- lists and agreements ------------------------------------------------------------------


def add(session: AsyncSession, row: SQLModel) -> None:
    session.add(row)


async def get_list(session: AsyncSession, list_id: str) -> ExchangeList | None:
    return await session.get(ExchangeList, list_id)


async def lock_list(session: AsyncSession, list_id: str) -> None:
    """Serialise imports into one list, and a letter's hold on its records with them
    (PostgreSQL row lock; SQLite has one writer anyway)."""
    await session.execute(select(_list.id).where(_list.id == list_id).with_for_update())


async def live_agreements(
    session: AsyncSession, list_ids: Sequence[str], agency_id: str, now: dt.datetime
) -> list[SharingAgreement]:
    query = select(SharingAgreement).where(
        _agreement.list_id.in_(list_ids),
        _agreement.recipient_agency_id == agency_id,
        _agreement.terminated_at.is_(None),
        _agreement.valid_from <= now,
        _agreement.valid_until > now,
    )
    return list((await session.execute(query)).scalars().all())


async def visible_lists(
    session: AsyncSession, agency_id: str, now: dt.datetime
) -> list[ExchangeList]:
    """Lists the agency owns, and lists shared with it by a live agreement."""
    shared = select(_agreement.list_id).where(
        _agreement.recipient_agency_id == agency_id,
        _agreement.terminated_at.is_(None),
        _agreement.valid_from <= now,
        _agreement.valid_until > now,
    )
    query = (
        select(ExchangeList)
        .where(or_(_list.owner_agency_id == agency_id, _list.id.in_(shared)))
        .order_by(_list.created_at, _list.id)
    )
    return list((await session.execute(query)).scalars().all())


async def active_record_counts(session: AsyncSession, list_ids: Sequence[str]) -> dict[str, int]:
    if not list_ids:
        return {}
    query = (
        select(_record.list_id, func.count())
        .where(_record.list_id.in_(list_ids), _record.withdrawn_at.is_(None))
        .group_by(_record.list_id)
    )
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def agency_kind(session: AsyncSession, agency_id: str) -> AgencyKind | None:
    agency = await session.get(Agency, agency_id)
    return AgencyKind(agency.kind) if agency else None


async def get_agreement(
    session: AsyncSession, agreement_id: str
) -> tuple[SharingAgreement, ExchangeList] | None:
    query = (
        select(SharingAgreement, ExchangeList)
        .join(ExchangeList, _list.id == _agreement.list_id)
        .where(_agreement.id == agreement_id)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def end_agreement(
    session: AsyncSession, agreement_id: str, at: dt.datetime, by_client_id: str
) -> bool:
    """End a live agreement; False if it had ended already (two ends at once: one wins)."""
    end = update_unless_set(
        _agreement.id,
        agreement_id,
        _agreement.terminated_at,
        terminated_at=at,
        terminated_by_client_id=by_client_id,
    )
    return changed(await session.execute(end))


async def agreements_of_agency(
    session: AsyncSession, agency_id: str, list_id: str | None
) -> list[tuple[SharingAgreement, ExchangeList]]:
    """Agreements the agency gave (as list owner) or received, newest first."""
    query = (
        select(SharingAgreement, ExchangeList)
        .join(ExchangeList, _list.id == _agreement.list_id)
        .where(or_(_list.owner_agency_id == agency_id, _agreement.recipient_agency_id == agency_id))
        .order_by(_agreement.created_at.desc(), _agreement.id)
    )
    if list_id is not None:
        query = query.where(_agreement.list_id == list_id)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


# --- records -------------------------------------------------------------------------------


Row = dict[str, Any]


def _rows(mappings: Iterable[RowMapping]) -> list[Row]:
    return [dict(row) for row in mappings]


async def get_record(session: AsyncSession, list_id: str, record_key: str) -> Row | None:
    query = select(RECORD).where(_record.list_id == list_id, _record.record_key == record_key)
    found = _rows((await session.execute(query)).mappings())
    return found[0] if found else None


async def search_records(
    session: AsyncSession,
    list_id: str,
    *,
    conditions: Mapping[str, object],
    after_key: str | None,
    limit: int,
    include_withdrawn: bool,
) -> list[Row]:
    """Records of one list matching every condition, ordered by the agency's record id."""
    query = select(RECORD).where(_record.list_id == list_id)
    if not include_withdrawn:
        query = query.where(_record.withdrawn_at.is_(None))
    if after_key is not None:
        query = query.where(_record.record_key > after_key)
    for column in (*(f"{name}_key" for name in SEARCH_KEYS), "group_id", "letter_id"):
        if conditions.get(column) is not None:
            query = query.where(_record[column] == conditions[column])
    any_name = conditions.get("any_name")
    if isinstance(any_name, Mapping):
        query = query.where(or_(*(_record[column] == key for column, key in any_name.items())))
    dob_range = conditions.get("dob_range")
    if isinstance(dob_range, tuple):
        # views showing the year only match on the record's whole year, so that a filter in
        # the other calendar cannot narrow a date below the year the caller is shown
        low, high = (
            ("dob_year_earliest", "dob_year_latest")
            if conditions.get("dob_by_year")
            else ("dob_earliest", "dob_latest")
        )
        earliest, latest = dob_range
        query = query.where(_record[low] <= latest, _record[high] >= earliest)
    document, document_type = conditions.get("document"), conditions.get("document_type")
    if document is not None or document_type is not None:
        match = and_(_document.record_id == _record.id, _document.list_id == list_id)
        if document is not None:
            match = and_(match, _document.number == document)
        if document_type is not None:
            match = and_(match, _document.doc_type == document_type)
        query = query.where(exists().where(match))
    query = query.order_by(_record.record_key).limit(limit)
    return _rows((await session.execute(query)).mappings())


async def update_record(
    session: AsyncSession, record_id: str, expected_version: int, values: Mapping[str, Any]
) -> bool:
    """Optimistic update: False when the record moved past `expected_version` meanwhile."""
    result = await session.execute(
        update(RECORD)
        .where(_record.id == record_id, _record.version == expected_version)
        .values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def hold_live_records(session: AsyncSession, list_id: str, record_ids: Sequence[str]) -> bool:
    """Lock records of a list that are still live until the transaction ends; False if one is
    withdrawn. A write that names records (a letter) does this first: a withdrawal committed
    since they were read is seen, and one under way waits, then finds what this transaction
    wrote. Row locks on PostgreSQL, taken after the list's as an import takes them: an import
    locks the records it updates in its file's order, so a letter holding two of them in
    another order would deadlock with it. On SQLite the write lock, taken by this statement."""
    await lock_list(session, list_id)
    wanted = list(dict.fromkeys(record_ids))
    held = await session.execute(
        update(RECORD)
        .where(_record.id.in_(wanted), _record.withdrawn_at.is_(None))
        .values(version=_record.version)
    )
    return bool(held.rowcount == len(wanted))  # type: ignore[attr-defined]


async def record_versions(session: AsyncSession, record_id: str) -> list[Row]:
    query = select(VERSION).where(_version.record_id == record_id).order_by(_version.version)
    return _rows((await session.execute(query)).mappings())


async def insert_version(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(VERSION), [dict(row)])


async def delete_documents(session: AsyncSession, record_ids: Sequence[str]) -> None:
    for start in range(0, len(record_ids), KEY_CHUNK):
        chunk = record_ids[start : start + KEY_CHUNK]
        await session.execute(delete(DOCUMENT).where(_document.record_id.in_(chunk)))


# --- imports -------------------------------------------------------------------------------


async def find_import(session: AsyncSession, list_id: str, key: str) -> ImportBatch | None:
    query = select(ImportBatch).where(_import.list_id == list_id, _import.idempotency_key == key)
    return (await session.execute(query)).scalars().first()


async def list_has_records(session: AsyncSession, list_id: str) -> bool:
    query = select(_record.id).where(_record.list_id == list_id).limit(1)
    return (await session.execute(query)).first() is not None


async def records_by_keys(
    session: AsyncSession, list_id: str, keys: Sequence[str]
) -> dict[str, Row]:
    found: dict[str, Row] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        query = select(RECORD).where(_record.list_id == list_id, _record.record_key.in_(chunk))
        for row in (await session.execute(query)).mappings():
            found[row["record_key"]] = dict(row)
    return found


async def update_records(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Bulk optimistic update; each row carries `_id` and `_expected_version`."""
    if not rows:
        return 0
    values: dict[str, Any] = {name: bindparam(name) for name in rows[0] if not name.startswith("_")}
    statement = (
        update(RECORD)
        .where(_record.id == bindparam("_id"), _record.version == bindparam("_expected_version"))
        .values(**values)
    )
    conn = await session.connection()
    result = await conn.execute(statement, list(rows))
    return int(result.rowcount)


async def timestamp_text(session: AsyncSession, value: dt.datetime) -> str:
    """`value` as the bulk paths write a timestamp column: PostgreSQL takes ISO 8601 with its
    offset; SQLite keeps the naive UTC text SQLAlchemy's UtcDateTime writes and reads."""
    utc = value.astimezone(dt.UTC)
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        return utc.isoformat(sep=" ")
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f")


BulkRow = Sequence[Any]


async def bulk_insert(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[BulkRow]
) -> None:
    """Insert many rows in the session's transaction, as tuples in `columns` order. Fastest
    as text the database takes as it is (dates `YYYY-MM-DD`, timestamps from
    `timestamp_text`, JSON encoded, numbers as digits) or None; ints, dates and aware
    datetimes are accepted too. PostgreSQL: COPY FROM STDIN; SQLite: one executemany. Both
    skip SQLAlchemy's per-row parameter processing, which costs more than the database
    itself at a million rows."""
    if not rows:
        return
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if conn.dialect.name == "postgresql":
        await _copy_rows(driver, table, columns, rows)
        return
    placeholders = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({_column_list(columns)}) VALUES ({placeholders})'  # noqa: S608
    temporal = [i for i, value in enumerate(rows[0]) if isinstance(value, dt.date)]
    if temporal:
        rows = await asyncio.to_thread(_sqlite_rows, rows, temporal)
    await driver.executemany(sql, rows)


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def _sqlite_text(value: dt.date) -> str:
    # the storage format SQLAlchemy's SQLite DATE/DATETIME types read back (UTC, no zone)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def _sqlite_rows(rows: Sequence[BulkRow], temporal: list[int]) -> list[BulkRow]:
    prepared: list[BulkRow] = []
    for row in rows:
        values = list(row)
        for i in temporal:
            if isinstance(values[i], dt.date):
                values[i] = _sqlite_text(values[i])
        prepared.append(values)
    return prepared


_NULL = "\x00"  # stands for NULL while a line is escaped; validated text never contains NUL
_NULL_BYTE = _NULL.encode()
COPY_CHUNK_ROWS = 20_000


def _copy_value(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, dt.date):  # datetimes too: ISO 8601 with offset
        return value.isoformat()
    return str(value)


def _copy_text(rows: Sequence[BulkRow]) -> bytes:
    """COPY text format. Field values hold no tab, newline or carriage return (control
    characters are refused at validation and JSON escapes them), so only backslashes need
    escaping. Each line is encoded alone (most are ASCII, and a line of Dari or Pashto would
    widen a whole joined chunk to two bytes a character), then the chunk is escaped once as
    bytes (UTF-8 never has a backslash or NUL byte inside a character): a third to a half less
    time than escaping line by line."""
    try:  # all text (documents, versions, events): each line one join
        lines = ["\t".join(row).encode() for row in rows]
    except TypeError:
        try:  # text or None (records): no call per value
            lines = [
                "\t".join([_NULL if value is None else value for value in row]).encode()
                for row in rows
            ]
        except TypeError:
            lines = ["\t".join([_copy_value(value) for value in row]).encode() for row in rows]
    lines.append(b"")
    return b"\n".join(lines).replace(b"\\", b"\\\\").replace(_NULL_BYTE, b"\\N")


async def _copy_rows(
    driver: Any, table: Table, columns: Sequence[str], rows: Sequence[BulkRow]
) -> None:
    """COPY through the session's own psycopg connection (same transaction). Each chunk is
    formatted in a worker thread while the server digests the previous one."""
    sql = f'COPY "{table.name}" ({_column_list(columns)}) FROM STDIN'
    chunks = [rows[i : i + COPY_CHUNK_ROWS] for i in range(0, len(rows), COPY_CHUNK_ROWS)]
    async with driver.cursor() as cursor, cursor.copy(sql) as copy:
        pending = asyncio.ensure_future(asyncio.to_thread(_copy_text, chunks[0]))
        for index in range(len(chunks)):
            data = await pending
            if index + 1 < len(chunks):
                pending = asyncio.ensure_future(asyncio.to_thread(_copy_text, chunks[index + 1]))
            await copy.write(data)
