"""All SQL of the transparency log: the sequencing queue, leaves, nodes, checkpoints, the log
key, witnesses and cosignatures. Synchronous functions serve the sequencer, export and verify
(they run in worker threads or the CLI); async ones serve the API."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Result, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers every table on the metadata)
from database.first_write import insert_unless_present

_tables = SQLModel.metadata.tables
EVENT: Table = _tables["audit_event"]
DISCLOSURE: Table = _tables["audit_disclosure"]
PENDING: Table = _tables["tlog_pending"]
LEAF: Table = _tables["tlog_leaf"]
NODE: Table = _tables["tlog_node"]
CHECKPOINT: Table = _tables["tlog_checkpoint"]
LOG_KEY: Table = _tables["tlog_log_key"]
WITNESS: Table = _tables["tlog_witness"]
COSIGNATURE: Table = _tables["tlog_cosignature"]
REVOCATION: Table = _tables["tlog_witness_revocation"]
_event = EVENT.c
_disclosure = DISCLOSURE.c
_pending = PENDING.c
_leaf = LEAF.c
_node = NODE.c
_checkpoint = CHECKPOINT.c
_witness = WITNESS.c
_cosignature = COSIGNATURE.c
_revocation = REVOCATION.c
# a revoked witness key's cosignatures count nowhere, those made before its revocation included
_REVOKED = REVOCATION.alias("revoked")  # its own name: queries that outer-join REVOCATION
_WITNESS_IN_FORCE = ~exists().where(_REVOKED.c.witness_id == _witness.id)

INSERT_CHUNK = 5000
# One sequencer at a time across every worker process: a transaction-scoped PostgreSQL
# advisory lock under this key (SQLite: the write lock taken by BEGIN IMMEDIATE).
SEQUENCER_LOCK_KEY = zlib.crc32(b"sanad.transparency.sequencer")

NodeKey = tuple[int, int]


def _raw_columns(table: Table) -> list[ColumnElement[Any]]:
    """A table's columns with timestamps as the driver returns them: the leaf encoder parses
    them itself (ORM datetime processing was the sequencer's largest cost on SQLite)."""
    return [
        type_coerce(column, Text).label(column.name) if column.name == "occurred_at" else column
        for column in table.columns
    ]


_EVENT_COLUMNS = _raw_columns(EVENT)
_DISCLOSURE_COLUMNS = _raw_columns(DISCLOSURE)


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Rows as plain dicts: the leaf encoder reads each field once per event, and dict lookups
    cost a fraction of the ORM's RowMapping ones."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _member_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values` with one parameter, whatever the count: a PostgreSQL array
    (`= ANY(:members)`), a JSON array on SQLite (`IN (SELECT value FROM json_each(:members))`).
    Thousands of expanded parameters cost more to bind and parse than the query to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("members", list(values), type_=ARRAY(column.type)))
    members: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("members", json.dumps(list(values))))
    )
    return column.in_(members.scalar_subquery())


def _epoch_now(dialect: str) -> Any:
    """The database's own clock in POSIX seconds (the clock the enqueue trigger used)."""
    if dialect == "postgresql":
        return literal_column("extract(epoch FROM clock_timestamp())::double precision")
    return literal_column("(julianday('now') - 2440587.5) * 86400.0")


# --- sequencing (sync, inside the sequencer's locked transaction) ------------------------------


def try_sequencer_lock(conn: Connection) -> bool:
    """Held until the transaction ends. SQLite's writer already holds the database lock."""
    if conn.dialect.name != "postgresql":
        return True
    locked = conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY}
    )
    return bool(locked.scalar_one())


def log_key(conn: Connection) -> RowMapping | None:
    return conn.execute(select(LOG_KEY)).mappings().first()


# The log key's public columns: all an auditor's role may read of it (docs: PostgreSQL roles).
_PUBLIC_LOG_KEY = select(LOG_KEY.c.origin, LOG_KEY.c.verifier_key)


def public_log_key(conn: Connection) -> RowMapping | None:
    return conn.execute(_PUBLIC_LOG_KEY).mappings().first()


def insert_log_key(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(insert(LOG_KEY), [dict(row)])


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    root_hash: bytes


def latest_head(conn: Connection) -> TreeHead | None:
    row = conn.execute(
        select(_checkpoint.size, _checkpoint.root_hash).order_by(_checkpoint.size.desc()).limit(1)
    ).first()
    return TreeHead(int(row.size), bytes(row.root_hash)) if row else None


# One constant statement per dialect for any set of nodes: prepared and cached once, where
# per-proof IN/OR lists would be compiled and planned anew (1.7 ms against 0.06 ms on SQLite).
_PG_NODES = text(
    "SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash FROM tlog_leaf "
    "WHERE leaf_index = ANY(CAST(:leaves AS bigint[])) "
    "UNION ALL SELECT n.level, n.node_index, n.hash FROM tlog_node AS n "
    "JOIN unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS w(level, node_index) "
    "ON n.level = w.level AND n.node_index = w.node_index"
)
_SQLITE_NODES = text(
    "SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash FROM tlog_leaf "
    "WHERE leaf_index IN (SELECT value FROM json_each(:leaves)) "
    "UNION ALL SELECT n.level, n.node_index, n.hash FROM json_each(:pairs) AS w "
    "JOIN tlog_node AS n ON n.level = json_extract(w.value, '$[0]') "
    "AND n.node_index = json_extract(w.value, '$[1]')"
)


def _nodes_query(dialect: str, wanted: Iterable[NodeKey]) -> tuple[Any, dict[str, Any]]:
    """One round trip for the leaf hashes (level 0) and interior nodes a proof reads."""
    leaves = [index for level, index in wanted if level == 0]
    interior = [(level, index) for level, index in wanted if level > 0]
    if dialect == "postgresql":
        parameters = {
            "leaves": leaves,
            "levels": [level for level, _ in interior],
            "indexes": [index for _, index in interior],
        }
        return _PG_NODES, parameters
    return _SQLITE_NODES, {"leaves": json.dumps(leaves), "pairs": json.dumps(interior)}


def _node_map(rows: Iterable[Any]) -> dict[NodeKey, bytes]:
    return {(int(level), int(index)): bytes(digest) for level, index, digest in rows}


def fetch_nodes(conn: Connection, wanted: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    query, parameters = _nodes_query(conn.dialect.name, wanted)
    return _node_map(conn.execute(query, parameters).all())


def pending_events(conn: Connection, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """The oldest queued events with all their columns, in queue order."""
    query = (
        select(_pending.seq, *_EVENT_COLUMNS)
        .join(EVENT, _event.id == _pending.event_id)
        .order_by(_pending.seq)
        .limit(limit)
    )
    return [(int(row["seq"]), row) for row in _dicts(conn.execute(query))]


def queued_disclosures(
    conn: Connection, first_seq: int, last_seq: int
) -> dict[str, list[dict[str, Any]]]:
    """Disclosures of the events queued between two seqs, by event id. An event committed
    into that range after the batch was read may add rows: the caller only looks up its own."""
    found: dict[str, list[dict[str, Any]]] = {}
    query = (
        select(*_DISCLOSURE_COLUMNS)
        .join(PENDING, _pending.event_id == _disclosure.event_id)
        .where(_pending.seq.between(first_seq, last_seq))
    )
    for row in _dicts(conn.execute(query)):
        found.setdefault(row["event_id"], []).append(row)
    return found


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Bulk append of plain tuples: PostgreSQL COPY, SQLite executemany; the sequencer writes
    about two rows per event, so ORM-level parameter handling would dominate its cost."""
    if not rows:
        return
    column_list = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({column_list}) VALUES ({marks})"  # noqa: S608 (names are ours)
    for chunk in _chunks(rows, INSERT_CHUNK):
        conn.exec_driver_sql(sql, list(chunk))


def insert_checkpoint(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(insert(CHECKPOINT), [dict(row)])


def dequeue(conn: Connection, seqs: Sequence[int]) -> None:
    # Exactly the rows read: a lower seq committed meanwhile must stay queued.
    conn.execute(delete(PENDING).where(_member_of(conn, _pending.seq, seqs)))


@dataclass(frozen=True, slots=True)
class Backlog:
    events: int  # capped at the count asked for
    oldest_age_seconds: float


def backlog(conn: Connection, cap: int) -> Backlog:
    capped = select(literal_column("1")).select_from(PENDING).limit(cap).subquery()
    count = conn.execute(select(func.count()).select_from(capped)).scalar_one()
    if not count:
        return Backlog(0, 0.0)
    oldest = select(_pending.enqueued_at).order_by(_pending.seq).limit(1).scalar_subquery()
    age = conn.execute(select(_epoch_now(conn.dialect.name) - oldest)).scalar_one()
    return Backlog(int(count), max(0.0, float(age or 0.0)))


# --- reading the whole log (sync: export and verify) -----------------------------------------


def checkpoints(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(CHECKPOINT).order_by(_checkpoint.size)).mappings())


def cosignatures(conn: Connection) -> list[RowMapping]:
    """Cosignatures by witness keys in force."""
    query = (
        select(COSIGNATURE, _witness.name, _witness.verifier_key, _witness.agency_id)
        .join(WITNESS, _witness.id == _cosignature.witness_id)
        .where(_WITNESS_IN_FORCE)
        .order_by(_cosignature.size, _witness.name)
    )
    return list(conn.execute(query).mappings())


def witnesses_in_force(conn: Connection) -> list[RowMapping]:
    """The witness keys not revoked: the only ones exports name and verification trusts."""
    query = select(WITNESS).where(_WITNESS_IN_FORCE).order_by(_witness.created_at)
    return list(conn.execute(query).mappings())


def _witnesses_query() -> Select[Any]:
    return select(
        WITNESS,
        _revocation.revoked_at,
        _revocation.reason.label("revocation_reason"),
    ).outerjoin(REVOCATION, _revocation.witness_id == _witness.id)


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One leaf as stored: its index, recorded hash, and its event (None if the row is gone)."""

    leaf_index: int
    leaf_hash: bytes
    event: RowMapping | None
    disclosures: list[RowMapping]


def logged_events(conn: Connection, chunk: int = 20_000) -> Iterator[LoggedEvent]:
    """Every leaf in index order with its event and disclosures, read in index ranges."""
    last = -1
    while True:
        leaves = conn.execute(
            select(LEAF, *_EVENT_COLUMNS)
            .outerjoin(EVENT, _event.id == _leaf.event_id)
            .where(_leaf.leaf_index > last)
            .order_by(_leaf.leaf_index)
            .limit(chunk)
        ).mappings()
        rows = list(leaves)
        if not rows:
            return
        shown: dict[str, list[RowMapping]] = {}
        low, high = int(rows[0]["leaf_index"]), int(rows[-1]["leaf_index"])
        disclosed = conn.execute(
            select(*_DISCLOSURE_COLUMNS)
            .join(LEAF, _leaf.event_id == _disclosure.event_id)
            .where(_leaf.leaf_index.between(low, high))
        ).mappings()
        for row in disclosed:
            shown.setdefault(row["event_id"], []).append(row)
        for row in rows:
            event = row if row[_event.id] is not None else None
            yield LoggedEvent(
                int(row["leaf_index"]),
                bytes(row["leaf_hash"]),
                event,
                shown.get(row[_leaf.event_id], []),
            )
        last = high


def stored_nodes(conn: Connection) -> Iterator[tuple[int, int, bytes]]:
    """Interior nodes in (level, index) order."""
    query = select(_node.level, _node.node_index, _node.hash).order_by(
        _node.level, _node.node_index
    )
    for level, index, digest in conn.execution_options(yield_per=50_000).execute(query):
        yield int(level), int(index), bytes(digest)


def unlogged_events(conn: Connection, limit: int) -> list[str]:
    """Events neither in the tree nor queued for it: the log cannot vouch for them."""
    query = (
        select(_event.id)
        .outerjoin(LEAF, _leaf.event_id == _event.id)
        .outerjoin(PENDING, _pending.event_id == _event.id)
        .where(_leaf.event_id.is_(None), _pending.event_id.is_(None))
        .limit(limit)
    )
    return [str(event_id) for event_id in conn.execute(query).scalars()]


# --- API (async) -----------------------------------------------------------------------------


async def log_key_public(session: AsyncSession) -> RowMapping | None:
    return (await session.execute(_PUBLIC_LOG_KEY)).mappings().first()


async def checkpoint_at(session: AsyncSession, size: int | None) -> RowMapping | None:
    """The checkpoint of that size, or the latest one when size is None."""
    query = select(CHECKPOINT)
    if size is None:
        query = query.order_by(_checkpoint.size.desc()).limit(1)
    else:
        query = query.where(_checkpoint.size == size)
    return (await session.execute(query)).mappings().first()


async def cosignatures_at(session: AsyncSession, size: int) -> list[RowMapping]:
    query = (
        select(COSIGNATURE, _witness.name, _witness.agency_id)
        .join(WITNESS, _witness.id == _cosignature.witness_id)
        .where(_cosignature.size == size, _WITNESS_IN_FORCE)
        .order_by(_witness.name, _witness.id)
    )
    return list((await session.execute(query)).mappings())


async def fetch_nodes_async(
    session: AsyncSession, wanted: Sequence[NodeKey]
) -> dict[NodeKey, bytes]:
    query, parameters = _nodes_query(session.get_bind().dialect.name, wanted)
    return _node_map((await session.execute(query, parameters)).all())


async def witness_by_identity(
    session: AsyncSession, public_key: bytes, name: str, key_id: str
) -> RowMapping | None:
    """The row, revoked or not and whichever agency's, of a witness key with this public key,
    or with this name and key id (how signature lines name their key); with its revocation."""
    same_key = _witness.public_key == public_key
    same_identity = (_witness.name == name) & (_witness.key_id == key_id)
    query = _witnesses_query().where(same_key | same_identity).order_by(_witness.created_at)
    found: RowMapping | None = (await session.execute(query)).mappings().first()
    return found


async def witnesses_of(
    session: AsyncSession, agency_id: str | None, *, in_force: bool = False
) -> list[RowMapping]:
    """The witness keys (of one agency), with their revocations; `in_force`: unrevoked only."""
    query = _witnesses_query().order_by(_witness.created_at, _witness.id)
    if agency_id is not None:
        query = query.where(_witness.agency_id == agency_id)
    if in_force:
        query = query.where(_WITNESS_IN_FORCE)
    return list((await session.execute(query)).mappings())


async def witness(session: AsyncSession, witness_id: str) -> RowMapping | None:
    query = _witnesses_query().where(_witness.id == witness_id)
    found: RowMapping | None = (await session.execute(query)).mappings().first()
    return found


async def insert_witness(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(WITNESS), [dict(row)])


async def insert_witness_revocation(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a witness key's revocation; False if it was revoked meanwhile (of two at once,
    the primary key keeps the first)."""
    return await insert_unless_present(session, REVOCATION, row)


async def has_cosignature(session: AsyncSession, size: int, witness_id: str) -> bool:
    query = select(_cosignature.size).where(
        _cosignature.size == size, _cosignature.witness_id == witness_id
    )
    return (await session.execute(query)).first() is not None


async def insert_cosignature(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a witness's cosignature of a checkpoint; False if it was stored meanwhile (of a
    witness's two posts at once, the primary key keeps the first)."""
    return await insert_unless_present(session, COSIGNATURE, row)
