"""Whole lists prepared once and kept between incremental polls. A corrected pipeline record is
compared with every record of Pakistan's list; reading and preparing 1.3 million records for
that takes about 45 s from the database (10 s linking against them freshly prepared, in
memory), linking the one record against them held prepared about 0.4 s. So
the worker holds such a list prepared, and each poll only replaces the records that changed
since (prepared in the same spaces) and drops the withdrawn ones. Pure: the worker reads the
changes from the database and hands them over."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reconcile.blocking import expand_keys
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


def replace_records(
    spaces: RunSpaces, prepared: PreparedList, rows: RecordTable, gone: Collection[str]
) -> PreparedList:
    """`prepared` without the records in `gone` or in `rows`, followed by `rows` prepared in
    the same spaces: what preparing the changed list afresh gives, in another record order."""
    drop = set(gone).union(rows.record_ids)
    ids = prepared.table.record_ids
    keep = np.fromiter((i for i, rid in enumerate(ids) if rid not in drop), np.intp)
    kept = prepared.take(keep)
    fresh = prepare(spaces, rows)
    # blocking's expansions move along: expanding 1.3 million records' birth years and name
    # parts again after every change would cost the next linking two seconds
    derived = prepared.expansions_after(keep, fresh, spaces)
    if not len(rows):
        kept.derived = derived
        return kept
    table = kept.table.append(rows)
    arrays: dict[str, Any] = {
        f.name: np.concatenate([getattr(kept, f.name), getattr(fresh, f.name)])
        for f in dataclasses.fields(PreparedList)
        if f.name not in _DERIVED
    }
    # group ids are codes of the group column: the appended table recodes the new records'
    group = table.columns["group_id"].codes.astype(np.int64)
    return PreparedList(table=table, group=group, derived=derived, **arrays)


class HeldLists:
    """Prepared lists by key (one list as one run's view cuts it); the CAPACITY most recently
    used are kept."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._held: OrderedDict[Hashable, HeldList] = OrderedDict()

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
        self._forget(key)
        while len(self._held) >= self._capacity:
            self._forget(next(iter(self._held)))
        self._held[key] = held
        return held

    def _forget(self, key: Hashable) -> None:
        """Drop a list, and the other lists' copies prepared in its spaces: they would keep
        its spaces (most of what a held list retains) alive."""
        self._held.pop(key, None)
        for held in self._held.values():
            held.elsewhere.pop(key, None)

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
            rows = RecordTable.from_rows(changed)
            held.prepared = replace_records(held.spaces, held.prepared, rows, gone)
            for other, (spaces, prepared) in held.elsewhere.items():
                held.elsewhere[other] = (spaces, replace_records(spaces, prepared, rows, gone))
        held.watermark = max(held.watermark, watermark)
        return held

    def in_spaces_of(self, key: Hashable, other: Hashable) -> PreparedList:
        """The list held under `key` prepared in the spaces of the one held under `other`, in
        the same record order, kept and brought up to date with it: preparing a large list
        (UNHCR's, say) again at every change to link it against another costs seconds."""
        held, spaces = self._held[key], self._held[other].spaces
        found = held.elsewhere.get(other)
        if found is None or found[0] is not spaces:  # first use, or `other` held afresh
            found = held.elsewhere[other] = (spaces, prepare(spaces, held.prepared.table))
        return found[1]
