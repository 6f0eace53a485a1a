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
The second stage stays off: its competition features mean whole lists (reconcile.rerank).

Steps, so that a caller reading from a database loads only what each needs: changed left
records are linked alone against the whole right list (`left_rivals`), then again with the
standing partners of what they found (`relink_left`); changed right records are linked by the
unchanged left list together with every right record the run links (`linked_right_ids`,
`relink_right`). The whole right list may come prepared already (a worker holds it between
polls, reconcile.held_lists). `relink_pair` runs every step on lists held in memory."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.engine import LinkResult, link_tables
from reconcile.prepare import PreparedList, RunSpaces
from reconcile.runs import link_row
from reconcile.table import RecordTable

Row = dict[str, Any]
# a whole list prepared already, and the spaces it was prepared in
Prepared = tuple[RunSpaces, PreparedList]
# the other list of a pair: engine rows, or prepared
Right = Sequence[Row] | Prepared


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


@dataclass(frozen=True, slots=True)
class PairContext:
    """What every step of relinking one pair of lists shares."""

    lists: tuple[str, str]
    population: tuple[int, int]  # active records in each whole list
    standing: Sequence[StandingLink]
    decisions: Mapping[tuple[str, str], bool]
    # confirmed pairs of changed records that the run holds already: kept as people left them,
    # never stored a second time
    held: frozenset[tuple[str, str]] = frozenset()

    def by_left(self) -> dict[str, StandingLink]:
        return {s.left_record_id: s for s in self.standing}

    def by_right(self) -> dict[str, StandingLink]:
        return {s.right_record_id: s for s in self.standing}

    def link(
        self, left_rows: Sequence[Row], right: Right | LinkResult, whole_right: bool = False
    ) -> LinkResult:
        """Link left rows against right rows, against a right list prepared already (held
        between polls, reconcile.held_lists), or against the right list an earlier result
        prepared (not read and prepared again). `whole_right`: the right list is the whole
        list, so names are weighed by their rarity in it, as in the run."""
        table, prepared = _right_list(right)
        return link_tables(
            RecordTable.from_rows(left_rows),
            table,
            decisions=self.decisions,
            population=self.population,
            rerank=False,
            prepared_right=prepared,
            whole_list=whole_right,
        )

    def take(self, result: LinkResult, side: _Side, out: Relinked) -> None:
        for k in range(len(result.links)):
            mine, theirs = side.ids(result, k)
            pair = (mine, theirs) if side.is_left else (theirs, mine)
            if mine in side.changed and pair not in self.held:
                out.links.append(link_row(result, k, *self.lists))
                if (gone := side.displaced(mine, theirs)) is not None:
                    out.displaced.append(gone)


def _right_list(right: Right | LinkResult) -> tuple[RecordTable, Prepared | None]:
    """The right list's table, and the list prepared when it is."""
    if isinstance(right, LinkResult):
        return right.right.table, (right.spaces, right.right)
    if isinstance(right, tuple) and len(right) == 2 and isinstance(right[1], PreparedList):
        return right[1].table, (right[0], right[1])
    return RecordTable.from_rows(right), None


def left_rivals(
    context: PairContext, new_left: Sequence[Row], right: Right
) -> tuple[set[str], LinkResult]:
    """The left records whose standing links new left records could take over (the partners
    of the right records they link to when linked alone), and that first linking, whose
    prepared right list relink_left reuses."""
    of_right = context.by_right()
    found = context.link(new_left, right, whole_right=True)
    taken = (found.right.table.record_ids[int(i)] for i in found.links.right)
    mine = {str(row["record_id"]) for row in new_left}
    return {of_right[r].left_record_id for r in taken if r in of_right} - mine, found


def relink_left(
    context: PairContext, new_left: Sequence[Row], rivals: Sequence[Row], first: LinkResult
) -> Relinked:
    """New or changed left records against the whole right list (as `first`, left_rivals'
    linking, prepared it), competing with `rivals` (left_rivals' records) for what they could
    take; without rivals the first linking stands."""
    out = Relinked()
    if new_left:
        changed = {str(row["record_id"]) for row in new_left}
        side = _Side(changed, True, context.by_right())
        result = context.link([*new_left, *rivals], first, whole_right=True) if rivals else first
        context.take(result, side, out)
    return out


def linked_right_ids(context: PairContext) -> set[str]:
    """The right records a new right record competes with: every one the run links."""
    return {s.right_record_id for s in context.standing}


def relink_right(
    context: PairContext, left: Sequence[Row], new_right: Sequence[Row], rivals: Sequence[Row]
) -> Relinked:
    """New or changed right records against the left list (the unchanged records of it),
    together with the right records the run links (`rivals`, linked_right_ids' records): a new
    one takes a left record only from a weaker standing partner."""
    out = Relinked()
    if new_right and left:
        changed = {str(row["record_id"]) for row in new_right}
        side = _Side(changed, False, context.by_left())
        others = [row for row in rivals if row["record_id"] not in changed]
        context.take(context.link(left, [*new_right, *others]), side, out)
    return out


def relink_pair(
    left: Sequence[Row],
    right: Sequence[Row],
    lists: tuple[str, str],
    changed: tuple[Collection[str], Collection[str]],
    standing: Sequence[StandingLink],
    decisions: Mapping[tuple[str, str], bool],
    held: Collection[tuple[str, str]] = (),
) -> Relinked:
    """Every step at once, on whole lists in memory (engine rows, each with its `record_id`):
    links of the changed records of `left` and `right` against the other list. `standing`: the
    run's links between records that did not change; `held`: its confirmed pairs of changed
    records."""
    context = PairContext(lists, (len(left), len(right)), standing, decisions, frozenset(held))
    changed_left, changed_right = set(changed[0]), set(changed[1])
    new_left = [row for row in left if row["record_id"] in changed_left]
    out = Relinked()
    if new_left:
        rivals, first = left_rivals(context, new_left, right)
        rows = [row for row in left if row["record_id"] in rivals]
        out = relink_left(context, new_left, rows, first)
    linked = linked_right_ids(context)
    more = relink_right(
        context,
        [row for row in left if row["record_id"] not in changed_left],
        [row for row in right if row["record_id"] in changed_right],
        [row for row in right if row["record_id"] in linked],
    )
    return Relinked(out.links + more.links, out.displaced + more.displaced)
