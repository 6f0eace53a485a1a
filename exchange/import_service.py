"""Bulk import of an exchange file into a list: all-or-nothing, idempotent by key, with every
rejected row reported. New record ids create records; known ones become new versions."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from changes.service import RecordEvents
from database.statistics import refresh_statistics_after_commit
from exchange import repository
from exchange.bulk_gc import gc_paused
from exchange.exchange_format import (
    ExchangeFormat,
    ExchangeRow,
    ParseResult,
    RowRejection,
    format_for_media_type,
    iter_exchange,
)
from exchange.import_plan import (
    RECORD_COLUMNS,
    ImportPlan,
    PlanContext,
    plan_import,
    plan_new_records,
)
from exchange.record_data import DOCUMENT_COLUMNS, VERSION_COLUMNS
from exchange.service import load_view
from exchange.visibility import require_owner
from problems import ProblemError
from schemas.records import ImportBatch, ImportReport
from schemas.types import utcnow

MAX_IMPORT_BYTES = 200 * 1024 * 1024
CHUNK_ROWS = 50_000
MAX_REPORTED_REJECTIONS = 100_000  # a wholly wrong million-row file still gets a usable answer
# the tables an import grows, the first sizing the rest, for the planner's statistics
ANALYSED_TABLES = (repository.RECORD.name, repository.DOCUMENT.name)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _check_request(media_type: str, idempotency_key: str | None) -> tuple[ExchangeFormat, str]:
    if not idempotency_key or not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise ProblemError(
            "invalid-request",
            "send an Idempotency-Key header of 1-200 visible ASCII characters",
            invalid_params=[{"name": "Idempotency-Key", "reason": "missing or malformed"}],
        )
    fmt = format_for_media_type(media_type)
    if fmt is None:
        raise ProblemError(
            "unsupported-media-type",
            "send text/csv or application/x-ndjson in the exchange format",
        )
    return fmt, idempotency_key


def _report(batch: ImportBatch, replayed: bool) -> ImportReport:
    return ImportReport(
        import_id=batch.id,
        list_id=batch.list_id,
        status="completed",
        received=batch.received_count,
        created=batch.created_count,
        updated=batch.updated_count,
        unchanged=batch.unchanged_count,
        rejected=[],
        replayed=replayed,
    )


def _replay(batch: ImportBatch, digest: str) -> ImportReport:
    if batch.request_sha256 != digest:
        raise ProblemError(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request body",
            invalid_params=[{"name": "Idempotency-Key", "reason": "used for another body"}],
        )
    return _report(batch, replayed=True)


def _reject(list_id: str, received: int, rejected: list[RowRejection]) -> ProblemError:
    shown = rejected[:MAX_REPORTED_REJECTIONS]
    return ProblemError(
        "import-rejected",
        f"{len(rejected)} problem(s) in {received} row(s); nothing was imported",
        extensions={
            "list_id": list_id,
            "received": received,
            "rejected_count": len(rejected),
            "rejected": [asdict(r) for r in shown],
        },
    )


async def import_records(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    body: bytes,
    media_type: str,
    idempotency_key: str | None,
) -> ImportReport:
    """Import a whole file or nothing. A repeat with the same key and body replays the first
    report (`replayed`); the same key with another body is refused."""
    view = await load_view(session, access, list_id, personal_data=True)
    require_owner(view)
    fmt, key = _check_request(media_type, idempotency_key)
    digest = hashlib.sha256(fmt.encode() + b"\n" + body).hexdigest()
    earlier = await repository.find_import(session, list_id, key)
    if earlier is not None:
        return _replay(earlier, digest)
    batch = ImportBatch(
        list_id=list_id,
        idempotency_key=key,
        request_sha256=digest,
        client_id=access.principal.client_id,
    )
    try:
        # claim the key first: a concurrent import with the same key waits here, then fails
        await repository.lock_list(session, list_id)
        repository.add(session, batch)
        await session.flush()
    except IntegrityError:
        await session.rollback()
        winner = await repository.find_import(session, list_id, key)
        if winner is None:
            raise
        return _replay(winner, digest)
    owner = view.list.owner_agency_id
    progress = _Progress(
        created=RecordEvents("created", list_id, owner),
        updated=RecordEvents("corrected", list_id, owner),
    )
    await _store_file(session, progress, list_id, body, fmt, access.principal.client_id)
    if progress.rejected:
        # nothing is committed: the session's transaction is rolled back when it closes
        raise _reject(list_id, progress.received, progress.rejected)
    batch.received_count = progress.received
    batch.created_count = len(progress.created.tails)
    batch.updated_count = len(progress.updated.tails)
    batch.unchanged_count = progress.unchanged
    session.add(batch)
    await session.flush()
    report = _report(batch, replayed=False)
    progress.created.publish(session)
    progress.updated.publish(session)
    await commit_with_audit(session, audit, 201)
    written = batch.created_count + batch.updated_count
    await refresh_statistics_after_commit(session, ANALYSED_TABLES, written, list_id=list_id)
    return report


@dataclass(slots=True)
class _Progress:
    # the change feed's events of created and of corrected records: one per record
    created: RecordEvents
    updated: RecordEvents
    received: int = 0
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)


async def _store_file(
    session: AsyncSession,
    progress: _Progress,
    list_id: str,
    body: bytes,
    fmt: ExchangeFormat,
    client_id: str,
) -> None:
    """Parse and store chunk by chunk inside the caller's transaction: the next chunk is parsed
    and planned in a worker thread while the database stores the current one (on PostgreSQL
    another process, so the two overlap on two cores). After the first rejected row nothing
    more is written, but parsing goes on so the report names every rejected row."""
    now = utcnow()
    context = PlanContext(list_id, client_id, now, await repository.timestamp_text(session, now))
    list_was_empty = not await repository.list_has_records(session, list_id)
    prepared = _prepared_chunks(body, fmt, context if list_was_empty else None, progress.created)
    with gc_paused():
        pending = asyncio.ensure_future(asyncio.to_thread(next, prepared, None))
        while (item := await pending) is not None:
            # parse (and plan) the next chunk while this one is written
            pending = asyncio.ensure_future(asyncio.to_thread(next, prepared, None))
            chunk, plan = item
            progress.received += chunk.received
            progress.rejected.extend(chunk.rejected)
            if progress.rejected:
                continue
            existing: dict[str, dict[str, Any]] = {}
            if plan is None:  # the list had records: some rows may be new versions
                existing = await _existing(session, list_id, chunk.rows)
                progress.rejected.extend(_withdrawn(chunk.rows, existing))
                if progress.rejected:
                    continue
                plan = await asyncio.to_thread(plan_import, chunk.rows, existing, context)
                progress.created.add(_created(plan))
            await write_plan(session, plan)
            keys = {row["id"]: key for key, row in existing.items()}
            progress.updated.add((u["_id"], keys[u["_id"]], u["version"]) for u in plan.updates)
            progress.unchanged += plan.unchanged


def _created(plan: ImportPlan) -> Iterator[tuple[str, str, int]]:
    """(record uuid, record id, version 1) of each new record, for the change feed."""
    return ((str(row[0]), str(row[2]), 1) for row in plan.new_records)


def _prepared_chunks(
    body: bytes, fmt: ExchangeFormat, context: PlanContext | None, created: RecordEvents
) -> Iterator[tuple[ParseResult, ImportPlan | None]]:
    """Parsed chunks, each planned as well when `context` is given (a list that was empty, so
    every row is new and no lookup is needed), with its records' events added to `created`;
    planning stops at the first rejection."""
    rejected = False
    for chunk in iter_exchange(body, fmt, CHUNK_ROWS):
        rejected = rejected or bool(chunk.rejected)
        plan = None
        if context is not None and not rejected:
            if chunk.columns is not None:  # checked column-wise: plan without row objects
                plan = plan_new_records(chunk.columns, context)
            else:
                plan = plan_import(chunk.rows, {}, context)
            created.add(_created(plan))
        yield chunk, plan


def _withdrawn(rows: list[ExchangeRow], existing: dict[str, dict[str, Any]]) -> list[RowRejection]:
    return [
        RowRejection(row.row, "record_id", "record was withdrawn; import does not reinstate it")
        for row in rows
        if row.record_id in existing and existing[row.record_id]["withdrawn_at"] is not None
    ]


async def _existing(
    session: AsyncSession, list_id: str, rows: list[ExchangeRow]
) -> dict[str, dict[str, Any]]:
    return await repository.records_by_keys(session, list_id, [row.record_id for row in rows])


async def write_plan(session: AsyncSession, plan: ImportPlan) -> None:
    await repository.bulk_insert(session, repository.RECORD, RECORD_COLUMNS, plan.new_records)
    if plan.updates:
        updated = await repository.update_records(session, plan.updates)
        if updated not in (-1, len(plan.updates)):
            raise ProblemError("conflict", "records changed during the import; send it again")
        await repository.delete_documents(session, plan.replaced_document_owners)
    await repository.bulk_insert(session, repository.DOCUMENT, DOCUMENT_COLUMNS, plan.documents)
    await repository.bulk_insert(session, repository.VERSION, VERSION_COLUMNS, plan.versions)
