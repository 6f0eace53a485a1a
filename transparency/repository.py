"""All SQL of the transparency log: the sequencing queue, leaves, nodes, checkpoints, the log
key, witnesses and cosignatures. Synchronous functions serve the sequencer, export and verify
(they run in worker threads or the CLI); async ones serve the API."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers every table on the metadata)

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
_event = EVENT.c
_disclosure = DISCLOSURE.c
_pending = PENDING.c
_leaf = LEAF.c
_node = NODE.c
_checkpoint = CHECKPOINT.c
_witness = WITNESS.c
_cosignature = COSIGNATURE.c

ID_CHUNK = 2000  # bound parameters per IN (...) lookup; SQLite allows 32766
INSERT_CHUNK = 5000
# One sequencer at a time across every worker process: a transaction-scoped PostgreSQL
# advisory lock under this key (SQLite: the write lock taken by BEGIN IMMEDIATE).
SEQUENCER_LOCK_KEY = zlib.crc32(b"sanad.transparency.sequencer")

NodeKey = tuple[int, int]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def _node_queries(wanted: Iterable[NodeKey]) -> tuple[Select[Any] | None, Select[Any] | None]:
    """One query for leaf hashes (level 0) and one for interior nodes, grouped by level."""
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        by_level.setdefault(level, []).append(index)
    leaves = by_level.pop(0, None)
    leaf_query = None
    if leaves:
        leaf_query = select(_leaf.leaf_index, _leaf.leaf_hash).where(_leaf.leaf_index.in_(leaves))
    node_query = None
    if by_level:
        node_query = select(_node.level, _node.node_index, _node.hash).where(
            or_(*(and_(_node.level == lv, _node.node_index.in_(ix)) for lv, ix in by_level.items()))
        )
    return leaf_query, node_query


def _collect_nodes(leaf_rows: Iterable[Any], node_rows: Iterable[Any]) -> dict[NodeKey, bytes]:
    nodes = {(0, int(row[0])): bytes(row[1]) for row in leaf_rows}
    nodes.update({(int(row[0]), int(row[1])): bytes(row[2]) for row in node_rows})
    return nodes


def fetch_nodes(conn: Connection, wanted: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    leaf_query, node_query = _node_queries(wanted)
    leaf_rows = conn.execute(leaf_query).all() if leaf_query is not None else []
    node_rows = conn.execute(node_query).all() if node_query is not None else []
    return _collect_nodes(leaf_rows, node_rows)


def pending_events(conn: Connection, limit: int) -> list[tuple[int, RowMapping]]:
    """The oldest queued events with all their columns, in queue order."""
    query = (
        select(_pending.seq, EVENT)
        .join(EVENT, _event.id == _pending.event_id)
        .order_by(_pending.seq)
        .limit(limit)
    )
    return [(int(row["seq"]), row) for row in conn.execute(query).mappings()]


def disclosures_of(conn: Connection, event_ids: Sequence[str]) -> dict[str, list[RowMapping]]:
    found: dict[str, list[RowMapping]] = {}
    for chunk in _chunks(event_ids, ID_CHUNK):
        rows = conn.execute(select(DISCLOSURE).where(_disclosure.event_id.in_(chunk))).mappings()
        for row in rows:
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
    for chunk in _chunks(seqs, ID_CHUNK):
        conn.execute(delete(PENDING).where(_pending.seq.in_(chunk)))


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
    query = (
        select(COSIGNATURE, _witness.name, _witness.verifier_key, _witness.agency_id)
        .join(WITNESS, _witness.id == _cosignature.witness_id)
        .order_by(_cosignature.size, _witness.name)
    )
    return list(conn.execute(query).mappings())


def witnesses(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(WITNESS).order_by(_witness.created_at)).mappings())


def tree_size(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(LEAF)).scalar_one())


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
            select(LEAF, EVENT)
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
            select(DISCLOSURE)
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
    query = select(LOG_KEY.c.origin, LOG_KEY.c.verifier_key)
    return (await session.execute(query)).mappings().first()


async def checkpoint_at(session: AsyncSession, size: int | None) -> RowMapping | None:
    """The checkpoint of that size, or the latest one when size is None."""
    query = select(CHECKPOINT)
    if size is None:
        query = query.order_by(_checkpoint.size.desc()).limit(1)
    else:
        query = query.where(_checkpoint.size == size)
    return (await session.execute(query)).mappings().first()


async def latest_size(session: AsyncSession) -> int:
    size = await session.execute(select(func.max(_checkpoint.size)))
    return int(size.scalar_one() or 0)


async def cosignatures_at(session: AsyncSession, size: int) -> list[RowMapping]:
    query = (
        select(COSIGNATURE, _witness.name, _witness.agency_id)
        .join(WITNESS, _witness.id == _cosignature.witness_id)
        .where(_cosignature.size == size)
        .order_by(_witness.name, _witness.id)
    )
    return list((await session.execute(query)).mappings())


async def fetch_nodes_async(
    session: AsyncSession, wanted: Sequence[NodeKey]
) -> dict[NodeKey, bytes]:
    leaf_query, node_query = _node_queries(wanted)
    leaf_rows = (await session.execute(leaf_query)).all() if leaf_query is not None else []
    node_rows = (await session.execute(node_query)).all() if node_query is not None else []
    return _collect_nodes(leaf_rows, node_rows)


async def leaf_hash_at(session: AsyncSession, leaf_index: int) -> bytes | None:
    query = select(_leaf.leaf_hash).where(_leaf.leaf_index == leaf_index)
    digest = (await session.execute(query)).scalar_one_or_none()
    return bytes(digest) if digest is not None else None


async def leaf_indexes_of(session: AsyncSession, event_ids: Sequence[str]) -> dict[str, int]:
    query = select(_leaf.event_id, _leaf.leaf_index).where(_leaf.event_id.in_(event_ids))
    return {str(e): int(i) for e, i in (await session.execute(query)).all()}


async def witness_by_key(session: AsyncSession, verifier_key: str) -> RowMapping | None:
    query = select(WITNESS).where(_witness.verifier_key == verifier_key)
    return (await session.execute(query)).mappings().first()


async def witnesses_of(session: AsyncSession, agency_id: str | None) -> list[RowMapping]:
    query = select(WITNESS).order_by(_witness.created_at, _witness.id)
    if agency_id is not None:
        query = query.where(_witness.agency_id == agency_id)
    return list((await session.execute(query)).mappings())


async def insert_witness(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(WITNESS), [dict(row)])


async def has_cosignature(session: AsyncSession, size: int, witness_id: str) -> bool:
    query = select(_cosignature.size).where(
        _cosignature.size == size, _cosignature.witness_id == witness_id
    )
    return (await session.execute(query)).first() is not None


async def insert_cosignature(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(COSIGNATURE), [dict(row)])
