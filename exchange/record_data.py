"""A record's validated values as stored: table columns with their search keys, document rows,
and the snapshot kept in each version row. Shared by bulk import and single-record changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

from exchange.field_rules import SCALAR_FIELDS, BirthSpan, KeyedDocument, RecordValues
from exchange.keys import SEARCH_KEYS, document_key

# Columns of `record` an import or correction writes (besides ids, version and timestamps).
CONTENT_COLUMNS: tuple[str, ...] = (
    *SCALAR_FIELDS,
    "documents",
    "attributes",
    "dob_earliest",
    "dob_latest",
    "dob_year_earliest",
    "dob_year_latest",
    *(f"{name}_key" for name in SEARCH_KEYS),
)
_SPAN_COLUMNS = ("dob_earliest", "dob_latest", "dob_year_earliest", "dob_year_latest")
DOCUMENT_COLUMNS = ("record_id", "list_id", "doc_type", "number")
VERSION_COLUMNS = ("record_id", "version", "change", "data", "changed_at", "changed_by_client_id")


def _optional(key: Callable[[str], str]) -> Callable[[str | None], str | None]:
    return lambda name: key(name) if name else None


# (field, its search key or None when the field is empty), in CONTENT_COLUMNS order
NAME_KEYS = tuple((name, _optional(key)) for name, key in SEARCH_KEYS.items())


def content_columns(values: RecordValues) -> dict[str, Any]:
    """The `record` columns for these values, in CONTENT_COLUMNS order."""
    fields = values.fields
    span = values.dob_range
    return {
        **{name: fields.get(name) for name in SCALAR_FIELDS},
        "documents": [{"type": t, "number": n} for t, n in values.documents],
        "attributes": dict(values.attributes),
        "dob_earliest": span.earliest if span else None,
        "dob_latest": span.latest if span else None,
        "dob_year_earliest": span.year_earliest if span else None,
        "dob_year_latest": span.year_latest if span else None,
        **{f"{name}_key": search_key(fields.get(name)) for name, search_key in NAME_KEYS},
    }


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def values_of(row: Mapping[str, Any]) -> RecordValues:
    """The validated values of a stored record (inverse of `content_columns`)."""
    fields = {name: str(_plain(row[name])) for name in SCALAR_FIELDS if row[name] is not None}
    span = (
        row["dob_earliest"],
        row["dob_latest"],
        row["dob_year_earliest"],
        row["dob_year_latest"],
    )
    return RecordValues(
        fields=fields,
        documents=[(d["type"], d["number"]) for d in row["documents"] or []],
        attributes=dict(row["attributes"] or {}),
        dob_range=BirthSpan(*span) if all(d is not None for d in span) else None,
    )


def snapshot(row: Mapping[str, Any]) -> dict[str, object]:
    """What a version row keeps: the exchange fields with a value, documents, attributes, and
    the withdrawal when there is one."""
    data: dict[str, object] = {
        name: _plain(row[name]) for name in SCALAR_FIELDS if row.get(name) is not None
    }
    if row.get("documents"):
        data["documents"] = [dict(d) for d in row["documents"]]
    if row.get("attributes"):
        data["attributes"] = dict(row["attributes"])
    withdrawn_at = row.get("withdrawn_at")
    if isinstance(withdrawn_at, dt.datetime):
        data["withdrawn_at"] = withdrawn_at.isoformat()
        data["withdrawal_reason"] = row.get("withdrawal_reason")
    return data


def document_rows(record_id: str, list_id: str, values: RecordValues) -> list[tuple[str, ...]]:
    """One searchable row per distinct (type, normalised number) of the record."""
    return keyed_document_rows(
        record_id, list_id, ((t, n, document_key(t, n)) for t, n in values.documents)
    )


def keyed_document_rows(
    record_id: str, list_id: str, documents: Iterable[KeyedDocument]
) -> list[tuple[str, ...]]:
    """`document_rows` of documents whose keys validation already computed."""
    seen = {(doc_type, key) for doc_type, _, key in documents}
    return [(record_id, list_id, t, key) for t, key in sorted(seen)]


@lru_cache(maxsize=65536)
def span_text(span: BirthSpan) -> tuple[str, str, str, str]:
    """The four `dob_*` columns of a birth span as the bulk paths' date text (cached: a
    million-record list holds a few tens of thousands of distinct dates)."""
    return (
        span.earliest.isoformat(),
        span.latest.isoformat(),
        span.year_earliest.isoformat(),
        span.year_latest.isoformat(),
    )
