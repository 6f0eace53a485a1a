"""What the second stage (reconcile.rerank) reads about each plausible candidate pair: its
first-stage evidence, its competition among every candidate of both records, and what each
record holds at all.

Why the last: the first stage weighs only what two records share. Whether a weak pair (birth
year only, no document) is a match also depends on what the records could have shared and did
not: a pipeline record holding a PoR number against a detention record without one, a rare
father's name that was mistyped rather than a common one, a year-only date against a full one.
Measured on held-out pairs (docs/reconciliation.md): these record features lifted recall at
precision 0.985 from 0.913 to 0.928."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reconcile.comparison import FIELD_LEVELS, NAME_FIELDS, PairLevels
from reconcile.parameters import FloatArray
from reconcile.prepare import DOCUMENT_TYPES, PreparedList, RunSpaces
from reconcile.spaces import IntArray

RANK_CAP = 20
GAP_CAP = 40.0
# Pakistani statuses (domain.md) under which the record was written by the police where they met
# the person, not where they live: a different district means little there.
DETENTION_STATUSES = frozenset({"detained"})
_CARDS = [DOCUMENT_TYPES.index("por"), DOCUMENT_TYPES.index("acc")]
RECORD_FEATURES: tuple[str, ...] = (
    "detained",
    "holds_card",
    "documents",
    "dob_precision",
    "has_family",
    "has_father",
    "latin_given",
    *(f"rarity_{name}" for name in NAME_FIELDS),
)
FEATURES: tuple[str, ...] = (
    "log_odds",
    "competed",
    "gap_left",
    "gap_right",
    "candidates_left",
    "candidates_right",
    "rank_left",
    "rank_right",
    "family_level",
    *(f"level_{name}" for name in FIELD_LEVELS),
    *(f"weight_{name}" for name in FIELD_LEVELS),
    *(f"left_{name}" for name in RECORD_FEATURES),
    *(f"right_{name}" for name in RECORD_FEATURES),
)


def _lead(key: IntArray, value: FloatArray, size: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per pair: its value minus the best of the key's *other* pairs (GAP_CAP when alone),
    the number of pairs of its key, and its rank among them (0 = best)."""
    if not len(key):  # no candidates at all (a verification that found nobody)
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    ranked = _Ranked.of(key, value)
    top, rank = TopTwo.of_ranked(ranked, value, size), ranked.ranks()
    return top.gap(key, value, rank), top.count[key].astype(np.float64), rank


@dataclass(frozen=True, slots=True)
class _Ranked:
    """Pairs sorted by key, best value first within a key (ties in the order given): where
    each key's pairs start and how many it has. One sort serves ranks and the best two."""

    order: IntArray
    keys: IntArray
    starts: IntArray
    counts: IntArray

    @classmethod
    def of(cls, key: IntArray, value: FloatArray) -> _Ranked:
        order = np.lexsort((-value, key))
        keys = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
        return cls(order, keys, starts, np.diff(np.r_[starts, len(keys)]))

    def ranks(self) -> IntArray:
        rank = np.empty(len(self.order), np.int64)
        rank[self.order] = np.arange(len(self.keys)) - np.repeat(self.starts, self.counts)
        return rank


def ranks(key: IntArray, value: FloatArray) -> IntArray:
    """Each pair's rank among the pairs of its key (0 = best; ties in the order given)."""
    if not len(key):
        return np.zeros(0, np.int64)
    return _Ranked.of(key, value).ranks()


@dataclass(slots=True)
class TopTwo:
    """Per key: the best and second-best value of its pairs, and how many pairs it has. Of
    pairs seen in parts (a list linked in slices), the parts' TopTwo `merge` into the whole's."""

    best: FloatArray
    second: FloatArray
    count: IntArray

    @classmethod
    def empty(cls, size: int) -> TopTwo:
        return cls(np.full(size, -np.inf), np.full(size, -np.inf), np.zeros(size, np.int64))

    @classmethod
    def of(cls, key: IntArray, value: FloatArray, size: int) -> TopTwo:
        if not len(key):
            return cls.empty(size)
        return cls.of_ranked(_Ranked.of(key, value), value, size)

    @classmethod
    def of_ranked(cls, ranked: _Ranked, value: FloatArray, size: int) -> TopTwo:
        top = cls.empty(size)
        keys, starts, counts, order = ranked.keys, ranked.starts, ranked.counts, ranked.order
        top.best[keys[starts]] = value[order[starts]]
        several = counts > 1
        top.second[keys[starts[several]]] = value[order[starts[several] + 1]]
        top.count[keys[starts]] = counts
        return top

    def merge(self, other: TopTwo) -> TopTwo:
        best = np.maximum(self.best, other.best)
        second = np.maximum(
            np.minimum(self.best, other.best), np.maximum(self.second, other.second)
        )
        return TopTwo(best, second, self.count + other.count)

    def gap(self, key: IntArray, value: FloatArray, rank: IntArray) -> FloatArray:
        """Each pair's value minus the best of its key's other pairs (the second best for the
        best pair), clipped to GAP_CAP; GAP_CAP when it has no other."""
        rival = np.where(rank == 0, self.second[key], self.best[key])
        gap: FloatArray = np.clip(np.nan_to_num(value - rival, posinf=GAP_CAP), -GAP_CAP, GAP_CAP)
        return gap


# a list's RECORD_FEATURES rows for the given record indices
RecordRows = Callable[[IntArray], npt.NDArray[np.float64]]


def record_features(
    spaces: RunSpaces,
    prepared: PreparedList,
    rarity: dict[str, FloatArray],
    at: IntArray | None = None,
) -> npt.NDArray[np.float64]:
    """RECORD_FEATURES per record (rows) of one list, or of the records `at` (a few changed
    records' pairs reach a small part of a 1.3-million-record list). `rarity`: bits per name
    skeleton id by name field (the run's Scorer.rarity); a missing name's rarity is NaN (the
    trees' "missing")."""
    at = np.arange(len(prepared)) if at is None else at
    status = prepared.table.columns["status"]
    detained = np.asarray([value in DETENTION_STATUSES for value in status.values], np.bool_)
    documents = prepared.documents[at]
    precision = spaces.dates.arrays()["precision"][prepared.dob[at]]
    skeleton = spaces.names.arrays()["skeleton"]
    rarities = []
    for name in NAME_FIELDS:
        ids = getattr(prepared, name)[at]
        bits = rarity[name][skeleton[ids]] if name in rarity else np.full(len(ids), np.nan)
        rarities.append(np.where(ids > 0, bits, np.nan))
    columns = [
        detained[status.codes[at]],
        (documents[:, _CARDS] > 0).any(axis=1),
        (documents > 0).sum(axis=1),
        precision,
        prepared.family[at] > 0,
        prepared.father[at] > 0,
        prepared.given_field[at] > 0,
        *rarities,
    ]
    return np.column_stack([np.asarray(c, np.float64) for c in columns])


@dataclass(frozen=True, slots=True)
class Competition:
    """Per candidate pair, against the other candidates of its left and of its right record:
    how far its log2 odds lead the best of them (GAP_CAP when there is none), how many
    candidates the record has, and the pair's rank among them (0 = best)."""

    gap_left: FloatArray
    count_left: FloatArray
    rank_left: IntArray
    gap_right: FloatArray
    count_right: FloatArray
    rank_right: IntArray

    @classmethod
    def of(cls, pairs: PairLevels, log_odds: FloatArray, sizes: tuple[int, int]) -> Competition:
        return cls(*_lead(pairs.left, log_odds, sizes[0]), *_lead(pairs.right, log_odds, sizes[1]))

    def lead(self) -> FloatArray:
        """The margin over the best rival of either record (negative: a rival scores higher)."""
        lead: FloatArray = np.minimum(self.gap_left, self.gap_right)
        return lead


def candidate_features(
    pairs: PairLevels,
    weights: dict[str, FloatArray],
    log_odds: FloatArray,
    competed: FloatArray,
    family: IntArray,
    competition: Competition,
    records: tuple[RecordRows, RecordRows],
    floor: float,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """The pairs above `floor` log odds and their FEATURES; `competition` is measured over
    every candidate pair, `records` gives each list's record_features of given records."""
    c = competition
    rows = np.flatnonzero(log_odds > floor)
    columns = [
        log_odds,
        competed,
        c.gap_left,
        c.gap_right,
        np.log1p(c.count_left),
        np.log1p(c.count_right),
        np.minimum(c.rank_left, RANK_CAP),
        np.minimum(c.rank_right, RANK_CAP),
        family,
        *(pairs.levels[name] for name in FIELD_LEVELS),
        *(weights[name] for name in FIELD_LEVELS),
    ]
    matrix = np.column_stack([np.asarray(c, np.float64)[rows] for c in columns])
    left, right = records
    return rows, np.hstack([matrix, left(pairs.left[rows]), right(pairs.right[rows])])
