"""Train the scorer from labelled pairs: `python -m reconcile.train [--seed N] [--out PATH]`.

1. m: the level distribution of every field over the *true* pairs of a generated world (all of
   them, not only those blocking finds), pipeline against Pakistan's and UNHCR's lists.
2. u: the level distribution over random pairs of the same lists (a run re-estimates it on
   its own lists); name agreement is further weighted by each name's rarity at run time.
3. family context: level distributions among true and false candidate pairs of a first run
   (against UNHCR's households, and against Pakistan's list with households inferred).
4. calibration: a logistic fit of the summed weights to the truth over all candidate pairs of
   a second, independently generated world at the benchmark's scale (25,000 pipeline against
   1,300,000 Pakistani records: namesakes multiply with the list); thresholds chosen on that
   world's links.
Labelled pairs from real reviews (confirmed/rejected links) can replace the generated ones:
`fit_field_models` takes any labelled level counts. See docs/reconciliation.md."""

from __future__ import annotations

import argparse
import csv
import math
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from reconcile.comparison import FIELD_LEVELS, PairLevels, compare_pairs
from reconcile.engine import link_tables
from reconcile.evaluation import Scores, scores, true_mask, true_pairs
from reconcile.family import context_levels
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
from reconcile.synthetic import WorldConfig, generate_world, write_world
from reconcile.table import RecordTable

TRAINING_WORLD = WorldConfig(pipeline_size=4_000, gop_size=200_000, unhcr_size=40_000)
# calibration and thresholds at the benchmark's scale (docs/reconciliation.md)
HELD_OUT_WORLD = WorldConfig(pipeline_size=25_000, gop_size=1_300_000)
MIN_PRECISION = 0.985  # of auto-accepted links, on the held-out world
REVIEW_BUDGET = 0.02  # of the left list, on the held-out world
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


def _context_counts(
    parameters: ModelParameters, left: RecordTable, right: RecordTable, truth: Mapping[str, int]
) -> tuple[FloatArray, FloatArray]:
    """Counts of family-context levels among true and false candidate pairs, from the links of
    a first run as the engine's second pass sees them."""
    result = link_tables(left, right, parameters, keep_candidates=True, rerank=False)
    assert result.candidate_pairs is not None
    c_left, c_right, _ = result.candidate_pairs
    first = result.links.probability >= 0.5
    levels = context_levels(
        result.spaces,
        result.left,
        result.right,
        c_left,
        c_right,
        result.links.left[first],
        result.links.right[first],
    )
    truth_pairs = true_pairs(left.record_ids, right.record_ids, truth)
    is_true = true_mask(c_left, c_right, truth_pairs, len(right))
    m = np.bincount(levels[is_true], minlength=len(FAMILY_LEVELS)).astype(np.float64)
    u = np.bincount(levels[~is_true], minlength=len(FAMILY_LEVELS)).astype(np.float64)
    return m, u


def _family_model(
    parameters: ModelParameters,
    grouped: tuple[RecordTable, RecordTable],
    ungrouped: tuple[RecordTable, RecordTable],
    truth: Mapping[str, int],
) -> FieldModel:
    """Family levels among true and false candidate pairs: the group levels from a run against
    a grouped list (UNHCR), the inferred-household levels from a run against an ungrouped one
    (Pakistan), each level set a distribution of its own; `no group` weighs nothing."""
    m, u = {FAMILY_LEVELS[0]: 1.0}, {FAMILY_LEVELS[0]: 1.0}
    for tables, start, stop in ((grouped, 1, 4), (ungrouped, 4, len(FAMILY_LEVELS))):
        m_counts, u_counts = _context_counts(parameters, *tables, truth)
        names = FAMILY_LEVELS[start:stop]
        m.update(_distribution(m_counts[start:stop], names))
        u.update(_distribution(u_counts[start:stop], names))
    return FieldModel(m, u)


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
    result = link_tables(left, right, parameters, keep_candidates=True, rerank=False)
    assert result.candidate_pairs is not None
    c_left, c_right, log_odds = result.candidate_pairs
    truth_pairs = true_pairs(left.record_ids, right.record_ids, truth)
    label = true_mask(c_left, c_right, truth_pairs, len(right))
    slope, intercept = fit_calibration(log_odds, label)
    return replace(parameters, calibration_slope=slope, calibration_intercept=intercept)


def pick_thresholds(
    probability: FloatArray,
    correct: np.ndarray,
    true_count: int,
    left_count: int,
    review_budget: float = REVIEW_BUDGET,
    min_precision: float = MIN_PRECISION,
) -> Thresholds:
    """From links (their probability, and whether each is a true pair) of a run with loose
    thresholds: the accept threshold with the best F1 at precision >= `min_precision`, and the
    lowest review threshold keeping the review queue within `review_budget` of the left list.
    One loose run gives the links of every stricter setting: assignment is best first, so
    raising the floor only drops its tail."""
    best = (0.0, 0.95)
    for accept in np.arange(0.3, 0.995, 0.01):
        taken = probability >= accept
        hits = int((correct & taken).sum())
        precision = hits / max(int(taken.sum()), 1)
        recall = hits / max(true_count, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        if precision >= min_precision and f1 > best[0]:
            best = (f1, float(accept))
    accept = round(best[1], 2)
    review = accept
    for candidate in np.arange(accept - 0.01, 0.0, -0.01):
        queued = ((probability >= candidate) & (probability < accept)).sum()
        if queued > review_budget * left_count:
            break
        review = float(candidate)
    return Thresholds(accept=accept, review=round(review, 2))


def choose_thresholds(
    parameters: ModelParameters,
    left: RecordTable,
    right: RecordTable,
    truth: Mapping[str, int],
) -> tuple[Thresholds, dict[str, Scores]]:
    """The first stage's thresholds (`pick_thresholds`) on a run of `left` against `right`,
    and the scores the model reaches with them."""
    loose = replace(parameters, thresholds=Thresholds(accept=1.01, review=0.01))
    result = link_tables(left, right, loose, rerank=False)
    size = len(right)
    t_left, t_right = true_pairs(left.record_ids, right.record_ids, truth)
    codes = result.links.left * size + result.links.right
    correct = true_mask(result.links.left, result.links.right, (t_left, t_right), size)
    probability = result.links.probability
    thresholds = pick_thresholds(probability, correct, len(t_left), len(left))
    correct_codes = (t_left * size + t_right).tolist()
    report = {
        "accepted": scores(
            codes[probability >= thresholds.accept].tolist(), correct_codes, len(t_left)
        ),
        "found": scores(
            codes[probability >= thresholds.review].tolist(), correct_codes, len(t_left)
        ),
    }
    return thresholds, report


def benchmark_scale_lists(
    world: WorldConfig, seed: int, directory: Path
) -> tuple[RecordTable, RecordTable, dict[str, int]]:
    """A pipeline and a Pakistani list written to CSV and read back as the benchmark reads
    them (a million-record world is lighter streamed than held as rows)."""
    paths = write_world(directory, world, seed)
    with paths["truth"].open(newline="", encoding="utf-8") as handle:
        truth = {row["record_id"]: int(row["person_id"]) for row in csv.DictReader(handle)}
    return RecordTable.from_csv(paths["pipeline"]), RecordTable.from_csv(paths["gop"]), truth


def train(
    seed: int = 101, world: WorldConfig = TRAINING_WORLD, held_out: WorldConfig = HELD_OUT_WORLD
) -> ModelParameters:
    """Fit m, u and family context on world `seed`; calibrate and choose thresholds on an
    independent world `seed + 1` of `held_out`'s size (the benchmark's, by default: how many
    namesakes compete for a record depends on the size of the list)."""
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
            "held_out_pipeline": held_out.pipeline_size,
            "held_out_gop": held_out.gop_size,
        },
    )
    parameters = replace(
        parameters,
        family=_family_model(parameters, (pipeline, unhcr), (pipeline, gop), fitting.truth),
    )
    del fitting, pipeline, gop, unhcr
    with tempfile.TemporaryDirectory(prefix="sanad-train-") as directory:
        h_pipeline, h_gop, h_truth = benchmark_scale_lists(held_out, seed + 1, Path(directory))
    parameters = _calibrate(parameters, h_pipeline, h_gop, h_truth)
    thresholds, report = choose_thresholds(parameters, h_pipeline, h_gop, h_truth)
    parameters = replace(parameters, thresholds=thresholds)
    parameters.trained_on["held_out"] = {k: v.line() for k, v in report.items()}
    return parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--pipeline", type=int, default=TRAINING_WORLD.pipeline_size)
    parser.add_argument("--gop", type=int, default=TRAINING_WORLD.gop_size)
    parser.add_argument("--held-out-pipeline", type=int, default=HELD_OUT_WORLD.pipeline_size)
    parser.add_argument("--held-out-gop", type=int, default=HELD_OUT_WORLD.gop_size)
    args = parser.parse_args()
    world = replace(TRAINING_WORLD, pipeline_size=args.pipeline, gop_size=args.gop)
    held_out = replace(
        HELD_OUT_WORLD, pipeline_size=args.held_out_pipeline, gop_size=args.held_out_gop
    )
    parameters = train(args.seed, world, held_out)
    parameters.save(args.out)
    print(f"wrote {args.out}: {parameters.trained_on}")


if __name__ == "__main__":
    main()
