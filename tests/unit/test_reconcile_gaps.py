"""Counting what a list's records lack of the fields that find a person, over all records and
over those left without a link; fields the caller does not see as recorded are not counted."""

from __future__ import annotations

import numpy as np

from reconcile.gaps import GAPS, missing_fields
from reconcile.table import LINK_FIELDS, RecordTable

ROWS = [
    {"record_id": "A", "given_name": "Nabi", "father_name": "Gul", "dob": "1984-03-21",
     "documents": "por:PK-1", "family_name": "Ahmadzai"},
    {"record_id": "B", "given_name": "", "name_native": "نبی", "father_name": "",
     "dob": "1988-01-01", "documents": ""},
    {"record_id": "C", "given_name": "Yusuf", "father_name": "Syed", "dob": "1362"},
    {"record_id": "D", "given_name": "Freshta", "father_name": "Gul", "dob": "1990-07"},
]  # fmt: skip


def test_each_gap_is_counted_over_all_records_and_the_unlinked() -> None:
    table = RecordTable.from_rows(ROWS)
    linked = np.array([True, True, False, False])
    counts = missing_fields(table, linked, frozenset(LINK_FIELDS))
    assert counts == {
        "document": {"records": 3, "unmatched": 2},
        # 1 January, a year only and a month only all lack the day
        "birth_date_to_the_day": {"records": 3, "unmatched": 2},
        "father_name": {"records": 1, "unmatched": 0},
        "family_name": {"records": 3, "unmatched": 2},
        "latin_script_name": {"records": 1, "unmatched": 0},
    }


def test_a_field_the_caller_does_not_see_as_recorded_is_not_counted() -> None:
    table = RecordTable.from_rows(ROWS)
    shown = frozenset(LINK_FIELDS) - {"documents", "dob"}  # hidden, and coarsened
    counts = missing_fields(table, np.zeros(len(ROWS), np.bool_), shown)
    assert set(counts) == set(GAPS) - {"document", "birth_date_to_the_day"}
    assert counts["father_name"] == {"records": 1, "unmatched": 1}
