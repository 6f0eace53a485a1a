"""Family context: members of one US case linking into one UNHCR household make each of those
links more likely. A pair gets a level from how many *other* members of its left group are
linked into its right group; the model weighs the level like any other field."""

from __future__ import annotations

import numpy as np

from reconcile.prepare import PreparedList
from reconcile.spaces import IntArray

NO_GROUP, NO_SUPPORT, ONE, TWO_OR_MORE = 0, 1, 2, 3


def family_levels(
    left: PreparedList,
    right: PreparedList,
    pair_left: IntArray,
    pair_right: IntArray,
    linked_left: IntArray,
    linked_right: IntArray,
) -> IntArray:
    """Level per candidate pair, given the links of a first pass."""
    width = int(right.group.max(initial=0)) + 1
    grouped = (left.group[linked_left] != 0) & (right.group[linked_right] != 0)
    linked_groups = left.group[linked_left[grouped]] * width + right.group[linked_right[grouped]]
    codes, counts = np.unique(linked_groups, return_counts=True)
    group_a, group_b = left.group[pair_left], right.group[pair_right]
    support = _lookup(codes, counts, group_a * width + group_b)
    # a pair's own link does not support itself
    own_codes = np.unique(linked_left * len(right) + linked_right)
    own = _lookup(own_codes, np.ones(len(own_codes), np.int64), pair_left * len(right) + pair_right)
    support = support - own
    levels = np.select([support >= 2, support == 1], [TWO_OR_MORE, ONE], NO_SUPPORT)
    levels[(group_a == 0) | (group_b == 0)] = NO_GROUP
    result: IntArray = levels.astype(np.int64)
    return result


def _lookup(keys: IntArray, values: IntArray, queries: IntArray) -> IntArray:
    """values[k] where queries hit sorted `keys`, else 0."""
    if len(keys) == 0:
        return np.zeros(len(queries), np.int64)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    found: IntArray = np.where(keys[at] == queries, values[at], 0)
    return found


def group_pairs(
    left: PreparedList,
    right: PreparedList,
    linked_left: IntArray,
    linked_right: IntArray,
    max_group: int = 20,
) -> tuple[IntArray, IntArray]:
    """Every pair of members of two groups that already share a link: the group-level
    blocking key that finds a child whose name was garbled beyond the other keys."""
    a, b = left.group[linked_left], right.group[linked_right]
    both = (a != 0) & (b != 0)
    group_links = np.unique(np.stack([a[both], b[both]], axis=1), axis=0)
    members_left = _members(left.group)
    members_right = _members(right.group)
    out_left: list[int] = []
    out_right: list[int] = []
    for ga, gb in group_links.tolist():
        ma, mb = members_left.get(ga, ()), members_right.get(gb, ())
        if len(ma) <= max_group and len(mb) <= max_group:
            out_left.extend(x for x in ma for _ in mb)
            out_right.extend(y for _ in ma for y in mb)
    return np.asarray(out_left, np.int64), np.asarray(out_right, np.int64)


def _members(groups: IntArray) -> dict[int, list[int]]:
    present = np.flatnonzero(groups)
    order = present[np.argsort(groups[present], kind="stable")]
    members: dict[int, list[int]] = {}
    for index, group in zip(order.tolist(), groups[order].tolist(), strict=True):
        members.setdefault(group, []).append(index)
    return members
