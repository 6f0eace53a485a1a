"""What of a record a reconciliation may read and show: the caller's view of its list (fields
and coarsening) at the time the run started, applied before any matching; and which of the
evidence the run wrote under that view the caller may still be shown now."""

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


def narrowed_fields(
    spec: Mapping[str, object], fields: frozenset[str], coarsen: Mapping[str, str]
) -> frozenset[str]:
    """The fields a run read of a list (`spec`, its view as the run stored it) that a view
    granting `fields` with `coarsen` hides, or coarsens otherwise than the run read them: what
    the run's evidence may quote of the list beyond what that view shows."""
    stored = spec.get("coarsen", {})
    read_coarsened = stored if isinstance(stored, Mapping) else {}
    return frozenset(
        name
        for name in spec_fields(spec)
        if name not in fields or (name in coarsen and read_coarsened.get(name) != coarsen[name])
    )


# What a phrase may quote beyond the fields SOURCE_FIELDS shows it for: a given name is also
# compared as the whole name, given and family, and a swap quotes both (prepare.py's `full`,
# comparison.py), and a date's label names its calendar (`1362 SH`).
_ALSO_QUOTED = {"given": ("family_name",), "dob": ("dob_calendar",)}


def quoted_fields(field: str) -> frozenset[str]:
    """Every record field a phrase of this evidence field may quote."""
    return frozenset((*SOURCE_FIELDS.get(field, ()), *_ALSO_QUOTED.get(field, ())))


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
    items: list[dict[str, object]],
    left: frozenset[str],
    right: frozenset[str],
    narrowed: frozenset[str] = frozenset(),
) -> list[dict[str, object]]:
    """Evidence of fields both sides' current views show (a phrase quotes both values) and
    none of which the run read wider than they show now (`narrowed`, of either side: a phrase
    quotes the values as the run read them), and evidence that quotes no values
    (DERIVED_FIELDS)."""
    shown = []
    for item in items:
        field = str(item.get("field"))
        if field in DERIVED_FIELDS:
            shown.append(item)
            continue
        sources = SOURCE_FIELDS.get(field, ())
        seen = any(f in left for f in sources) and any(f in right for f in sources)
        if seen and narrowed.isdisjoint(quoted_fields(field)):
            shown.append(item)
    return shown
