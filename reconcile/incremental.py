"""Incremental linking of one pair of lists, away from the database: records added or changed
after a run (a new detention record, a corrected name) linked against the other list as the
run would have linked them, without relinking everything.

Three things make a handful of new records behave like a whole run:
* the prior is that of the whole lists (`population`): one new Pakistani record among 1.3
  million is as unlikely a priori to be a pipeline member as any other, not 74 % likely;
* the links the run already holds compete: a new record takes a record that is linked already
  only by beating its standing partner in the same assignment, and then the standing link is
  displaced (an undecided one only; confirmed pairs are forced and always win);
* people's decisions hold as in a run.
The second stage stays off: its competition features mean whole lists (reconcile.rerank)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.engine import LinkResult, link_tables
from reconcile.runs import link_row
from reconcile.table import RecordTable

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StandingLink:
    """A link the run holds between records that have not changed."""

    link_id: str
    left_record_id: str
    right_record_id: str
    decided: bool  # confirmed by a person: never displaced


@dataclass(slots=True)
class Relinked:
    links: list[Row] = field(default_factory=list)  # link rows (runs.link_row) of changed records
    displaced: list[str] = field(default_factory=list)  # ids of standing links taken over


@dataclass(slots=True)
class _Side:
    """Which side of the pair the changed records are on, and the standing links by the record
    on the other side."""

    changed: set[str]
    is_left: bool
    standing_by_other: dict[str, StandingLink]

    def ids(self, result: LinkResult, k: int) -> tuple[str, str]:
        """(changed-side record id, other-side record id) of the k-th link."""
        left = result.left.table.record_ids[int(result.links.left[k])]
        right = result.right.table.record_ids[int(result.links.right[k])]
        return (left, right) if self.is_left else (right, left)

    def displaced(self, mine: str, theirs: str) -> str | None:
        held = self.standing_by_other.get(theirs)
        if held is None or held.decided:
            return None
        partner = held.left_record_id if self.is_left else held.right_record_id
        return held.link_id if partner != mine else None


def relink_pair(
    left: Sequence[Row],
    right: Sequence[Row],
    lists: tuple[str, str],
    changed: tuple[Collection[str], Collection[str]],
    standing: Sequence[StandingLink],
    decisions: Mapping[tuple[str, str], bool],
) -> Relinked:
    """Links of the changed records of `left` and `right` (engine rows of the whole lists, each
    with its `record_id`) against the other list. `standing`: the run's links between records
    that did not change."""
    population = (len(left), len(right))

    def link(left_rows: Sequence[Row], right_rows: Sequence[Row]) -> LinkResult:
        return link_tables(
            RecordTable.from_rows(left_rows),
            RecordTable.from_rows(right_rows),
            decisions=decisions,
            population=population,
            rerank=False,
        )

    out = Relinked()

    def take(result: LinkResult, side: _Side) -> None:
        for k in range(len(result.links)):
            mine, theirs = side.ids(result, k)
            if mine in side.changed:
                out.links.append(link_row(result, k, *lists))
                if (gone := side.displaced(mine, theirs)) is not None:
                    out.displaced.append(gone)

    changed_left, changed_right = set(changed[0]), set(changed[1])
    new_left = [row for row in left if row["record_id"] in changed_left]
    if new_left:
        side = _Side(changed_left, True, {s.right_record_id: s for s in standing})
        # the right records a new left record could take, then their standing partners as rivals
        first = link(new_left, right)
        rivals = {
            held.left_record_id
            for k in range(len(first.links))
            if (held := side.standing_by_other.get(side.ids(first, k)[1])) is not None
        }
        if rivals:
            first = link([*new_left, *(row for row in left if row["record_id"] in rivals)], right)
        take(first, side)
    new_right = [row for row in right if row["record_id"] in changed_right]
    rest_left = [row for row in left if row["record_id"] not in changed_left]
    if new_right and rest_left:
        side = _Side(changed_right, False, {s.left_record_id: s for s in standing})
        # every linked right record competes: a new one takes a left record from a weaker one only
        linked = {s.right_record_id for s in standing} - changed_right
        rivals_right = [row for row in right if row["record_id"] in linked]
        take(link(rest_left, [*new_right, *rivals_right]), side)
    return out
