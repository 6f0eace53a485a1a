"""Blocking: which record pairs are worth scoring.

Several independent rules each give every record keys built from a few fields (a document
number; skeletons of the given, father's and family name, or of each part of the whole name;
the birth year; sex; the first consonants of a name). A pair sharing a key under any rule is a
candidate, so a pair missed by one rule (a typo, a missing father's name) is caught by another.
A rule is a cascade: where a key is shared by more than `max_block` records of the other list
(Mohammad son of Mohammad), the left record moves on to the next, finer key of that rule
instead of flooding the scorer. Left keys widen the birth year by one for ±1 year slips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reconcile.prepare import PreparedList, RunSpaces
from reconcile.spaces import IntArray

KeyPairs = tuple[IntArray, IntArray]  # (keys, record indices), a record may have several keys
# A field of a record as one id per record (0 = missing), or as several (years, name parts).
Single = Callable[[PreparedList, RunSpaces], IntArray]
Multiple = Callable[[PreparedList, RunSpaces, int], KeyPairs]
_MIX = np.int64(1_000_003)


def given(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.arrays()["skeleton"][p.given]


def father(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.arrays()["skeleton"][p.father]


def family(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.arrays()["skeleton"][p.family]


def name_parts_sorted(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.arrays()["sorted"][p.full]


def sex(p: PreparedList, s: RunSpaces) -> IntArray:
    return p.sex


def given_initials(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.prefix_ids()[p.given]


def father_initials(p: PreparedList, s: RunSpaces) -> IntArray:
    return s.names.prefix_ids()[p.father]


def birth_day(p: PreparedList, s: RunSpaces) -> IntArray:
    """The Gregorian day of birth when recorded to the day (either calendar), else 0."""
    dates = s.dates.arrays()
    exact = dates["precision"][p.dob] == 2
    return np.where(exact, dates["lo"][p.dob], 0)


def birth_years(p: PreparedList, s: RunSpaces, widen: int) -> KeyPairs:
    """Every Gregorian year the recorded birth date allows (a Solar Hijri year spans two)."""
    dates = s.dates.arrays()
    low, high = dates["span_lo"][p.dob], dates["span_hi"][p.dob]
    known = np.flatnonzero(low > 0)
    low, high = low[known] - widen, high[known] + widen
    counts = high - low + 1
    steps = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(low, counts) + steps, np.repeat(known, counts)


def name_parts(p: PreparedList, s: RunSpaces, widen: int) -> KeyPairs:
    """Each part of the whole name (given + family, or the Arabic-script name) on its own."""
    offsets, parts = s.names.part_ids()
    names = p.full
    counts = offsets[names + 1] - offsets[names]
    starts = np.repeat(offsets[names], counts)
    steps = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return parts[starts + steps], np.repeat(np.arange(len(p)), counts)


def documents(p: PreparedList, s: RunSpaces, widen: int) -> KeyPairs:
    records, columns = np.nonzero(p.documents)
    return p.documents[records, columns] * p.documents.shape[1] + columns, records


def _expanded(multiple: Multiple, p: PreparedList, s: RunSpaces, widen: int) -> KeyPairs:
    """The multi-valued field's (value, record) pairs, computed once per prepared list: several
    levels use each, and a held list is blocked against at every change (the values of ids
    already in the spaces never change)."""
    key = (multiple, widen)
    found = p.derived.get(key)
    if found is None:
        found = p.derived[key] = multiple(p, s, widen)
    return found


@dataclass(frozen=True, slots=True)
class BlockingKey:
    """One level of a rule: an optional multi-valued field combined with single-valued ones."""

    multiple: Multiple | None
    singles: tuple[Single, ...]
    widen: bool = False  # left birth years ±1: only where the other fields keep blocks small

    def __call__(self, p: PreparedList, s: RunSpaces, left: bool) -> KeyPairs:
        if self.multiple is None:
            keys, records = np.zeros(len(p), np.int64), np.arange(len(p))
        else:
            keys, records = _expanded(self.multiple, p, s, int(left and self.widen))
        for single in self.singles:
            values = single(p, s)[records]
            present = values != 0
            keys, records = keys[present] * _MIX + values[present], records[present]
        return keys, records


@dataclass(frozen=True, slots=True)
class BlockingRule:
    name: str
    levels: tuple[BlockingKey, ...]  # each finer than the one before
    max_block: int = 200


def _rule(name: str, *levels: tuple[Multiple | None, tuple[Single, ...]]) -> BlockingRule:
    return BlockingRule(name, tuple(BlockingKey(m, singles) for m, singles in levels))


RULES: tuple[BlockingRule, ...] = (
    _rule("document", (documents, ())),
    BlockingRule(
        "given+father",
        (BlockingKey(None, (given, father)), BlockingKey(birth_years, (given, father), True)),
    ),
    _rule(
        "given+year",
        (birth_years, (given,)),
        (birth_years, (given, sex)),
        (birth_years, (given, sex, father_initials)),
    ),
    _rule(
        "father+year",
        (birth_years, (father,)),
        (birth_years, (father, sex)),
        (birth_years, (father, sex, given_initials)),
    ),
    _rule("name part+father", (name_parts, (father,)), (birth_years, (father, given_initials))),
    _rule(
        "name parts+year",
        (birth_years, (name_parts_sorted,)),
        (birth_years, (name_parts_sorted, sex)),
    ),
    _rule("given+birth day", (None, (given, birth_day))),
    _rule("father+birth day", (None, (father, birth_day))),
    _rule("family+father", (None, (family, father)), (birth_years, (family, father))),
    _rule("given+family", (None, (given, family)), (birth_years, (given, family))),
)


_HASH_BITS = 22
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _hash_filter(wanted: IntArray, keys: IntArray) -> npt.NDArray[np.bool_]:
    """True for keys that may be among `wanted` (a one-hash Bloom filter: false positives
    only, removed by the exact join that follows)."""
    shift = np.uint64(64 - _HASH_BITS)
    table = np.zeros(1 << _HASH_BITS, dtype=np.bool_)
    table[(wanted.view(np.uint64) * _GOLDEN) >> shift] = True
    found: npt.NDArray[np.bool_] = table[(keys.view(np.uint64) * _GOLDEN) >> shift]
    return found


def _sorted_right(left_keys: IntArray, right: KeyPairs) -> KeyPairs:
    """The right keys that left keys may share, sorted, with their records."""
    right_keys, right_records = right
    # Most right keys occur on no left record: drop them in linear time before sorting.
    maybe = _hash_filter(left_keys, right_keys)
    right_keys, right_records = right_keys[maybe], right_records[maybe]
    order = np.argsort(right_keys)
    return right_keys[order], right_records[order]


def _block_sizes(left_keys: IntArray, sorted_keys: IntArray) -> tuple[IntArray, IntArray]:
    """Per left key: where its block starts among the sorted right keys, and its size."""
    low = np.searchsorted(sorted_keys, left_keys, "left")
    sizes: IntArray = np.searchsorted(sorted_keys, left_keys, "right") - low
    return low, sizes


def _emit(
    left: KeyPairs, right: KeyPairs, low: IntArray, sizes: IntArray, right_size: int
) -> IntArray:
    """Pair codes of each left record with every right record of its block (blocks given by
    their start among the sorted right keys and their size)."""
    left_records = left[1]
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    positions = np.repeat(low, sizes) + (np.arange(int(sizes.sum())) - starts)
    codes: IntArray = np.repeat(left_records, sizes) * right_size + right[1][positions]
    return codes


def _join(
    left: KeyPairs, right: KeyPairs, max_block: int, right_size: int
) -> tuple[IntArray, IntArray]:
    """Pair codes of records sharing a key in blocks of at most `max_block` right records, and
    the left records that had a larger block (they go on to the rule's next level)."""
    left_keys, left_records = left
    right = _sorted_right(left_keys, right)
    low, sizes = _block_sizes(left_keys, right[0])
    oversized = np.unique(left_records[sizes > max_block])
    keep = (sizes > 0) & (sizes <= max_block)
    codes = _emit((left_keys[keep], left_records[keep]), right, low[keep], sizes[keep], right_size)
    return codes, oversized


def expand_keys(p: PreparedList, s: RunSpaces) -> None:
    """Expand every multi-valued field a right list's blocking keys use, ahead of the first
    linking against it (a worker holding a list does this in the background)."""
    for rule in RULES:
        for level in rule.levels:
            if level.multiple is not None:
                _expanded(level.multiple, p, s, 0)


@dataclass(slots=True)
class RuleKeys:
    """Both whole lists' keys under the levels of one rule, each computed once: a focused
    linking follows a rule from both sides, and one level's keys of 1.3 million records take
    tens of milliseconds. Made per rule, so that only one rule's levels are kept at a time."""

    left: PreparedList
    right: PreparedList
    spaces: RunSpaces
    _found: dict[tuple[BlockingKey, bool], KeyPairs] = field(default_factory=dict)

    def of(self, level: BlockingKey, left: bool) -> KeyPairs:
        found = self._found.get((level, left))
        if found is None:
            found = level(self.left if left else self.right, self.spaces, left)
            self._found[level, left] = found
        return found


def rule_pairs(rule: BlockingRule, keys: RuleKeys, only_left: IntArray | None = None) -> IntArray:
    """Pair codes (left index * len(right) + right index) one rule finds; `only_left`: those
    of these left records (what the rule finds for them over the whole lists)."""
    pending = only_left  # left records still looking for a small enough block (None: all)
    found = []
    for level in rule.levels:
        left_keys, left_records = keys.of(level, True)
        if pending is not None:
            wanted = np.isin(left_records, pending)
            left_keys, left_records = left_keys[wanted], left_records[wanted]
        if len(left_keys) == 0:
            break
        codes, pending = _join(
            (left_keys, left_records), keys.of(level, False), rule.max_block, len(keys.right)
        )
        found.append(codes)
        if len(pending) == 0:
            break
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def rule_pairs_of_right(rule: BlockingRule, keys: RuleKeys, only_right: IntArray) -> IntArray:
    """The pair codes `rule_pairs` finds over the whole lists whose right record is one of
    `only_right`, without joining every left record. Whether a left record moves on to a finer
    level depends on the size of each of its blocks in the whole right list, so the left records
    that share any key with those right records are followed through the cascade, their block
    sizes counted in the whole right list, and only their blocks with those records emitted."""
    few = keys.right.take(only_right)
    left_keys = [keys.of(level, True) for level in rule.levels]
    few_keys = [level(few, keys.spaces, False) for level in rule.levels]
    sharing = [
        records[np.isin(level_keys, mine[0])]
        for (level_keys, records), mine in zip(left_keys, few_keys, strict=True)
    ]
    pending = np.unique(np.concatenate(sharing))
    found = []
    for level, (level_keys, records), (mine, theirs) in zip(
        rule.levels, left_keys, few_keys, strict=True
    ):
        wanted = np.isin(records, pending)
        level_keys, records = level_keys[wanted], records[wanted]
        if len(level_keys) == 0:
            break
        _, sizes = _block_sizes(level_keys, _sorted_right(level_keys, keys.of(level, False))[0])
        pending = np.unique(records[sizes > rule.max_block])
        keep = (sizes > 0) & (sizes <= rule.max_block)
        level_keys, records = level_keys[keep], records[keep]
        order = np.argsort(mine)
        ours = (mine[order], only_right[theirs[order]])
        low, counts = _block_sizes(level_keys, ours[0])
        found.append(_emit((level_keys, records), ours, low, counts, len(keys.right)))
        if len(pending) == 0:
            break
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def unique_codes(codes: IntArray) -> IntArray:
    """The distinct values, sorted: `np.unique` by a sort and a look at neighbours. numpy 2's
    hash-based unique takes seconds on millions of large int64 pair codes; this takes 0.2 s."""
    ordered = np.sort(codes)
    keep = np.ones(len(ordered), np.bool_)
    keep[1:] = ordered[1:] != ordered[:-1]
    distinct: IntArray = ordered[keep]
    return distinct


def contains(sorted_codes: IntArray, queries: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each query is among `sorted_codes` (sorted, distinct)."""
    if len(sorted_codes) == 0:
        return np.zeros(len(queries), np.bool_)
    at = np.minimum(np.searchsorted(sorted_codes, queries), len(sorted_codes) - 1)
    found: npt.NDArray[np.bool_] = sorted_codes[at] == queries
    return found


@dataclass(frozen=True, slots=True)
class Focus:
    """The records whose links are wanted (indices of the left and of the right list, sorted):
    a few changed records linked against whole lists, as a run over the whole lists would."""

    left: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    right: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))

    def with_relatives(self, left: PreparedList, right: PreparedList) -> Focus:
        """This focus and every other member of its records' groups (a case, a household):
        their links are the family context the run gave the focus records."""
        return Focus(_relatives(left.group, self.left), _relatives(right.group, self.right))

    def touches(self, left: IntArray, right: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each pair has a record in focus."""
        found: npt.NDArray[np.bool_] = contains(self.left, left) | contains(self.right, right)
        return found


def _relatives(groups: IntArray, records: IntArray) -> IntArray:
    theirs = groups[records]
    together: IntArray = np.union1d(records, np.flatnonzero(np.isin(groups, theirs[theirs > 0])))
    return together


@dataclass(slots=True)
class CandidatePairs:
    """Unique candidate pairs as index arrays, and how many pairs each rule found."""

    left: IntArray
    right: IntArray
    found_by: dict[str, int]


def candidate_pairs(
    left: PreparedList,
    right: PreparedList,
    spaces: RunSpaces,
    rules: tuple[BlockingRule, ...] = RULES,
    only_left: IntArray | None = None,
) -> CandidatePairs:
    """Every candidate pair of the two lists; `only_left`: those of these left records, the
    same as the whole lists give them (a left record's blocks depend on the right list only)."""
    size = len(right)
    found = []
    found_by: dict[str, int] = {}
    for rule in rules:
        codes = rule_pairs(rule, RuleKeys(left, right, spaces), only_left)
        found_by[rule.name] = len(codes)
        found.append(codes)
    codes = unique_codes(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return CandidatePairs(codes // size, codes % size, found_by)


def focused_pairs(
    left: PreparedList,
    right: PreparedList,
    spaces: RunSpaces,
    focus: Focus,
    rules: tuple[BlockingRule, ...] = RULES,
) -> CandidatePairs:
    """Exactly the pairs `candidate_pairs` finds over these whole lists that touch a record in
    focus, or a record one of those pairs reaches on the other side: the focus records'
    candidates, and every candidate of their candidates, which the second stage's competition
    features are measured over."""
    size = len(right)
    found_by = dict.fromkeys((rule.name for rule in rules), 0)

    def of(only_left: IntArray, only_right: IntArray) -> IntArray:
        """The pairs of these left records and of these right records."""
        codes = [np.zeros(0, np.int64)]
        for rule in rules:
            keys, found = RuleKeys(left, right, spaces), []
            if len(only_left):
                found.append(rule_pairs(rule, keys, only_left))
            if len(only_right):
                found.append(rule_pairs_of_right(rule, keys, only_right))
            found_by[rule.name] += sum(map(len, found))
            codes += found
        return unique_codes(np.concatenate(codes))

    near = of(focus.left, focus.right)
    # setdiff1d gives them sorted and distinct, as Focus wants them
    reached_right = np.setdiff1d(near[contains(focus.left, near // size)] % size, focus.right)
    reached_left = np.setdiff1d(near[contains(focus.right, near % size)] // size, focus.left)
    codes = unique_codes(np.concatenate([near, of(reached_left, reached_right)]))
    return CandidatePairs(codes // size, codes % size, found_by)
