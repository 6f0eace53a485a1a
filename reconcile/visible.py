"""What of a record a reconciliation may read and show: the caller's view of its list (fields
and coarsening) at the time the run started, applied before any matching."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchange.visibility import ListView, shape_fields
from reconcile.explain import DERIVED_FIELDS, SOURCE_FIELDS


def view_spec(view: ListView) -> dict[str, object]:
    return {"fields": sorted(view.fields), "coarsen": dict(view.coarsen)}


def spec_fields(spec: Mapping[str, object]) -> frozenset[str]:
    fields = spec.get("fields", [])
    return frozenset(str(f) for f in fields) if isinstance(fields, list) else frozenset()


def engine_row(row: Mapping[str, Any], view: ListView) -> dict[str, Any]:
    """The record as the engine reads it: invisible fields blank, dates coarsened, documents
    as `type:number;…`. `record_id` is the record's internal id (links refer to it)."""
    shaped = shape_fields(row, view)
    documents = shaped.get("documents") or []
    assert isinstance(documents, list)
    text = ";".join(f"{d['type']}:{d['number']}" for d in documents if isinstance(d, dict))
    return {
        **{k: v for k, v in shaped.items() if isinstance(v, str)},
        "documents": text,
        "record_id": row["id"],
    }


def visible_evidence(
    items: list[dict[str, object]], left: frozenset[str], right: frozenset[str]
) -> list[dict[str, object]]:
    """Evidence of fields both sides' current views show (a phrase quotes both values), and
    evidence that quotes no values (DERIVED_FIELDS)."""
    shown = []
    for item in items:
        if item.get("field") in DERIVED_FIELDS:
            shown.append(item)
            continue
        sources = SOURCE_FIELDS.get(str(item.get("field")), ())
        if any(f in left for f in sources) and any(f in right for f in sources):
            shown.append(item)
    return shown
