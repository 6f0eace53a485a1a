"""What a list's records lack of the fields that find a person in another agency's list: a card
or document number, a birth date to the day, a father's name, a family name, a name in Latin
script. Counted over all the list's records and over those a run left without any link, so an
agency sees which of its records to complete to have its people found (the list Pakistan was
given in 2023 "lacked fields"; docs/reconciliation.md, "Which noise limits it", measures what
each field is worth). Counts only, never a record.

A field the caller may not see, or sees coarsened, is not counted: its blank is the view's,
not the record's."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import numpy.typing as npt

from reconcile.table import RecordTable

Mask = npt.NDArray[np.bool_]


def _blank(field: str) -> Callable[[RecordTable], Mask]:
    def missing(table: RecordTable) -> Mask:
        result: Mask = table.columns[field].codes == 0
        return result

    return missing


def _no_day(table: RecordTable) -> Mask:
    """No birth date to the day: missing, a year or a month only, or 1 January (which the
    matching core reads as a year only, the day a clerk writes when nobody knows it)."""
    column = table.columns["dob"]
    vague = np.fromiter(
        (len(value) < 10 or value.endswith("-01-01") for value in column.values),
        np.bool_,
        len(column.values),
    )
    result: Mask = vague[column.codes]
    return result


# gap -> (the record field it reads, which records lack it)
GAPS: dict[str, tuple[str, Callable[[RecordTable], Mask]]] = {
    "document": ("documents", _blank("documents")),
    "birth_date_to_the_day": ("dob", _no_day),
    "father_name": ("father_name", _blank("father_name")),
    "family_name": ("family_name", _blank("family_name")),
    "latin_script_name": ("given_name", _blank("given_name")),
}


def missing_fields(
    table: RecordTable, linked: Mask, shown: Collection[str]
) -> dict[str, dict[str, int]]:
    """Per gap, how many records lack the field and how many of those have no link; only gaps
    whose field is among `shown` (visible to the caller and not coarsened)."""
    counts = {}
    for gap, (field, lacks) in GAPS.items():
        if field not in shown:
            continue
        missing = lacks(table)
        counts[gap] = {
            "records": int(missing.sum()),
            "unmatched": int((missing & ~linked).sum()),
        }
    return counts
