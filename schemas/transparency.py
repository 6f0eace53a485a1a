"""Tables and wire models of the audit transparency log: the sequencing queue, leaves, perfect
subtree nodes, signed checkpoints, the log key, registered witnesses, their revocations and
their cosignatures."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict
from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, Text
from sqlmodel import Field, SQLModel

from schemas.types import UtcDateTime, utcnow

# SQLite only auto-assigns an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for a long-lived log.
_QUEUE_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class TlogPending(SQLModel, table=True):
    """Audit events committed but not yet in the tree. Filled by a database trigger on every
    `audit_event` insert (same transaction), emptied by the sequencer as it integrates them.
    `seq` only orders the queue; leaf indexes are assigned by the sequencer, never from it."""

    __tablename__ = "tlog_pending"

    seq: int | None = Field(default=None, primary_key=True, sa_type=_QUEUE_SEQ)
    event_id: str = Field(max_length=36)
    enqueued_at: float  # POSIX seconds at insert, for the backlog-age bound


class TlogLeaf(SQLModel, table=True):
    """Leaf `leaf_index` of the tree is the audit event `event_id`; its RFC 9162 leaf hash."""

    __tablename__ = "tlog_leaf"

    leaf_index: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    event_id: str = Field(max_length=36, unique=True)
    leaf_hash: bytes = Field(sa_type=LargeBinary)


class TlogNode(SQLModel, table=True):
    """Hash of the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level), for
    level >= 1 (level 0 is `tlog_leaf.leaf_hash`). Written once, when the subtree completes."""

    __tablename__ = "tlog_node"

    level: int = Field(
        primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False}
    )
    node_index: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    hash: bytes = Field(sa_type=LargeBinary)


class TlogCheckpoint(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) the sequencer published."""

    __tablename__ = "tlog_checkpoint"

    size: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    root_hash: bytes = Field(sa_type=LargeBinary)
    created_at: dt.datetime = Field(sa_type=UtcDateTime)
    signed_note: str = Field(sa_type=Text)


class TlogLogKey(SQLModel, table=True):
    """The log's Ed25519 note key. `signer_key` is NULL when the private key lives in the key
    file named by `SANAD_TRANSPARENCY_SIGNING_KEY_FILE` (then only its public half is here)."""

    __tablename__ = "tlog_log_key"

    origin: str = Field(primary_key=True, max_length=200)
    verifier_key: str = Field(max_length=400)
    signer_key: str | None = Field(default=None, max_length=400)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TlogWitness(SQLModel, table=True):
    """A witness key an agency registered; it may cosign checkpoints for that agency.

    One row per key, revoked ones included, whichever agency registered it: unique by public
    key (a cosignature does not sign the key's name, so the same key under another name could
    pass another's cosignatures off as its own, or bring a revoked key back) and by name and
    key id (what a signature line names; two keys answering to one would make every note they
    cosigned ambiguous). `verifier_key` and `key_id` are stored in canonical spelling."""

    __tablename__ = "tlog_witness"
    __table_args__ = (
        Index("ix_tlog_witness_agency", "agency_id"),
        Index("uq_tlog_witness_public_key", "public_key", unique=True),
        Index("uq_tlog_witness_name_key_id", "name", "key_id", unique=True),
    )

    id: str = Field(primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agency.id", max_length=64)
    name: str = Field(max_length=200)
    key_id: str = Field(max_length=8)  # lower-case hex
    verifier_key: str = Field(max_length=400, unique=True)
    public_key: bytes = Field(sa_type=LargeBinary)  # raw Ed25519 key (type 0x04 is implied)
    created_at: dt.datetime = Field(sa_type=UtcDateTime)
    created_by_client_id: str = Field(max_length=64)


class TlogWitnessRevocation(SQLModel, table=True):
    """A witness key its agency revoked (its private key lost or leaked): from then on its
    cosignatures, earlier ones included, count nowhere. Written once; a revoked key stays
    revoked and cannot be registered again."""

    __tablename__ = "tlog_witness_revocation"

    witness_id: str = Field(primary_key=True, max_length=36, foreign_key="tlog_witness.id")
    revoked_at: dt.datetime = Field(sa_type=UtcDateTime)
    revoked_by_client_id: str = Field(max_length=64)
    reason: str = Field(max_length=500)


class TlogCosignature(SQLModel, table=True):
    """A witness's tlog-cosignature/v1 of the checkpoint of `size` (signature line payload)."""

    __tablename__ = "tlog_cosignature"

    size: int = Field(
        primary_key=True, sa_type=BigInteger, foreign_key="tlog_checkpoint.size",
        sa_column_kwargs={"autoincrement": False},
    )  # fmt: skip
    witness_id: str = Field(primary_key=True, max_length=36, foreign_key="tlog_witness.id")
    timestamp: int = Field(sa_type=BigInteger)  # POSIX seconds the witness signed at
    signature: bytes = Field(sa_type=LargeBinary)  # key id || timestamp || Ed25519 signature
    received_at: dt.datetime = Field(sa_type=UtcDateTime)


# --- wire models ---------------------------------------------------------------------------


class CosignaturePublic(SQLModel):
    witness_id: str
    witness_name: str
    agency_id: str
    timestamp: int


class CheckpointPublic(SQLModel):
    """A checkpoint with every cosignature received so far; `note` is the signed note text
    (log signature, then cosignature lines) that transparency tooling reads."""

    origin: str
    size: int
    root_hash: str  # standard base64, as in the note
    created_at: dt.datetime
    log_key: str  # the log's verifier key (name+id+base64 key)
    note: str
    cosignatures: list[CosignaturePublic]


class InclusionProof(SQLModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProof(SQLModel):
    first: int
    second: int
    proof: list[str]


class CosignatureSubmission(SQLModel):
    """The checkpoint note exactly as served, with the witness's cosignature line appended."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    note: str = Field(min_length=1, max_length=20_000)


class WitnessCreate(SQLModel):
    """A witness key in note verifier-key form: `name+hex key id+base64(0x04 || Ed25519 key)`."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    verifier_key: str = Field(min_length=1, max_length=400)


class WitnessRevocationCreate(SQLModel):
    """Why the key is revoked (public: every agency's auditors read the witness list)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    reason: str = Field(min_length=1, max_length=500)


class WitnessPublic(SQLModel):
    id: str
    agency_id: str
    name: str
    key_id: str
    verifier_key: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None


class WitnessList(SQLModel):
    items: list[WitnessPublic]
