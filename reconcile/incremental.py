"""Incremental linking of one pair of lists, away from the database: records added or changed
after a run (a new detention record, a corrected name) linked against the other list as the
run would have linked them, without relinking everything.

Both whole lists are linked, but only around the changed records (`engine.link_tables(focus=…)`):
blocking finds exactly the run's candidates of the changed records and every candidate of
those (`blocking.focused_pairs`), so u, name rarity, the prior, competition and the second
stage are the run's. Only the changed records' pairs, and their rivals', may become links:
* the links the run already holds compete: a changed record takes a record that is linked
  already only by beating its standing partner, whose own candidates are then in focus too;
  the standing link is displaced (an undecided one only; confirmed pairs are forced and always
  win);
* people's decisions hold as in a run.

Changed left records are linked first (`relink_left`), then changed right records against the
unchanged left records (`relink_right`). The whole lists may come prepared already (a worker
holds them between polls, reconcile.held_lists): the right one as held, the left one prepared
in the right one's spaces (`HeldLists.in_spaces_of`). `relink_pair` runs both steps on lists
in memory as rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from reconcile.blocking import Focus
from reconcile.engine import LinkResult, link_tables
from reconcile.parameters import FloatArray
from reconcile.prepare import PreparedList, RunSpaces
from reconcile.runs import link_row
from reconcile.spaces import IntArray
from reconcile.table import RecordTable

Row = dict[str, Any]
# a whole list prepared already, and the spaces it was prepared in
Prepared = tuple[RunSpaces, PreparedList]
# the other list of a pair: engine rows, or prepared
Right = Sequence[Row] | Prepared
# the whole left list: a table, or prepared in the right list's spaces
Left = RecordTable | PreparedList


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
    u: dict[str, FloatArray] | None = None  # the u it linked with, to reuse (PairContext.u)
    # of three lists: accepted standing links a conflict the change made holds for review,
    # held ones no conflict holds any more, and the records whose conflicts were read again,
    # with the conflicts that involve them
    to_review: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    conflicts: tuple[set[str], list[dict[str, object]]] | None = None


@dataclass(slots=True)
class _Side:
    """Which side of the pair the changed records are on, and the standing links by the record
    on the other side."""

    changed: set[str]
    is_left: bool
    standing_by_other: Mapping[str, StandingLink]

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


class StandingPair(Protocol):
    """The run's standing links of a pair looked up by record (reconcile.standing holds them
    between polls), where a sequence of them would be scanned whole at every change."""

    def by_left(self) -> Mapping[str, StandingLink]: ...

    def by_right(self) -> Mapping[str, StandingLink]: ...


@dataclass(frozen=True, slots=True)
class PairContext:
    """What every step of relinking one pair of lists shares."""

    lists: tuple[str, str]
    standing: Sequence[StandingLink] | StandingPair
    decisions: Mapping[tuple[str, str], bool]
    # confirmed pairs of changed records that the run holds already: kept as people left them,
    # never stored a second time
    held: frozenset[tuple[str, str]] = frozenset()
    # the u to weigh evidence with (the run's, or an earlier linking's of these lists:
    # HeldLists.sampled_u) instead of sampling random pairs again
    u: dict[str, FloatArray] | None = None

    def by_left(self) -> Mapping[str, StandingLink]:
        if isinstance(self.standing, Sequence):
            return {s.left_record_id: s for s in self.standing}
        return self.standing.by_left()

    def by_right(self) -> Mapping[str, StandingLink]:
        if isinstance(self.standing, Sequence):
            return {s.right_record_id: s for s in self.standing}
        return self.standing.by_right()

    def link(
        self,
        left: Left,
        right: Right | LinkResult,
        focus: tuple[Collection[str], Collection[str]],
    ) -> LinkResult:
        """The whole left list (a table, or prepared in the right list's spaces) against the
        whole right list (rows, prepared already, or as an earlier linking of these lists
        prepared both, whose u it then reuses too), around the records in `focus` (left ids,
        right ids)."""
        table, prepared = _right_list(right)
        again = (
            right if isinstance(right, LinkResult) and right.left.table is _table(left) else None
        )
        prepared_left = again.left if again else left if isinstance(left, PreparedList) else None
        return link_tables(
            _table(left),
            table,
            decisions=self.decisions,
            prepared_right=prepared,
            prepared_left=prepared_left,
            u=again.scorer.u if again else self.u,
            focus=Focus(_positions(_table(left), focus[0]), _positions(table, focus[1])),
        )

    def take(self, result: LinkResult, side: _Side, out: Relinked) -> None:
        for k in range(len(result.links)):
            mine, theirs = side.ids(result, k)
            pair = (mine, theirs) if side.is_left else (theirs, mine)
            if mine in side.changed and pair not in self.held:
                out.links.append(link_row(result, k, *self.lists))
                if (gone := side.displaced(mine, theirs)) is not None:
                    out.displaced.append(gone)


def _table(left: Left) -> RecordTable:
    return left.table if isinstance(left, PreparedList) else left


def unchanged(left: Left, changed: Collection[str]) -> Left:
    """The left list without the changed records (a changed right record is linked against
    the rest: the changed left ones are linked first, on their own)."""
    if not changed:
        return left
    at = np.flatnonzero(~_table(left).among(changed))
    return left.take(at) if isinstance(left, PreparedList) else left.subset(at)


def _positions(table: RecordTable, ids: Collection[str]) -> IntArray:
    """Where the records are in the table, sorted."""
    if not ids:
        return np.zeros(0, np.int64)
    return np.flatnonzero(table.among(ids)).astype(np.int64)


def _right_list(right: Right | LinkResult) -> tuple[RecordTable, Prepared | None]:
    """The right list's table, and the list prepared when it is."""
    if isinstance(right, LinkResult):
        return right.right.table, (right.spaces, right.right)
    if isinstance(right, tuple) and len(right) == 2 and isinstance(right[1], PreparedList):
        return right[1].table, (right[0], right[1])
    return RecordTable.from_rows(right), None


def _taken(result: LinkResult, changed: set[str], is_left: bool) -> set[str]:
    """The other side's records that the changed records are linked to."""
    side = _Side(changed, is_left, {})
    pairs = (side.ids(result, k) for k in range(len(result.links)))
    return {theirs for mine, theirs in pairs if mine in changed}


def relink_left(
    context: PairContext, left: Left, changed: Collection[str], right: Right
) -> Relinked:
    """Changed left records (in `left`, the whole left list as it is now) against the whole
    right list. First alone, to find what they could take; then, where that is a record the run
    links, again with its standing partner in focus, so that the two compete as in a run."""
    out = Relinked()
    changed = set(changed)
    if changed:
        of_right = context.by_right()
        first = context.link(left, right, (changed, ()))
        taken = _taken(first, changed, True)
        rivals = {of_right[r].left_record_id for r in taken if r in of_right} - changed
        result = context.link(left, first, (changed | rivals, ())) if rivals else first
        context.take(result, _Side(changed, True, of_right), out)
        out.u = first.scorer.u
    return out


def relink_right(
    context: PairContext, left: Left, right: Right, changed: Collection[str]
) -> Relinked:
    """Changed right records (in `right`, the whole right list as it is now) against the left
    list (its unchanged records): first alone, then with the standing partners of the left
    records they could take, which they take only from a weaker standing partner."""
    out = Relinked()
    changed = set(changed)
    if changed and len(_table(left)):
        of_left = context.by_left()
        first = context.link(left, right, ((), changed))
        taken = _taken(first, changed, False)
        rivals = {of_left[r].right_record_id for r in taken if r in of_left} - changed
        result = context.link(left, first, ((), changed | rivals)) if rivals else first
        context.take(result, _Side(changed, False, of_left), out)
        out.u = first.scorer.u
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
    """Both steps at once, on whole lists in memory (engine rows, each with its `record_id`):
    links of the changed records of `left` and `right` against the other list. `standing`: the
    run's links between records that did not change; `held`: its confirmed pairs of changed
    records."""
    context = PairContext(lists, standing, decisions, frozenset(held))
    whole_left = RecordTable.from_rows(left)
    out = relink_left(context, whole_left, changed[0], right)
    more = relink_right(context, unchanged(whole_left, changed[0]), right, changed[1])
    return Relinked(out.links + more.links, out.displaced + more.displaced)
