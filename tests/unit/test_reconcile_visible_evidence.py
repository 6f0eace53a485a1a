"""Which of a run's evidence the caller may still read: none that quotes a field its view now
hides or coarsens more than the run read it, a given name's phrase counting the family name it
may quote, and evidence that quotes no value whatever the view."""

from __future__ import annotations

from reconcile.visible import narrowed_fields, visible_evidence

RUN_VIEW = {"fields": ["dob", "family_name", "given_name"], "coarsen": {}}
BOTH = frozenset(RUN_VIEW["fields"])
ITEMS = [
    {"field": "given", "level": "swapped", "weight": 9.0, "phrase": "given and family names ..."},
    {"field": "dob", "level": "same month", "weight": 5.0, "phrase": "DOB month agrees (...)"},
    {"field": "competition", "level": "alone", "weight": 0.0, "phrase": "no other candidate"},
]


def _fields(items: list[dict[str, object]]) -> list[object]:
    return [item["field"] for item in items]


def test_a_view_hides_or_coarsens_what_the_run_read_wider() -> None:
    assert narrowed_fields(RUN_VIEW, BOTH, {}) == frozenset()
    assert narrowed_fields(RUN_VIEW, BOTH, {"dob": "year_only"}) == {"dob"}
    assert narrowed_fields(RUN_VIEW, BOTH - {"family_name"}, {}) == {"family_name"}
    read_by_year = {"fields": ["dob"], "coarsen": {"dob": "year_only"}}
    assert narrowed_fields(read_by_year, frozenset({"dob"}), {"dob": "year_only"}) == frozenset()
    assert narrowed_fields(read_by_year, frozenset({"dob"}), {}) == frozenset()  # wider now


def test_evidence_quoting_a_narrowed_field_is_not_shown() -> None:
    assert _fields(visible_evidence(ITEMS, BOTH, BOTH)) == ["given", "dob", "competition"]
    assert _fields(visible_evidence(ITEMS, BOTH, BOTH, frozenset({"dob"}))) == [
        "given",
        "competition",
    ]
    # a given name's phrase may quote the whole name, family name included
    assert _fields(visible_evidence(ITEMS, BOTH, BOTH, frozenset({"family_name"}))) == [
        "dob",
        "competition",
    ]
    assert _fields(visible_evidence(ITEMS, frozenset(), BOTH)) == ["competition"]
