"""Train the scorer from labelled pairs: `python -m reconcile.train [--seed N] [--out PATH]`.

1. m: the level distribution of every field over the *true* pairs of a generated world (all of
   them, not only those blocking finds), pipeline against Pakistan's and UNHCR's lists.
2. u: the level distribution over random pairs of the same lists (a run re-estimates it on
   its own lists); name agreement is further weighted by each name's rarity at run time.
3. family context: level distributions among true and false candidate pairs of a first run.
4. calibration: a logistic fit of the summed weights to the truth over all candidate pairs of
   a second, independently generated world; thresholds chosen on that world's links.
Labelled pairs from real reviews (confirmed/rejected links) can replace the generated ones:
`fit_field_models` takes any labelled level counts. See docs/reconciliation.md."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from reconcile.comparison import FIELD_LEVELS, PairLevels, compare_pairs
from reconcile.engine import link_tables
from reconcile.evaluation import link_scores, true_pairs
from reconcile.family import family_levels
from reconcile.parameters import (
    FAMILY_LEVELS,
    MODEL_PATH,
    FieldModel,
    FloatArray,
    ModelParameters,
    Thresholds,
    untrained,
)
from reconcile.prepare import RunSpaces, prepare
from reconcile.scoring import random_pair_levels
from reconcile.synthetic import WorldConfig, generate_world
from reconcile.table import RecordTable

TRAINING_WORLD = WorldConfig(pipeline_size=4_000, gop_size=200_000, unhcr_size=40_000)
SMOOTHING = 0.5  # pseudo-count per level, so no level has probability 0


def _counts(pairs: PairLevels) -> dict[str, FloatArray]:
    return {
        name: np.bincount(pairs.levels[name], minlength=len(levels)).astype(np.float64)
        for name, levels in FIELD_LEVELS.items()
    }


def _distribution(counts: FloatArray, levels: tuple[str, ...]) -> dict[str, float]:
    smoothed = counts + SMOOTHING
    return {level: float(v) for level, v in zip(levels, smoothed / smoothed.sum(), strict=True)}


def fit_field_models(
    matches: Mapping[str, FloatArray], non_matches: Mapping[str, FloatArray]
) -> dict[str, FieldModel]:
    """m and u per field from level counts of labelled matches and of non-matches. A missing
    value is no evidence either way: its level gets m = u (weight 0) whatever was counted."""
    models = {}
    for name, levels in FIELD_LEVELS.items():
        m, u = _distribution(matches[name], levels), _distribution(non_matches[name], levels)
        if "missing" in levels:
            m["missing"] = u["missing"]
        models[name] = FieldModel(m=m, u=u)
    return models


def _field_counts(
    left: RecordTable, rights: list[RecordTable], truth: Mapping[str, int]
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    matches = {name: np.zeros(len(lv)) for name, lv in FIELD_LEVELS.items()}
    randoms = {name: np.zeros(len(lv)) for name, lv in FIELD_LEVELS.items()}
    for right in rights:
        spaces = RunSpaces.new()
        a, b = prepare(spaces, left), prepare(spaces, right)
        t_left, t_right = true_pairs(left.record_ids, right.record_ids, truth)
        for name, counts in _counts(compare_pairs(spaces, a, b, t_left, t_right)).items():
            matches[name] += counts
        for name, counts in _counts(random_pair_levels(spaces, a, b, 300_000, 7)).items():
            randoms[name] += counts
    return matches, randoms


def _family_model(
    parameters: ModelParameters, left: RecordTable, right: RecordTable, truth: Mapping[str, int]
) -> FieldModel:
    """Family levels among true and false candidate pairs; `no group` weighs nothing."""
    result = link_tables(left, right, parameters, keep_candidates=True)
    assert result.candidate_pairs is not None
    c_left, c_right, _ = result.candidate_pairs
    first = result.links.probability >= 0.5
    levels = family_levels(
        result.left,
        result.right,
        c_left,
        c_right,
        result.links.left[first],
        result.links.right[first],
    )
    t_left, t_right = true_pairs(left.record_ids, right.record_ids, truth)
    is_true = np.isin(c_left * len(right) + c_right, t_left * len(right) + t_right)
    m = np.bincount(levels[is_true], minlength=len(FAMILY_LEVELS)).astype(np.float64)
    u = np.bincount(levels[~is_true], minlength=len(FAMILY_LEVELS)).astype(np.float64)
    m_dist, u_dist = (
        _distribution(m[1:], FAMILY_LEVELS[1:]),
        _distribution(u[1:], FAMILY_LEVELS[1:]),
    )
    return FieldModel({FAMILY_LEVELS[0]: 1.0, **m_dist}, {FAMILY_LEVELS[0]: 1.0, **u_dist})


def fit_calibration(log_odds: FloatArray, label: np.ndarray) -> tuple[float, float]:
    """Slope and intercept (log2 units) of a logistic fit, by Newton's method."""
    x = log_odds * math.log(2)
    slope, intercept = 1.0, 0.0
    y = label.astype(np.float64)
    for _ in range(50):
        z = np.clip(slope * x + intercept, -40, 40)
        p = 1 / (1 + np.exp(-z))
        w = p * (1 - p) + 1e-12
        gradient = np.array([((p - y) * x).sum(), (p - y).sum()])
        hessian = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]])
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        slope, intercept = slope - step[0], intercept - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(slope), float(intercept / math.log(2))


def _calibrate(
    parameters: ModelParameters, left: RecordTable, right: RecordTable, truth: Mapping[str, int]
) -> ModelParameters:
    result = link_tables(left, right, parameters, keep_candidates=True)
    assert result.candidate_pairs is not None
    c_left, c_right, log_odds = result.candidate_pairs
    t_left, t_right = true_pairs(left.record_ids, right.record_ids, truth)
    label = np.isin(c_left * len(right) + c_right, t_left * len(right) + t_right)
    slope, intercept = fit_calibration(log_odds, label)
    return replace(parameters, calibration_slope=slope, calibration_intercept=intercept)


def choose_thresholds(
    parameters: ModelParameters,
    left: RecordTable,
    right: RecordTable,
    truth: Mapping[str, int],
    review_budget: float = 0.02,
) -> Thresholds:
    """The accept threshold with the best F1 at precision >= 0.99, and the lowest review
    threshold keeping the review queue within `review_budget` of the left list."""
    loose = replace(parameters, thresholds=Thresholds(accept=1.01, review=0.01))
    result = link_tables(left, right, loose)
    size = len(right)
    t_left, t_right = true_pairs(left.record_ids, right.record_ids, truth)
    correct = np.isin(result.links.left * size + result.links.right, t_left * size + t_right)
    probability = result.links.probability
    best = (0.0, 0.95)
    for accept in np.arange(0.5, 0.995, 0.01):
        taken = probability >= accept
        hits = int((correct & taken).sum())
        precision = hits / max(int(taken.sum()), 1)
        recall = hits / max(len(t_left), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        if precision >= 0.99 and f1 > best[0]:
            best = (f1, float(accept))
    accept = round(best[1], 2)
    review = accept
    for candidate in np.arange(accept - 0.01, 0.0, -0.01):
        queued = ((probability >= candidate) & (probability < accept)).sum()
        if queued > review_budget * len(left):
            break
        review = float(candidate)
    return Thresholds(accept=accept, review=round(review, 2))


def train(seed: int = 101, world: WorldConfig = TRAINING_WORLD) -> ModelParameters:
    fitting = generate_world(world, seed)
    pipeline = RecordTable.from_rows(fitting.pipeline)
    gop, unhcr = RecordTable.from_rows(fitting.gop), RecordTable.from_rows(fitting.unhcr)
    matches, randoms = _field_counts(pipeline, [gop, unhcr], fitting.truth)
    t_left, _ = true_pairs(pipeline.record_ids, gop.record_ids, fitting.truth)
    parameters = replace(
        untrained(),
        fields=fit_field_models(matches, randoms),
        expected_overlap=round(len(t_left) / len(pipeline), 3),
        trained_on={
            "seed": seed,
            "pipeline": len(pipeline),
            "gop": len(gop),
            "unhcr": len(unhcr),
            "true_pairs_gop": len(t_left),
        },
    )
    parameters = replace(
        parameters, family=_family_model(parameters, pipeline, unhcr, fitting.truth)
    )
    held_out = generate_world(world, seed + 1)
    h_pipeline, h_gop = (
        RecordTable.from_rows(held_out.pipeline),
        RecordTable.from_rows(held_out.gop),
    )
    parameters = _calibrate(parameters, h_pipeline, h_gop, held_out.truth)
    thresholds = choose_thresholds(parameters, h_pipeline, h_gop, held_out.truth)
    parameters = replace(parameters, thresholds=thresholds)
    report = link_scores(link_tables(h_pipeline, h_gop, parameters), held_out.truth)
    parameters.trained_on["held_out"] = {k: v.line() for k, v in report.items()}
    return parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--pipeline", type=int, default=TRAINING_WORLD.pipeline_size)
    parser.add_argument("--gop", type=int, default=TRAINING_WORLD.gop_size)
    args = parser.parse_args()
    world = replace(TRAINING_WORLD, pipeline_size=args.pipeline, gop_size=args.gop)
    parameters = train(args.seed, world)
    parameters.save(args.out)
    print(f"wrote {args.out}: {parameters.trained_on}")


if __name__ == "__main__":
    main()
