"""Fellegi-Sunter scoring: each field's level adds log2(m/u) bits of evidence to the prior odds
that a pair is one person. Agreement on a name weighs by that name's rarity in the lists being
linked (NameFrequencies): `Shafiq` counts for more than `Mohammad`. u is re-estimated on the
lists at hand from random pairs (blended with the trained u), m comes from labelled pairs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reconcile.comparison import FIELD_LEVELS, NAME_FIELDS, PairLevels, compare_pairs
from reconcile.levels import AGREEING_NAME
from reconcile.parameters import FloatArray, ModelParameters, log2_prior_odds
from reconcile.prepare import PreparedList, RunSpaces
from reconcile.spaces import IntArray

if TYPE_CHECKING:  # name_counts counts as this module does
    from reconcile.name_counts import NameCounts

RANDOM_PAIRS = 200_000  # pairs sampled to estimate u on the lists being linked
U_PSEUDO_PAIRS = 5_000.0  # weight of the trained u when blending with the sample
# Smaller lists (a new record, a verification's candidates) use the trained u and no rarity.
MIN_LIST_FOR_SAMPLED_U = 200


def random_pair_levels(
    spaces: RunSpaces, left: PreparedList, right: PreparedList, samples: int, seed: int = 0
) -> PairLevels:
    rng = np.random.default_rng(seed)
    count = min(samples, len(left) * len(right))
    li = rng.integers(0, len(left), count)
    ri = rng.integers(0, len(right), count)
    return compare_pairs(spaces, left, right, li, ri)


def observed_u(parameters: ModelParameters, sample: PairLevels) -> dict[str, FloatArray]:
    """P(level | non-match) per field from random pairs (almost all non-matches), blended with
    the trained values so that small lists do not give wild estimates."""
    result = {}
    for name, levels in FIELD_LEVELS.items():
        counts = np.bincount(sample.levels[name], minlength=len(levels)).astype(np.float64)
        trained = parameters.fields[name].array("u", levels)
        result[name] = (counts + U_PSEUDO_PAIRS * trained) / (len(sample) + U_PSEUDO_PAIRS)
    return result


def u_as_json(u: dict[str, FloatArray]) -> dict[str, list[float]]:
    """A u as stored with a run (reconciliation.pair_u)."""
    return {name: [float(p) for p in values] for name, values in u.items()}


def u_from_json(stored: object) -> dict[str, FloatArray] | None:
    """A stored u, or None when it does not fit the model's fields and levels (stored by a run
    before the model was retrained with other levels: it is sampled again then)."""
    if not isinstance(stored, dict) or set(stored) != set(FIELD_LEVELS):
        return None
    u = {name: np.asarray(stored[name], dtype=np.float64) for name in FIELD_LEVELS}
    if any(u[name].shape != (len(levels),) for name, levels in FIELD_LEVELS.items()):
        return None
    return u


def skeleton_counts(spaces: RunSpaces, field: str, lists: tuple[PreparedList, ...]) -> IntArray:
    """How often each string id occurs as the field's name skeleton over the lists (index 0,
    the empty name, counts nothing)."""
    skeleton = spaces.names.arrays()["skeleton"]
    ids = []
    for prepared in lists:
        if field == "given":
            ids.append(skeleton[prepared.given])
            ids.append(skeleton[prepared.full][prepared.full != prepared.given])
        else:
            ids.append(skeleton[getattr(prepared, field)])
    counts: IntArray = np.bincount(np.concatenate(ids), minlength=len(spaces.names.strings))
    counts[0] = 0
    return counts


@dataclass(slots=True)
class Scorer:
    """Weights per field and level for one run, and per skeleton id the rarity in bits."""

    parameters: ModelParameters
    prior: float
    weights: dict[str, FloatArray]  # field -> log2(m/u) per level code
    agree_base: dict[str, FloatArray]  # name field -> log2(m / share of level) for agreeing codes
    rarity: dict[str, FloatArray]  # name field -> bits per string id (skeletons)
    u: dict[str, FloatArray]  # field -> P(level | non-match), as used for the weights

    @classmethod
    def build(
        cls,
        parameters: ModelParameters,
        spaces: RunSpaces,
        left: PreparedList,
        right: PreparedList,
        u: dict[str, FloatArray] | None = None,
        population: tuple[int, int] | None = None,
        name_counts: NameCounts | None = None,
    ) -> Scorer:
        """`population`: the sizes of the lists the records were drawn from, when they are a
        preselection (a verification's candidates) rather than whole lists. Names are weighed
        by their rarity only between lists large enough to count them in (a verification's
        candidates are a sample drawn by birth date, too small to say a name is rare:
        docs/reconciliation.md); incremental linking links whole lists (engine `focus`).
        `name_counts`: the names of the whole lists the right records were drawn from (a
        verification's candidates), by which names are then weighed."""
        large = min(len(left), len(right)) >= MIN_LIST_FOR_SAMPLED_U
        if u is None and large:
            u = observed_u(parameters, random_pair_levels(spaces, left, right, RANDOM_PAIRS))
        if u is None:  # a handful of records says little about random pairs: trained u
            u = {name: parameters.fields[name].array("u", lv) for name, lv in FIELD_LEVELS.items()}
        weights, agree_base, rarity = {}, {}, {}
        for name, levels in FIELD_LEVELS.items():
            m = parameters.fields[name].array("m", levels)
            weights[name] = np.log2(m) - np.log2(u[name])
            if "missing" in levels:
                # no evidence either way (as trained: m = u), however often these lists lack the
                # field; with u observed here, a list without districts would lose 20 bits a pair
                weights[name][levels.index("missing")] = 0.0
            # name rarity needs lists large enough to count names in; else the average weight
            if name in NAME_FIELDS and (large or name_counts is not None):
                agreeing = slice(0, AGREEING_NAME + 1)
                share = u[name][agreeing] / u[name][agreeing].sum()
                agree_base[name] = np.log2(m[agreeing]) - np.log2(share)
                if name_counts is None:
                    counts, total = skeleton_counts(spaces, name, (left, right)), None
                else:
                    counts = name_counts.in_space(spaces, name)
                    total = name_counts.total(name)
                rarity[name] = rarity_bits(counts, parameters.max_name_bits, total)
        sizes = population or (len(left), len(right))
        prior = log2_prior_odds(parameters, *sizes)
        return cls(parameters, prior, weights, agree_base, rarity, u)

    def field_weights(self, pairs: PairLevels) -> dict[str, FloatArray]:
        """Bits of evidence each field adds, per pair."""
        result = {}
        for name, codes in pairs.levels.items():
            weight = self.weights[name][codes]
            if name in self.agree_base:
                agreed = codes <= AGREEING_NAME
                skeleton = pairs.agreed_skeleton[name][agreed]
                weight[agreed] = self.agree_base[name][codes[agreed]] + self.rarity[name][skeleton]
            result[name] = weight
        return result

    def log_odds(self, pairs: PairLevels) -> FloatArray:
        """log2 odds of a match before calibration: prior plus every field's weight."""
        return self.total(self.field_weights(pairs), len(pairs))

    def total(self, weights: dict[str, FloatArray], size: int) -> FloatArray:
        """The prior plus the given weights of `size` pairs."""
        result = np.full(size, self.prior)
        for weight in weights.values():
            result += weight
        return result

    def probability(self, log_odds: FloatArray) -> FloatArray:
        p = self.parameters
        scaled = p.calibration_slope * log_odds + p.calibration_intercept
        probability: FloatArray = 1.0 / (1.0 + np.exp2(-np.clip(scaled, -60, 60)))
        return probability


def rarity_bits(counts: IntArray, cap: float, total: int | None = None) -> FloatArray:
    """Bits of each skeleton string id, as NameFrequencies.part_bits gives them from these
    counts (-log2 of its share); unseen ones count as seen once, i.e. as rare as a name can be
    in these lists. `total`: of the whole lists, where `counts` covers only some skeletons.
    One array operation: a loop over the distinct names of a 1.3-million-record list cost
    0.2 s for each record linked against it."""
    total = int(counts.sum()) if total is None else total
    ceiling = min(cap, math.log2(total)) if total else 0.0
    bits = np.full(len(counts), ceiling)
    seen = counts > 0
    bits[seen] = np.minimum(np.log2(total / counts[seen]), ceiling)
    return bits


def family_context_weights(parameters: ModelParameters, levels: IntArray) -> FloatArray:
    from reconcile.parameters import FAMILY_LEVELS

    model = parameters.family
    table = np.log2(model.array("m", FAMILY_LEVELS)) - np.log2(model.array("u", FAMILY_LEVELS))
    weights: FloatArray = table[levels]
    return weights
