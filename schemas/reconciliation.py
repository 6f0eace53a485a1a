"""Tables and wire models of reconciliations: runs linking lists, the links they found with
their evidence, and the decisions people took on links (kept across runs)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from schemas.types import PortableJSON, UtcDateTime, new_id, utcnow

RunStatus = Literal["queued", "running", "completed", "failed"]
LinkDecision = Literal["accepted", "review", "confirmed", "rejected"]


class Reconciliation(SQLModel, table=True):
    __tablename__ = "reconciliation"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    owner_agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    created_by_client_id: str = Field(max_length=64)
    list_ids: list[str] = Field(sa_column=Column(PortableJSON, nullable=False))
    status: str = Field(default="queued", max_length=16)
    stage: str = Field(default="queued", max_length=32)
    progress: float = 0.0
    counts: dict[str, object] = Field(
        default_factory=dict, sa_column=Column(PortableJSON, nullable=False)
    )
    conflicts: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(PortableJSON, nullable=False)
    )
    # per list, the fields (and coarsening) the caller could see when the run started: the
    # run and its incremental updates read no more than that
    views: dict[str, dict[str, object]] = Field(
        default_factory=dict, sa_column=Column(PortableJSON, nullable=False)
    )
    error: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    # the change feed's head when the run read its lists: the incremental linker relinks
    # records whose changes come after it (reconcile.worker)
    feed_seq: int | None = Field(
        default=None, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    # the u the run weighed evidence with, per pair of lists ({"read_at": the feed position it
    # read them at, "pairs": left id -> right id -> field -> per level}): the incremental
    # linker weighs later changes with it while the lists changed little (never shown)
    pair_u: dict[str, object] | None = Field(
        default=None, sa_column=Column(PortableJSON, nullable=True)
    )
    # raised by every transaction that changes the run's links after it (a person's decision,
    # the incremental linker): the linker holds the links between polls while it is unchanged
    links_version: int = Field(
        default=0,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
        sa_column_kwargs={"server_default": "0"},
    )


class ReconciliationLink(SQLModel, table=True):
    """A candidate identity between two records of different lists, with the evidence."""

    __tablename__ = "reconciliation_link"
    __table_args__ = (
        UniqueConstraint(
            "reconciliation_id", "left_record_id", "right_record_id", name="uq_link_run_pair"
        ),
        Index("ix_link_run_decision", "reconciliation_id", "decision", "probability"),
        Index("ix_link_left", "left_record_id"),
        Index("ix_link_right", "right_record_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reconciliation_id: str = Field(foreign_key="reconciliation.id", max_length=36)
    left_list_id: str = Field(max_length=36)
    left_record_id: str = Field(foreign_key="record.id", max_length=36)
    right_list_id: str = Field(max_length=36)
    right_record_id: str = Field(foreign_key="record.id", max_length=36)
    probability: float
    decision: str = Field(max_length=16)
    evidence: list[dict[str, object]] = Field(sa_column=Column(PortableJSON, nullable=False))
    incremental: bool = False  # found after the run, when a record was added or changed
    # an accepted link a three-way conflict put in review: it still counts as a link when
    # conflicts are read again, and is accepted again once none holds it
    held_for_conflict: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LinkReview(SQLModel, table=True):
    """A person's decision on a pair of records; later runs keep it."""

    __tablename__ = "link_review"
    __table_args__ = (
        UniqueConstraint("agency_id", "left_record_id", "right_record_id", name="uq_review_pair"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agency.id", max_length=64)
    # the pair once, its ids in order (reconcile.repository.review_pair), not in its lists'
    # order: runs may list them either way round
    left_record_id: str = Field(foreign_key="record.id", max_length=36)
    right_record_id: str = Field(foreign_key="record.id", max_length=36)
    decision: str = Field(max_length=16)  # confirmed | rejected
    note: str | None = Field(default=None, max_length=1000)
    decided_by_client_id: str = Field(max_length=64)
    decided_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- wire models -------------------------------------------------------------------------


class ReconciliationCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    list_ids: list[str] = Field(min_length=2, max_length=3)


class ReconciliationPublic(SQLModel):
    id: str
    status: RunStatus
    stage: str
    progress: float
    list_ids: list[str]
    counts: dict[str, object] = Field(
        description=(
            "linked, needs_review (held_for_conflict of them held there by a three-way"
            " conflict), rejected, as they stand now; conflicts; per list id: records and"
            " unmatched as the run found them, unmatched with people's rejections since"
            " applied (no link but rejected ones); and missing_fields as the run found them"
            " (per gap -"
            " document, birth_date_to_the_day, father_name, family_name, latin_script_name -"
            " how many records lack it and how many of those have no link; only fields the"
            " caller sees as recorded)"
        )
    )
    conflicts: list[dict[str, object]] = Field(
        description=(
            "kind and the records (Sanad's internal record ids) of each conflict;"
            " GET .../conflicts shows each with its links and the agency's record ids"
        )
    )
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = None


class LinkEvidence(SQLModel):
    field: str
    level: str
    weight: float
    phrase: str | None = None


class LinkPublic(SQLModel):
    link_id: str
    decision: LinkDecision
    probability: float
    reason: str
    evidence: list[LinkEvidence]
    left: dict[str, object]
    right: dict[str, object]
    incremental: bool = False
    held_for_conflict: bool = Field(
        default=False,
        description=(
            "in review because a three-way conflict holds it, not for its score: accepted"
            " again when the conflict is settled (GET .../conflicts)"
        ),
    )


class LinkPage(SQLModel):
    items: list[LinkPublic]
    next_cursor: str | None


class LinkDecisionCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    decision: Literal["confirm", "reject"]
    note: str | None = Field(default=None, max_length=1000)


class DiscrepancyPublic(SQLModel):
    link_id: str
    kinds: list[str]
    details: list[str]
    left: dict[str, object]
    right: dict[str, object]


class DiscrepancyPage(SQLModel):
    items: list[DiscrepancyPublic]
    next_cursor: str | None


class ConflictPublic(SQLModel):
    """Records linked together, directly or through others, that cannot be one person."""

    kind: Literal["different third record", "missing third link"]
    links: list[LinkPublic] = Field(
        description="the run's links among the conflict's records, likeliest first"
    )


class ConflictPage(SQLModel):
    items: list[ConflictPublic]
    next_cursor: str | None
