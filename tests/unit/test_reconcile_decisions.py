"""Decisions people made while a run linked, applied to its links as it stores them."""

from __future__ import annotations

from typing import Any

from reconcile.jobs import apply_decisions_made_meanwhile, reviews_as_decisions


class _Review:
    def __init__(self, left: str, right: str, decision: str) -> None:
        self.left_record_id, self.right_record_id, self.decision = left, right, decision


def _row(left: str, right: str, decision: str, held: bool = False) -> dict[str, Any]:
    return {
        "left_record_id": left,
        "right_record_id": right,
        "decision": decision,
        "held_for_conflict": held,
    }


def test_only_decisions_made_or_changed_after_the_read_are_applied() -> None:
    read = reviews_as_decisions([_Review("a", "x", "rejected"), _Review("b", "y", "confirmed")])
    now = reviews_as_decisions(
        [
            _Review("a", "x", "rejected"),  # known to the run: it left the pair out
            _Review("b", "y", "rejected"),  # changed its mind meanwhile
            _Review("z", "c", "confirmed"),  # new, decided in the other list order
            _Review("d", "w", "rejected"),  # new, on a pair this run did not link
        ]
    )
    rows = [
        _row("b", "y", "confirmed"),
        _row("c", "z", "review", held=True),
        _row("e", "v", "accepted"),
    ]
    assert apply_decisions_made_meanwhile(rows, read, now) == 2
    assert [(r["decision"], r["held_for_conflict"]) for r in rows] == [
        ("rejected", False),
        ("confirmed", False),
        ("accepted", False),
    ]


def test_nothing_decided_meanwhile_changes_nothing() -> None:
    read = reviews_as_decisions([_Review("a", "x", "confirmed")])
    rows = [_row("a", "x", "confirmed"), _row("b", "y", "review", held=True)]
    before = [dict(r) for r in rows]
    assert apply_decisions_made_meanwhile(rows, read, dict(read)) == 0
    assert rows == before
