"""The sequencer: moves committed audit events from the queue into the Merkle tree, assigning
contiguous leaf indexes, and publishes a signed checkpoint per batch, all in one transaction
under a lock that admits one sequencer at a time across every worker process."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event

from database.engine import make_sync_engine
from schemas.types import utcnow
from tlog.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from tlog.merkle import CompactRange, NodeMap, nodes_needed
from transparency import repository
from transparency.keys import LogKeyPlace, load_log_signer
from transparency.leaf import encode_leaf

log = structlog.get_logger(__name__)
_LEAF_PREFIX = b"\x00"
_SQLITE_LOCK_WAIT_MS = 5000
_SQLITE_CACHE_KIB = 65_536
LEAF_COLUMNS = ("leaf_index", "event_id", "leaf_hash")
NODE_COLUMNS = ("level", "node_index", "hash")


class LogCorruptedError(RuntimeError):
    """The stored tree disagrees with the latest checkpoint: the log must not be extended."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    integrated: int
    tree_size: int
    locked_out: bool = False


def make_sequencer_engine(database_url: str) -> Engine:
    """A synchronous engine whose SQLite transactions start with BEGIN IMMEDIATE, so a batch
    holds the database write lock from its first read: the tree it extends cannot move."""
    engine = make_sync_engine(database_url)
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not issue its own BEGIN
        dbapi_connection.execute(f"PRAGMA busy_timeout={_SQLITE_LOCK_WAIT_MS}")
        # random uuid lookups and index inserts: a larger page cache than SQLite's 2 MB
        dbapi_connection.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        origin: str,
        key_place: LogKeyPlace | None = None,
        batch_max: int = 5000,
    ) -> None:
        self._engine = engine
        self._origin = origin
        self._key_place = key_place or LogKeyPlace()
        self._batch_max = batch_max
        self._signer: NoteSigner | None = None

    def ensure_log(self) -> None:
        """Create the log (key and empty checkpoint) if this database has none yet."""
        with self._engine.begin() as conn:
            if repository.try_sequencer_lock(conn):
                self._log_signer(conn)

    def sequence_batch(self) -> BatchResult:
        """Integrate up to `batch_max` queued events; blocking, run it in a worker thread."""
        with self._engine.begin() as conn:
            if not repository.try_sequencer_lock(conn):
                return BatchResult(0, 0, locked_out=True)
            signer = self._log_signer(conn)
            pending = repository.pending_events(conn, self._batch_max)
            head = repository.latest_head(conn)
            assert head is not None  # the log was created with its empty checkpoint
            if not pending:
                return BatchResult(0, head.size)
            tree = self._resume(conn, head)
            events = [row for _, row in pending]
            disclosures = repository.queued_disclosures(conn, pending[0][0], pending[-1][0])
            leaves: list[tuple[int, str, bytes]] = []
            nodes: list[tuple[int, int, bytes]] = []
            for row in events:
                entry = encode_leaf(row, disclosures.get(row["id"], ()))
                digest = sha256(_LEAF_PREFIX + entry).digest()
                leaves.append((tree.size, row["id"], digest))
                # the leaf itself goes to tlog_leaf; the perfect subtrees it completes to tlog_node
                nodes += ((node.level, node.index, node.hash) for node in tree.append(digest)[1:])
            repository.insert_rows(conn, repository.LEAF, LEAF_COLUMNS, leaves)
            repository.insert_rows(conn, repository.NODE, NODE_COLUMNS, nodes)
            self._publish(conn, signer, tree)
            repository.dequeue(conn, [seq for seq, _ in pending])
        return BatchResult(len(leaves), tree.size)

    def _log_signer(self, conn: Connection) -> NoteSigner:
        if self._signer is None:
            self._signer = load_log_signer(conn, self._origin, self._key_place)
        return self._signer

    @staticmethod
    def _resume(conn: Connection, head: repository.TreeHead) -> CompactRange:
        """The tree's right edge from O(log n) stored nodes, checked against the checkpoint."""
        wanted = nodes_needed(lambda reader: CompactRange.from_reader(reader, head.size))
        tree = CompactRange.from_reader(NodeMap(repository.fetch_nodes(conn, wanted)), head.size)
        if tree.root() != head.root_hash:
            raise LogCorruptedError(f"stored nodes do not match the checkpoint of size {head.size}")
        return tree

    @staticmethod
    def _publish(conn: Connection, signer: NoteSigner, tree: CompactRange) -> None:
        root = tree.root()
        note = sign_checkpoint(Checkpoint(signer.name, tree.size, root), signer)
        repository.insert_checkpoint(
            conn,
            {
                "size": tree.size,
                "root_hash": root,
                "created_at": utcnow(),
                "signed_note": note.decode(),
            },
        )
