"""Whether a run's stored view of a list reads no more than an agreement grants now."""

from __future__ import annotations

from reconcile.grants import reads_within

RUN_VIEW = {"fields": ["dob", "father_name", "given_name"], "coarsen": {"dob": "year_only"}}


def test_a_grant_as_wide_or_wider_covers_the_run() -> None:
    assert reads_within(RUN_VIEW, frozenset({"given_name", "father_name", "dob"}), {})
    wider = frozenset({"given_name", "father_name", "dob", "documents"})
    assert reads_within(RUN_VIEW, wider, {"dob": "year_only"})


def test_a_field_no_longer_granted_or_granted_coarser_does_not() -> None:
    assert not reads_within(RUN_VIEW, frozenset({"given_name", "dob"}), {})
    run_in_full = {"fields": ["dob", "given_name"], "coarsen": {}}
    assert not reads_within(run_in_full, frozenset({"given_name", "dob"}), {"dob": "year_only"})


def test_coarsening_of_a_field_the_run_does_not_read_is_no_concern() -> None:
    assert reads_within(RUN_VIEW, frozenset(RUN_VIEW["fields"]), {"district": "province"})
    assert reads_within({}, frozenset(), {})
