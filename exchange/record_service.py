"""Reading and changing single records: search with cursor pagination, get with an ETag,
corrections under If-Match, withdrawal as a tombstone, and version history. Every record a
response carries is disclosed to the audit with the fields shown."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from changes.service import record_changed
from exchange import repository
from exchange.field_rules import CONTROL, MAX_RECORD_ID
from exchange.keys import SEARCH_KEYS, document_key
from exchange.record_changes import InvalidChangesError, apply_changes
from exchange.record_data import (
    DOCUMENT_COLUMNS,
    VERSION_COLUMNS,
    content_columns,
    document_rows,
    snapshot,
    values_of,
)
from exchange.service import load_view
from exchange.visibility import ListView, check_filters, disclosed, require_owner, shape_fields
from letters import service as letters
from matching.dates import parse_birth_date
from problems import ProblemError, invalid_field
from schemas.records import (
    RecordHistory,
    RecordSearch,
    RecordUpdate,
    RecordVersionPublic,
    RecordWithdrawal,
)
from schemas.types import utcnow


@dataclass(frozen=True, slots=True)
class ShownRecord:
    """A record as the caller may see it, with the ETag of its current version."""

    body: dict[str, object]
    etag: str


def etag_of(version: int) -> str:
    return f'"v{version}"'


def shape_record(row: Mapping[str, Any], view: ListView) -> dict[str, object]:
    """The response body of one record for this view: tombstones carry no personal fields for
    recipients; only the owner sees the withdrawal's time and reason."""
    withdrawn = row["withdrawn_at"] is not None
    body: dict[str, object] = {
        "record_id": row["record_key"],
        "list_id": row["list_id"],
        "version": row["version"],
        "withdrawn": withdrawn,
    }
    if withdrawn and not view.is_owner:
        return body
    body.update(shape_fields(snapshot(row), view))
    if view.is_owner and withdrawn:
        body["withdrawn_at"] = row["withdrawn_at"]
        body["withdrawal_reason"] = row["withdrawal_reason"]
    return body


def _disclose(
    audit: AuditContext, view: ListView, row: Mapping[str, Any], shown: Mapping[str, object]
) -> None:
    audit.disclose(
        list_id=view.list_id,
        record_id=row["id"],
        record_key=row["record_key"],
        owner_agency_id=view.list.owner_agency_id,
        fields=disclosed(shown, view),
    )


def _encode_cursor(list_id: str, key: str) -> str:
    raw = json.dumps({"l": list_id, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(list_id: str, cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid_field("cursor", "not a cursor this service issued") from None
    if not isinstance(data, dict) or data.get("l") != list_id or not isinstance(data.get("k"), str):
        raise invalid_field("cursor", "not a cursor for this list")
    if len(data["k"]) > MAX_RECORD_ID or CONTROL.search(data["k"]):  # no record id of ours
        raise invalid_field("cursor", "not a cursor this service issued")
    key: str = data["k"]
    return key


def _conditions(query: RecordSearch) -> tuple[dict[str, object], str | None]:
    """Search keys for the repository, and the precision of the dob filter if one is given."""
    conditions: dict[str, object] = {}
    for name, key in SEARCH_KEYS.items():
        value = getattr(query, name)
        if value is not None:
            conditions[f"{name}_key"] = key(value)
    conditions["group_id"] = query.group_id
    conditions["letter_id"] = query.letter_id
    # a type alone finds the records holding a document of that type
    document_type = query.document_type.value if query.document_type else None
    conditions["document_type"] = document_type
    if query.document is not None:
        conditions["document"] = document_key(document_type or "", query.document)
    if query.dob_calendar is not None and query.dob is None:
        raise invalid_field("dob_calendar", "only with dob, whose calendar it names")
    precision = None
    if query.dob is not None:
        try:
            birth = parse_birth_date(query.dob, query.dob_calendar)
        except ValueError:
            raise invalid_field(
                "dob", "YYYY, YYYY-MM or YYYY-MM-DD in the given calendar"
            ) from None
        conditions["dob_range"] = (birth.earliest, birth.latest)
        precision = birth.precision
    return conditions, precision


async def search_records(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    query: RecordSearch,
) -> tuple[list[dict[str, object]], str | None]:
    """One page of matching records and the cursor of the next page (None at the end)."""
    view = await load_view(session, access, list_id, personal_data=True)
    filters = query.model_dump(exclude={"cursor", "limit"})
    conditions, precision = _conditions(query)
    name_fields = check_filters(filters, view, precision)
    if query.name is not None:
        # each visible name field, each compared by its own key of what was typed
        conditions["any_name"] = {f"{f}_key": SEARCH_KEYS[f](query.name) for f in name_fields}
    conditions["dob_by_year"] = "dob" in view.coarsen or None
    personal_filter = any(v is not None for k, v in conditions.items() if k != "dob_by_year")
    # A recipient must not learn that a withdrawn person matched a name or document.
    include_withdrawn = query.include_withdrawn and (view.is_owner or not personal_filter)
    after = _decode_cursor(list_id, query.cursor) if query.cursor else None
    rows = await repository.search_records(
        session,
        list_id,
        conditions=conditions,
        after_key=after,
        limit=query.limit + 1,
        include_withdrawn=include_withdrawn,
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = []
    for row in rows:
        shown = shape_record(row, view)
        _disclose(audit, view, row, shown)
        items.append(shown)
    next_cursor = _encode_cursor(list_id, rows[-1]["record_key"]) if more and rows else None
    return items, next_cursor


async def _record_of(session: AsyncSession, view: ListView, record_key: str) -> Mapping[str, Any]:
    row = await repository.get_record(session, view.list_id, record_key)
    if row is None:
        raise ProblemError("not-found", "no such record is visible to the caller")
    return row


async def get_record(
    session: AsyncSession, access: AccessContext, audit: AuditContext, list_id: str, record_key: str
) -> ShownRecord:
    view = await load_view(session, access, list_id, personal_data=True)
    row = await _record_of(session, view, record_key)
    shown = shape_record(row, view)
    _disclose(audit, view, row, shown)
    return ShownRecord(shown, etag_of(row["version"]))


def _check_if_match(if_match: str | None, version: int, *, required: bool) -> None:
    if if_match is None or not if_match.strip():
        if required:
            raise ProblemError(
                "precondition-required",
                "send If-Match with the record's ETag",
                invalid_params=[{"name": "If-Match", "reason": "missing"}],
            )
        return
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in tags and etag_of(version) not in tags:
        raise ProblemError("precondition-failed", "the record changed since that ETag")


async def _write_version(
    session: AsyncSession,
    access: AccessContext,
    row: Mapping[str, Any],
    changes: Mapping[str, Any],
    change: str,
) -> dict[str, Any]:
    """Store `changes` as the record's next version (optimistically) with its history row."""
    now = utcnow()
    version = row["version"] + 1
    stored = await repository.update_record(
        session, row["id"], row["version"], {**changes, "version": version, "updated_at": now}
    )
    if not stored:
        raise ProblemError("precondition-failed", "the record changed meanwhile")
    updated = {**row, **changes, "version": version, "updated_at": now}
    data = snapshot(updated)
    values = (row["id"], version, change, data, now, access.principal.client_id)
    await repository.insert_version(session, dict(zip(VERSION_COLUMNS, values, strict=True)))
    return updated


async def _owned_current(
    session: AsyncSession,
    access: AccessContext,
    list_id: str,
    record_key: str,
    if_match: str | None,
    *,
    if_match_required: bool,
) -> tuple[ListView, dict[str, Any]]:
    """The owner's view and the record it is about to change, checked against If-Match."""
    view = await load_view(session, access, list_id, personal_data=True)
    require_owner(view)
    row = await _record_of(session, view, record_key)
    _check_if_match(if_match, row["version"], required=if_match_required)
    if row["withdrawn_at"] is not None:
        raise ProblemError("conflict", "the record is withdrawn; it cannot change any more")
    return view, dict(row)


def _feed(session: AsyncSession, view: ListView, row: Mapping[str, Any], kind: str) -> None:
    """Tell the list's recipients through the change feed, in this transaction."""
    record_changed(
        session,
        kind=kind,
        list_id=view.list_id,
        owner_agency_id=view.list.owner_agency_id,
        records=[(row["id"], row["record_key"], row["version"])],
    )


async def _commit_shown(
    session: AsyncSession, audit: AuditContext, view: ListView, row: Mapping[str, Any]
) -> ShownRecord:
    shown = shape_record(row, view)
    _disclose(audit, view, row, shown)
    await commit_with_audit(session, audit, 200)
    return ShownRecord(shown, etag_of(row["version"]))


async def update_record(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    record_key: str,
    patch: RecordUpdate,
    if_match: str | None,
) -> ShownRecord:
    view, row = await _owned_current(
        session, access, list_id, record_key, if_match, if_match_required=True
    )
    try:
        values = apply_changes(values_of(row), patch)
    except InvalidChangesError as exc:
        raise ProblemError(
            "validation-failed",
            f"invalid: {exc}",
            invalid_params=[{"name": name, "reason": reason} for name, reason in exc.problems],
        ) from None
    columns = content_columns(values)
    if snapshot({**row, **columns}) != snapshot(row):
        documents_before = row["documents"]
        row = await _write_version(session, access, row, columns, "update")
        if columns["documents"] != documents_before:
            await repository.delete_documents(session, [row["id"]])
            documents = document_rows(row["id"], list_id, values)
            await repository.bulk_insert(session, repository.DOCUMENT, DOCUMENT_COLUMNS, documents)
        _feed(session, view, row, "corrected")
    return await _commit_shown(session, audit, view, row)


async def withdraw_record(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    list_id: str,
    record_key: str,
    withdrawal: RecordWithdrawal,
    if_match: str | None,
) -> ShownRecord:
    view, row = await _owned_current(
        session, access, list_id, record_key, if_match, if_match_required=False
    )
    withdrawn_at = utcnow()
    changes = {"withdrawn_at": withdrawn_at, "withdrawal_reason": withdrawal.reason}
    row = await _write_version(session, access, row, changes, "withdraw")
    await letters.revoke_letters_naming(session, row["id"], withdrawn_at)
    _feed(session, view, row, "withdrawn")
    return await _commit_shown(session, audit, view, row)


def _version_data(data: Mapping[str, Any], view: ListView, hidden: bool) -> dict[str, object]:
    if hidden:
        return {}
    return dict(data) if view.is_owner else shape_fields(data, view)


async def record_history(
    session: AsyncSession, access: AccessContext, audit: AuditContext, list_id: str, record_key: str
) -> RecordHistory:
    """Owner: every version's data. Recipient: each version cut to its agreement, and for a
    withdrawn record no data at all (the tombstone covers its history too)."""
    view = await load_view(session, access, list_id, personal_data=True)
    row = await _record_of(session, view, record_key)
    hidden = row["withdrawn_at"] is not None and not view.is_owner
    items = []
    shown_fields: dict[str, object] = {}
    for version in await repository.record_versions(session, row["id"]):
        data = _version_data(version["data"], view, hidden)
        shown_fields.update({k: v for k, v in data.items() if v not in (None, [], {})})
        who = {"changed_by_client_id": version["changed_by_client_id"]} if view.is_owner else {}
        items.append(
            RecordVersionPublic(
                version=version["version"],
                change=version["change"],
                changed_at=version["changed_at"],
                data=data,
                **who,
            )
        )
    _disclose(audit, view, row, shown_fields)
    return RecordHistory(record_id=record_key, items=items)
