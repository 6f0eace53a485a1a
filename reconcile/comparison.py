"""Per-field comparison levels of candidate pairs: the evidence the scorer weighs. Fields are
the given name (read with the family name and the Arabic-script name where that agrees
better, and given/family swaps detected), father's name, family name, date of birth,
documents, sex and place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.evidence import DateLevel, DocumentLevel, NameLevel
from reconcile.levels import (
    AGREEING_NAME,
    NAME,
    LevelArray,
    date_levels,
    document_levels,
    equal_name_levels,
    name_levels,
)
from reconcile.prepare import PreparedList, RunSpaces
from reconcile.spaces import IntArray

SEX_LEVELS = ("agree", "disagree", "missing")
PLACE_LEVELS = ("district", "province", "different", "missing")
# Field -> its level names, strongest first; a level's code is its position.
FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "given": tuple(level.value for level in NameLevel),
    "family": tuple(level.value for level in NameLevel),
    "father": tuple(level.value for level in NameLevel),
    "dob": tuple(level.value for level in DateLevel),
    "documents": tuple(level.value for level in DocumentLevel),
    "sex": SEX_LEVELS,
    "place": PLACE_LEVELS,
}
NAME_FIELDS = ("given", "family", "father")


@dataclass(slots=True)
class PairLevels:
    """Level codes per field for pairs (left[i], right[i]), and for name fields the skeleton id
    of the name that agreed (for frequency weights; 0 where the names do not agree)."""

    left: IntArray
    right: IntArray
    levels: dict[str, LevelArray] = field(default_factory=dict)
    agreed_skeleton: dict[str, IntArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.left)

    def subset(self, keep: IntArray | npt.NDArray[np.bool_]) -> PairLevels:
        """The pairs at these positions, or where `keep` is true."""
        return PairLevels(
            self.left[keep],
            self.right[keep],
            {name: values[keep] for name, values in self.levels.items()},
            {name: values[keep] for name, values in self.agreed_skeleton.items()},
        )

    @classmethod
    def concat(cls, parts: Sequence[PairLevels]) -> PairLevels:
        """The pairs of every part, in order."""
        first = parts[0]
        return cls(
            np.concatenate([part.left for part in parts]),
            np.concatenate([part.right for part in parts]),
            {k: np.concatenate([part.levels[k] for part in parts]) for k in first.levels},
            {
                k: np.concatenate([part.agreed_skeleton[k] for part in parts])
                for k in first.agreed_skeleton
            },
        )


def _agreed(spaces: RunSpaces, levels: LevelArray, names: IntArray) -> IntArray:
    skeleton = spaces.names.arrays()["skeleton"][names]
    return np.where(levels <= AGREEING_NAME, skeleton, 0)


def _given_and_family(
    spaces: RunSpaces, left: PreparedList, right: PreparedList, li: IntArray, ri: IntArray
) -> tuple[LevelArray, IntArray, LevelArray]:
    names = spaces.names
    by_given = name_levels(names, left.given[li], right.given[ri])
    by_full = name_levels(names, left.full[li], right.full[ri])
    use_full = by_full < by_given
    given = np.where(use_full, by_full, by_given).astype(np.int8)
    compared = np.where(use_full, left.full[li], left.given[li])
    family = name_levels(names, left.family[li], right.family[ri])
    # given and family name exchanged: both crossings agree where the straight reading does not
    could_swap = (given > AGREEING_NAME) & (given != NAME["MISSING"])
    could_swap &= (left.given_field[li] != 0) & (left.family[li] != 0)
    could_swap &= (right.given_field[ri] != 0) & (right.family[ri] != 0)
    at = np.flatnonzero(could_swap)
    if len(at):
        a, b = li[at], ri[at]
        # only agreement in spelling counts here: equality of keys decides it
        first = equal_name_levels(names, left.given_field[a], right.family[b])
        second = equal_name_levels(names, left.family[a], right.given_field[b])
        # spelling agreement, not just consonants: Yousuf/Safi share the skeleton `sf`
        spelt = NAME["CROSS_SCRIPT"]
        swapped = at[(first <= spelt) & (second <= spelt)]
        given[swapped] = NAME["SWAPPED"]
        # the swap is one piece of evidence, weighed once (on the given name)
        family[swapped] = NAME["MISSING"]
    compared = _one_sided_swaps(spaces, left, right, li, ri, given, family, compared)
    return given, _agreed(spaces, given, compared), family


def _one_sided_swaps(
    spaces: RunSpaces,
    left: PreparedList,
    right: PreparedList,
    li: IntArray,
    ri: IntArray,
    given: LevelArray,
    family: LevelArray,
    compared: IntArray,
) -> IntArray:
    """Given and family exchanged on a record whose counterpart has no family name: the given
    name is then found in the family field (`Barakzai Fariba` ~ `Fariba`). Where that crossing
    agrees in spelling, the given name takes its level (in place) and the family field
    reads missing; returns the names whose rarity weighs the given name's agreement."""
    spelt = NAME["CROSS_SCRIPT"]
    failed = (given > AGREEING_NAME) & (given != NAME["MISSING"]) & (given != NAME["SWAPPED"])
    left_family, right_family = left.family[li] != 0, right.family[ri] != 0
    for on_left in (True, False):
        at = np.flatnonzero(failed & (left_family if on_left else right_family))
        at = at[~(right_family if on_left else left_family)[at]]
        if not len(at):
            continue
        a, b = li[at], ri[at]
        name = left.family[a] if on_left else left.given[a]
        other = right.given[b] if on_left else right.family[b]
        crossing = equal_name_levels(spaces.names, name, other)
        found = crossing <= spelt
        given[at[found]] = crossing[found]
        family[at[found]] = NAME["MISSING"]
        compared = compared.copy()
        compared[at[found]] = name[found]
    return compared


def _sex(left: PreparedList, right: PreparedList, li: IntArray, ri: IntArray) -> LevelArray:
    a, b = left.sex[li], right.sex[ri]
    return np.select([(a == 0) | (b == 0), a == b], [2, 0], 1).astype(np.int8)


def _place(left: PreparedList, right: PreparedList, li: IntArray, ri: IntArray) -> LevelArray:
    district_a, district_b = left.district[li], right.district[ri]
    province_a, province_b = left.province[li], right.province[ri]
    known = ((district_a != 0) & (district_b != 0)) | ((province_a != 0) & (province_b != 0))
    return np.select(
        [
            (district_a == district_b) & (district_a != 0),
            (province_a == province_b) & (province_a != 0),
            known,
        ],
        [0, 1, 2],
        3,
    ).astype(np.int8)


def compare_pairs(
    spaces: RunSpaces, left: PreparedList, right: PreparedList, li: IntArray, ri: IntArray
) -> PairLevels:
    """Levels of every field for the pairs (left[li[i]], right[ri[i]])."""
    pairs = PairLevels(li, ri)
    given, given_skeleton, family = _given_and_family(spaces, left, right, li, ri)
    father = name_levels(spaces.names, left.father[li], right.father[ri])
    pairs.levels = {
        "given": given,
        "family": family,
        "father": father,
        "dob": date_levels(spaces.dates, left.dob[li], right.dob[ri]),
        "documents": document_levels(spaces.documents, left.documents[li], right.documents[ri]),
        "sex": _sex(left, right, li, ri),
        "place": _place(left, right, li, ri),
    }
    pairs.agreed_skeleton = {
        "given": given_skeleton,
        "family": _agreed(spaces, family, left.family[li]),
        "father": _agreed(spaces, father, left.father[li]),
    }
    return pairs
