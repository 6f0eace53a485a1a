"""A decision on a pair is one decision in either orientation: `link_review` keeps the pair in
one order, and of a pair's decisions read in the order they were made the latest wins."""

from __future__ import annotations

from reconcile.jobs import reviews_as_decisions
from reconcile.repository import review_pair
from tests.unit.test_reconcile_decisions import _Review


def test_a_pair_is_kept_in_one_orientation() -> None:
    assert review_pair("b", "a") == review_pair("a", "b") == ("a", "b")
    # the code points' order, whatever a database's collation would say
    assert review_pair("r-1", "R-2") == ("R-2", "r-1")


def test_the_latest_decision_on_a_pair_wins_in_both_orientations() -> None:
    older, newer = _Review("a", "x", "confirmed"), _Review("x", "a", "rejected")
    assert reviews_as_decisions([older, newer]) == {("a", "x"): False, ("x", "a"): False}
    assert reviews_as_decisions([newer, older]) == {("a", "x"): True, ("x", "a"): True}
