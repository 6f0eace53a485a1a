"""Family context: members of one US case linking into one household make each of those links
more likely. Where the right list has groups (a UNHCR household file), a pair gets a level from
how many *other* members of its left group are linked into its right group. Where it has none
(Pakistan's records rarely group people), the household is inferred from the records the other
members of the case link to: a household's records share the district and, among blood
relatives, the family name, which a namesake elsewhere rarely does. The model weighs the level
like any other field."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reconcile.prepare import PreparedList, RunSpaces
from reconcile.spaces import IntArray

NO_GROUP, NO_SUPPORT, ONE, TWO_OR_MORE = 0, 1, 2, 3
# inferred households (right list without groups): what the pair's right record shares with the
# records the other members of its case link to
INFERRED_NONE, INFERRED_FAMILY, INFERRED_PLACE, INFERRED_BOTH = 4, 5, 6, 7
SPOUSE = "SP"  # married in: shares neither the family name nor the father's name


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


def context_levels(
    spaces: RunSpaces,
    left: PreparedList,
    right: PreparedList,
    pair_left: IntArray,
    pair_right: IntArray,
    linked_left: IntArray,
    linked_right: IntArray,
) -> IntArray:
    """Family context per candidate pair: by groups on both sides where the right list has
    them, else by the household inferred from the links of the rest of the case."""
    levels = family_levels(left, right, pair_left, pair_right, linked_left, linked_right)
    ungrouped = right.group[pair_right] == 0
    if ungrouped.any():
        inferred = inferred_household_levels(
            spaces, left, right, pair_left, pair_right, linked_left, linked_right
        )
        levels = np.where(ungrouped, inferred, levels)
    return levels


def inferred_household_levels(
    spaces: RunSpaces,
    left: PreparedList,
    right: PreparedList,
    pair_left: IntArray,
    pair_right: IntArray,
    linked_left: IntArray,
    linked_right: IntArray,
) -> IntArray:
    """Level per pair from the right records that the *other* members of the left record's
    case are linked to (the anchors): does the pair's right record share a district with one
    of them, and (between blood relatives) a family name? NO_GROUP where the left record has
    no case or no other member of it is linked."""
    case = left.group
    grouped = case[linked_left] != 0
    a_left, a_right = linked_left[grouped], linked_right[grouped]
    a_case = case[a_left]
    district = right.district
    family = spaces.names.arrays()["skeleton"][right.family]
    blood = ~_spouses(left)
    p_case, p_district, p_family = case[pair_left], district[pair_right], family[pair_right]
    # the pair's own left record, and a right record already linked to another member of the
    # case, support nothing: subtract them from the case's counts
    own_right = np.full(len(left), -1, np.int64)
    own_right[a_left] = a_right
    mine = own_right[pair_left]
    taken_by = np.full(len(right), -1, np.int64)
    taken_by[a_right] = a_left
    other = taken_by[pair_right]
    conflict = (other >= 0) & (other != pair_left)
    conflict &= case[np.maximum(other, 0)] == p_case

    anchors = _lookup(*_counted(a_case), p_case) - (mine >= 0)
    width = int(max(district.max(initial=0), family.max(initial=0))) + 1
    known = district[a_right] != 0
    place = _lookup(
        *_counted((a_case * width + district[a_right])[known]), p_case * width + p_district
    )
    place -= (mine >= 0) & (district[np.maximum(mine, 0)] == p_district)
    place -= conflict
    place[p_district == 0] = 0
    named = (family[a_right] != 0) & blood[a_left]
    same_family = _lookup(
        *_counted((a_case * width + family[a_right])[named]), p_case * width + p_family
    )
    same_family -= (mine >= 0) & blood[pair_left] & (family[np.maximum(mine, 0)] == p_family)
    same_family -= conflict & blood[np.maximum(other, 0)]
    same_family[(p_family == 0) | ~blood[pair_left]] = 0
    levels = INFERRED_NONE + (same_family > 0) + 2 * (place > 0)
    levels[(p_case == 0) | (anchors <= 0)] = NO_GROUP
    result: IntArray = levels.astype(np.int64)
    return result


def _spouses(prepared: PreparedList) -> npt.NDArray[np.bool_]:
    column = prepared.table.columns["relationship"]
    codes = [i for i, value in enumerate(column.values) if value.strip().upper() == SPOUSE]
    found: npt.NDArray[np.bool_] = np.isin(column.codes, codes)
    return found


def _counted(keys: IntArray) -> tuple[IntArray, IntArray]:
    unique, counts = np.unique(keys, return_counts=True)
    return unique, counts


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
