"""Bulk import of an exchange file into a list: all-or-nothing, idempotent by key, with every
rejected row reported. New record ids create records; known ones become new versions."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from exchange import repository
from exchange.exchange_format import (
    ExchangeFormat,
    ExchangeRow,
    RowRejection,
    format_for_media_type,
    parse_exchange,
)
from exchange.import_plan import RECORD_COLUMNS, ImportPlan, plan_import
from exchange.record_data import DOCUMENT_COLUMNS, VERSION_COLUMNS
from exchange.service import load_view
from exchange.visibility import require_owner
from problems import ProblemError
from schemas.records import ImportBatch, ImportReport

MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_REPORTED_REJECTIONS = 100_000  # a wholly wrong million-row file still gets a usable answer
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _check_request(media_type: str, idempotency_key: str | None) -> ExchangeFormat:
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
    return fmt


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
    fmt = _check_request(media_type, idempotency_key)
    assert idempotency_key is not None
    digest = hashlib.sha256(fmt.encode() + b"\n" + body).hexdigest()
    earlier = await repository.find_import(session, list_id, idempotency_key)
    if earlier is not None:
        return _replay(earlier, digest)
    parsed = await asyncio.to_thread(parse_exchange, body, fmt)
    if parsed.rejected:
        raise _reject(list_id, parsed.received, parsed.rejected)
    batch = ImportBatch(
        list_id=list_id,
        idempotency_key=idempotency_key,
        request_sha256=digest,
        client_id=access.principal.client_id,
        received_count=parsed.received,
    )
    try:
        # claim the key first: a concurrent import with the same key waits here, then fails
        await repository.lock_list(session, list_id)
        repository.add(session, batch)
        await session.flush()
    except IntegrityError:
        await session.rollback()
        winner = await repository.find_import(session, list_id, idempotency_key)
        if winner is None:
            raise
        return _replay(winner, digest)
    existing = await _existing(session, list_id, parsed.rows)
    withdrawn = [
        RowRejection(row.row, "record_id", "record was withdrawn; import does not reinstate it")
        for row in parsed.rows
        if row.record_id in existing and existing[row.record_id]["withdrawn_at"] is not None
    ]
    if withdrawn:
        raise _reject(list_id, parsed.received, withdrawn)
    plan = await asyncio.to_thread(
        plan_import, parsed.rows, existing, list_id, access.principal.client_id
    )
    await write_plan(session, plan)
    batch.created_count = len(plan.new_records)
    batch.updated_count = len(plan.updates)
    batch.unchanged_count = plan.unchanged
    session.add(batch)
    await session.flush()
    report = _report(batch, replayed=False)
    await commit_with_audit(session, audit, 201)
    return report


async def _existing(
    session: AsyncSession, list_id: str, rows: list[ExchangeRow]
) -> dict[str, dict[str, Any]]:
    if not await repository.list_has_records(session, list_id):
        return {}  # the common first import: skip a million-key lookup
    return await repository.records_by_keys(session, list_id, [row.record_id for row in rows])


async def write_plan(session: AsyncSession, plan: ImportPlan) -> None:
    await repository.bulk_insert(session, repository.RECORD, RECORD_COLUMNS, plan.new_records)
    if plan.updates:
        updated = await repository.update_records(session, plan.updates)
        if updated not in (-1, len(plan.updates)):
            raise ProblemError("conflict", "records changed during the import; send it again")
        await repository.replace_documents(session, plan.replaced_document_owners, [])
    await repository.bulk_insert(session, repository.DOCUMENT, DOCUMENT_COLUMNS, plan.documents)
    await repository.bulk_insert(session, repository.VERSION, VERSION_COLUMNS, plan.versions)
