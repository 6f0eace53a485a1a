"""Turn validated exchange rows into table rows for one import: new records, new versions of
known records, or nothing when a row repeats the current version. Runs off the event loop;
new rows come out ready for the bulk paths (JSON already encoded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import orjson

from exchange.bulk_gc import gc_paused
from exchange.columns import ValidColumns
from exchange.exchange_format import ExchangeRow
from exchange.field_rules import SCALAR_FIELDS, RecordValues
from exchange.ids import time_ordered_ids
from exchange.record_data import (
    CONTENT_COLUMNS,
    NAME_KEYS,
    content_columns,
    document_rows,
    keyed_document_rows,
    snapshot,
    span_text,
)

_NO_SPAN = (None, None, None, None)
RECORD_COLUMNS = (
    "id",
    "list_id",
    "record_key",
    "version",
    *CONTENT_COLUMNS,
    "created_at",
    "updated_at",
)


@dataclass(slots=True)
class ImportPlan:
    new_records: list[tuple[str | None, ...]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    documents: list[tuple[str, ...]] = field(default_factory=list)
    versions: list[tuple[str | None, ...]] = field(default_factory=list)
    replaced_document_owners: list[str] = field(default_factory=list)
    unchanged: int = 0


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def values_snapshot(values: RecordValues) -> dict[str, object]:
    """`record_data.snapshot` of a record holding these values, built without the columns."""
    data: dict[str, object] = dict(values.fields)
    if values.documents:
        data["documents"] = [{"type": t, "number": n} for t, n in values.documents]
    if values.attributes:
        data["attributes"] = dict(values.attributes)
    return data


def _record_row(
    record_id: str, list_id: str, row: ExchangeRow, data: dict[str, object], now: str
) -> tuple[str | None, ...]:
    """One `record` row as text in RECORD_COLUMNS order (CONTENT_COLUMNS spelled out for
    speed: this runs a million times in a large import)."""
    values = row.values
    fields = values.fields
    span = values.dob_range
    return (
        record_id,
        list_id,
        row.record_id,
        "1",
        *map(fields.get, SCALAR_FIELDS),
        _json(data.get("documents", [])),
        _json(values.attributes),
        *(span_text(span) if span else _NO_SPAN),
        *(key(fields.get(name)) for name, key in NAME_KEYS),
        now,
        now,
    )


@dataclass(frozen=True, slots=True)
class PlanContext:
    """Where and when: the list, the importing client, and the time (as a value for ordinary
    updates and as the bulk paths' timestamp text)."""

    list_id: str
    client_id: str
    now: dt.datetime
    now_text: str


def plan_import(
    rows: list[ExchangeRow], existing: dict[str, dict[str, Any]], context: PlanContext
) -> ImportPlan:
    with gc_paused():
        return _plan(rows, existing, context)


def _plan(
    rows: list[ExchangeRow], existing: dict[str, dict[str, Any]], context: PlanContext
) -> ImportPlan:
    plan = ImportPlan()
    list_id, now, now_text = context.list_id, context.now, context.now_text
    new_ids = iter(time_ordered_ids(sum(row.record_id not in existing for row in rows)))
    for row in rows:
        data = values_snapshot(row.values)
        current = existing.get(row.record_id)
        if current is None:
            record_id = next(new_ids)
            plan.new_records.append(_record_row(record_id, list_id, row, data, now_text))
            version, change = 1, "create"
        elif data == snapshot(current):
            plan.unchanged += 1
            continue
        else:
            record_id = current["id"]
            version, change = current["version"] + 1, "update"
            plan.updates.append(
                {
                    **content_columns(row.values),
                    "version": version,
                    "updated_at": now,
                    "_id": record_id,
                    "_expected_version": current["version"],
                }
            )
            plan.replaced_document_owners.append(record_id)
        plan.documents.extend(document_rows(record_id, list_id, row.values))
        plan.versions.append(
            (record_id, str(version), change, _json(data), now_text, context.client_id)
        )
    return plan


def plan_new_records(columns: ValidColumns, context: PlanContext) -> ImportPlan:
    """`plan_import` of a chunk the column-wise path accepted, into a list that had no records:
    the same plan, built column by column where it can be (the `record` rows are zipped from
    whole columns; only each version's snapshot and the documents are built row by row)."""
    with gc_paused():
        return _plan_columns(columns, context)


def _plan_columns(columns: ValidColumns, context: PlanContext) -> ImportPlan:
    count = len(columns.record_ids)
    list_id, now_text, client_id = context.list_id, context.now_text, context.client_id
    ids = time_ordered_ids(count)
    names = list(columns.scalars)
    cells = zip(*columns.scalars.values(), strict=True) if names else [()] * count
    plan = ImportPlan()
    documents_json: list[str] = []
    for record_id, values, documents, attributes in zip(
        ids, cells, columns.documents, columns.attributes, strict=True
    ):
        data: dict[str, object] = {
            name: value for name, value in zip(names, values, strict=True) if value is not None
        }
        if documents:
            listed = [{"type": doc_type, "number": number} for doc_type, number, _ in documents]
            data["documents"] = listed
            documents_json.append(_json(listed))
            plan.documents.extend(keyed_document_rows(record_id, list_id, documents))
        else:
            documents_json.append("[]")
        if attributes:
            data["attributes"] = attributes
        plan.versions.append((record_id, "1", "create", _json(data), now_text, client_id))
    none: list[str | None] = [None] * count
    spans = [span_text(span) if span else _NO_SPAN for span in columns.dob_ranges]
    plan.new_records = list(
        zip(
            ids,
            repeat(list_id),
            columns.record_ids,
            repeat("1"),
            *(columns.scalars.get(name, none) for name in SCALAR_FIELDS),
            documents_json,
            [_json(attributes) if attributes else "{}" for attributes in columns.attributes],
            *(zip(*spans, strict=True) if spans else ((),) * len(_NO_SPAN)),
            *(_column_keys(key, columns.scalars.get(name, none)) for name, key in NAME_KEYS),
            repeat(now_text),
            repeat(now_text),
        )
    )
    return plan


def _column_keys(
    key: Callable[[str | None], str | None], column: list[str | None]
) -> list[str | None]:
    """The search key of each value of a column, computed once per distinct value."""
    keys = {value: key(value) for value in set(column)}
    return list(map(keys.__getitem__, column))
