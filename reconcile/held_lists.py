"""Whole lists prepared once and kept between incremental polls. A corrected pipeline record is
compared with every record of Pakistan's list; reading and preparing 1.3 million records for
that takes about 45 s from the database (13 s in memory), linking the one record against them
held prepared about a second. So the worker holds such a list prepared, and each poll only
replaces the records that changed since (prepared in the same spaces) and drops the withdrawn
ones, at a cost that follows the changes but for array copies (a quarter of a second at 1.3
million). It also keeps the u each pair of held lists was linked with, until either list has
changed by more than 1 %. Pure: the worker reads the changes from the database and hands them
over."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reconcile.blocking import expand_keys
from reconcile.parameters import FloatArray
from reconcile.prepare import PreparedList, RunSpaces, prepare
from reconcile.table import RecordTable

# Lists held at once: a 1.3-million-record list retains about 0.9 GB (a 25,000-record pipeline
# list 20 MB); a three-list run links each of its three pairs around a change, both lists whole.
CAPACITY = 3
_DERIVED = {"table", "group", "derived"}  # rebuilt for the new table, not concatenated


@dataclass(slots=True)
class HeldList:
    # its own spaces: lists are held, updated and evicted independently (a list can be
    # prepared in one thread while another is linked against in another)
    spaces: RunSpaces
    prepared: PreparedList
    # the change feed position it holds the list at: changes numbered after it are to apply
    watermark: int
    # the list prepared again in other held lists' spaces (by their key, with those spaces): a
    # change is linked within both lists of a pair, in the right one's spaces
    elsewhere: dict[Hashable, tuple[RunSpaces, PreparedList]] = dataclasses.field(
        default_factory=dict
    )
    # records replaced or dropped since it was held: how far a u sampled earlier may be off
    replaced: int = 0


@dataclass(frozen=True, slots=True)
class Change:
    """A held list's records after a change, as a table: the positions of the records kept (in
    their order) and the table of those followed by the changed ones. Worked out once per
    change and shared by every preparation of the list (HeldList.elsewhere)."""

    kept: npt.NDArray[np.intp]
    rows: RecordTable
    table: RecordTable

    @classmethod
    def of(cls, table: RecordTable, rows: RecordTable, gone: Collection[str]) -> Change:
        kept = np.flatnonzero(~table.among(set(gone).union(rows.record_ids)))
        return cls(kept, rows, table.subset(kept).append(rows) if len(rows) else table.subset(kept))


def replace_records(spaces: RunSpaces, prepared: PreparedList, change: Change) -> PreparedList:
    """`prepared` after `change`, the changed records prepared in the same spaces: what
    preparing the changed list afresh gives, in another record order."""
    fresh = prepare(spaces, change.rows)
    # blocking's expansions move along: expanding 1.3 million records' birth years and name
    # parts again after every change would cost the next linking two seconds
    derived = prepared.expansions_after(change.kept, fresh, spaces)
    arrays: dict[str, Any] = {
        f.name: np.concatenate([getattr(prepared, f.name)[change.kept], getattr(fresh, f.name)])
        for f in dataclasses.fields(PreparedList)
        if f.name not in _DERIVED
    }
    # group ids are codes of the group column: the appended table recodes the new records'
    group = change.table.columns["group_id"].codes.astype(np.int64)
    return PreparedList(table=change.table, group=group, derived=derived, **arrays)


# A pair's u (P(level | non-match) from 200,000 random pairs) is reused until either list has
# had this share of its records replaced: the sample's own noise (a level seen in 1 pair of
# 10,000 is counted 20 times, ±22 %) is larger than what so few replaced records move it by.
U_KEPT_WHILE_REPLACED = 0.01


@dataclass(frozen=True, slots=True)
class _SampledU:
    u: dict[str, FloatArray]
    lists: tuple[HeldList, HeldList]  # as held when sampled (a list held afresh samples again)
    replaced: tuple[int, int]  # the lists' `replaced` counts when it was drawn


class HeldLists:
    """Prepared lists by key (one list as one run's view cuts it); the CAPACITY most recently
    used are kept, with the u of each pair linked between them."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._held: OrderedDict[Hashable, HeldList] = OrderedDict()
        self._u: dict[tuple[Hashable, Hashable], _SampledU] = {}

    def get(self, key: Hashable) -> HeldList | None:
        held = self._held.get(key)
        if held is not None:
            self._held.move_to_end(key)
        return held

    def __contains__(self, key: Hashable) -> bool:
        return key in self._held

    def hold(self, key: Hashable, table: RecordTable, watermark: int) -> HeldList:
        """Prepare a whole list and keep it."""
        spaces = RunSpaces.new()
        held = HeldList(spaces, prepare(spaces, table), watermark)
        expand_keys(held.prepared, spaces)
        self.forget(key)
        while len(self._held) >= self._capacity:
            self.forget(next(iter(self._held)))
        self._held[key] = held
        return held

    def forget(self, key: Hashable) -> None:
        """Drop a list, and the other lists' copies prepared in its spaces: they would keep
        its spaces (most of what a held list retains) alive."""
        self._held.pop(key, None)
        for held in self._held.values():
            held.elsewhere.pop(key, None)
        self._u = {pair: sampled for pair, sampled in self._u.items() if key not in pair}

    def update(
        self,
        key: Hashable,
        changed: Sequence[Mapping[str, object]],
        gone: Collection[str],
        watermark: int,
    ) -> HeldList:
        """Apply changes read since the held list's watermark: `changed` (engine rows of added
        or changed records) replace their earlier versions, `gone` (withdrawn record ids) go."""
        held = self._held[key]
        if changed or gone:
            change = Change.of(held.prepared.table, RecordTable.from_rows(changed), gone)
            held.prepared = replace_records(held.spaces, held.prepared, change)
            for other, (spaces, prepared) in held.elsewhere.items():
                held.elsewhere[other] = (spaces, replace_records(spaces, prepared, change))
        held.watermark = max(held.watermark, watermark)
        held.replaced += len(changed) + len(gone)
        return held

    def sampled_u(self, left: Hashable, right: Hashable) -> dict[str, FloatArray] | None:
        """The u kept for linking these two held lists, while it still holds for them: sampling
        200,000 random pairs against 1.3 million records took 0.6 s of each change's 1.8 s."""
        sampled = self._u.get((left, right))
        if sampled is None or left not in self._held or right not in self._held:
            return None
        lists = zip(sampled.lists, sampled.replaced, self._pair(left, right), strict=True)
        for then, was, now in lists:
            if now is not then or now.replaced - was > U_KEPT_WHILE_REPLACED * len(now.prepared):
                return None
        return sampled.u

    def keep_u(
        self,
        left: Hashable,
        right: Hashable,
        u: dict[str, FloatArray],
        age: tuple[int, int] = (0, 0),
    ) -> None:
        """Keep the u a linking of these two held lists used (`sampled_u`); the one kept
        already keeps its age. `age`: how many records of each list changed since the u was
        drawn (a run's u, drawn before the lists were held and brought up to date)."""
        if self.sampled_u(left, right) is not u:
            lists = self._pair(left, right)
            drawn = (lists[0].replaced - age[0], lists[1].replaced - age[1])
            self._u[left, right] = _SampledU(u, lists, drawn)

    def has_u(self, left: Hashable, right: Hashable) -> bool:
        """Whether a u was kept for these two lists since they were held, spent or not."""
        return (left, right) in self._u

    def _pair(self, left: Hashable, right: Hashable) -> tuple[HeldList, HeldList]:
        return self._held[left], self._held[right]

    def in_spaces_of(self, key: Hashable, other: Hashable) -> PreparedList:
        """The list held under `key` prepared in the spaces of the one held under `other`, in
        the same record order, kept and brought up to date with it: preparing a large list
        (UNHCR's, say) again at every change to link it against another costs seconds."""
        held, spaces = self._held[key], self._held[other].spaces
        found = held.elsewhere.get(other)
        if found is None or found[0] is not spaces:  # first use, or `other` held afresh
            found = held.elsewhere[other] = (spaces, prepare(spaces, held.prepared.table))
        return found[1]
