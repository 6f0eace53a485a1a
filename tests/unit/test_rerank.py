"""The second stage of scoring: competition features as pure functions (against a brute-force
reading), the numpy tree evaluator against scikit-learn's own predictions, the stored model's
round trip, where the engine applies it, and how its thresholds are chosen."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.comparison import FIELD_LEVELS, PairLevels
from reconcile.engine import link_tables
from reconcile.parameters import Thresholds
from reconcile.prepare import RunSpaces, prepare
from reconcile.rerank import MIN_LIST, Reranker, TreeEnsemble, load_reranker
from reconcile.rerank_features import (
    FEATURES,
    GAP_CAP,
    RECORD_FEATURES,
    Competition,
    _lead,
    candidate_features,
    record_features,
)
from reconcile.synthetic import WorldConfig, generate_world
from reconcile.table import RecordTable
from reconcile.train import pick_thresholds
from reconcile.train_rerank import LINK_REVIEW_BUDGET, fit_trees, train_rerank


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(-30, 30)),
        min_size=1,
        max_size=25,
    )
)
def test_lead_is_the_margin_over_the_best_other_pair_of_the_same_record(
    rows: list[tuple[int, int]],
) -> None:
    key = np.asarray([k for k, _ in rows], np.int64)
    value = np.asarray([float(v) for _, v in rows])
    gap, count, rank = _lead(key, value, 5)
    for i, (k, v) in enumerate(rows):
        others = [w for j, (kk, w) in enumerate(rows) if kk == k and j != i]
        expected = min(max(v - max(others), -GAP_CAP), GAP_CAP) if others else GAP_CAP
        assert gap[i] == expected
        assert count[i] == len(others) + 1
        greater, tied = sum(w > v for w in others), sum(w == v for w in others)
        assert greater <= rank[i] <= greater + tied  # equals in some order
    for k in set(key.tolist()):
        assert sorted(rank[key == k].tolist()) == list(range(int((key == k).sum())))


def test_no_candidates_give_no_features() -> None:
    gap, count, rank = _lead(np.zeros(0, np.int64), np.zeros(0), 3)
    assert len(gap) == len(count) == len(rank) == 0


@pytest.fixture(scope="module")
def fitted() -> tuple[TreeEnsemble, np.ndarray, object]:
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(4_000, 6))
    matrix[rng.random(matrix.shape) < 0.05] = np.nan  # missing values take their own branch
    label = (np.nan_to_num(matrix[:, 0]) + 0.5 * np.nan_to_num(matrix[:, 3]) ** 2) > 0.4
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, random_state=0)
    model.fit(matrix, label)
    from reconcile.train_rerank import export

    return export(model), matrix, model


def test_exported_trees_predict_what_scikit_learn_predicts(
    fitted: tuple[TreeEnsemble, np.ndarray, object],
) -> None:
    ensemble, matrix, model = fitted
    for rows in (matrix, matrix + 0.25):  # values between the training points too
        expected = model.decision_function(rows)  # type: ignore[attr-defined]
        assert np.abs(ensemble.decision(rows) - expected).max() < 1e-9


def test_fit_trees_refuses_nothing_it_can_reproduce() -> None:
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(2_000, 3))
    ensemble = fit_trees(matrix, matrix[:, 1] > 0)
    probability = ensemble.probability(matrix)
    assert ((probability > 0.5) == (matrix[:, 1] > 0)).mean() > 0.97


def test_the_stored_second_stage_round_trips_and_matches_the_features() -> None:
    stored = load_reranker()
    assert stored is not None, "reconcile/rerank.json is missing: python -m reconcile.train_rerank"
    assert stored.features == FEATURES
    again = Reranker.from_json(stored.to_json())
    assert again == stored
    assert 0 < stored.thresholds.review <= stored.thresholds.accept < 1


def _constant(log_odds: float) -> Reranker:
    leaf = TreeEnsemble([0], [-1], [0.0], [0], [0], [False], [0.0], log_odds)
    return Reranker(leaf, Thresholds(accept=0.9, review=0.5))


def test_the_engine_uses_the_second_stage_only_between_whole_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = generate_world(WorldConfig(pipeline_size=MIN_LIST + 50, gop_size=5_000), 11)
    left, right = RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.gop)
    # every pair the trees re-read gets probability 0.6: all of them for review, none accepted
    monkeypatch.setattr("reconcile.engine.load_reranker", lambda: _constant(np.log(1.5)))
    reranked = link_tables(left, right)
    assert len(reranked.links) and set(reranked.links.probability.round(6).tolist()) == {0.6}
    assert set(reranked.links.decision.tolist()) == {1}  # review
    first_only = link_tables(left, right, rerank=False)
    assert set(first_only.links.decision.tolist()) >= {0}
    small = RecordTable.from_rows(world.pipeline[: MIN_LIST - 1])
    assert np.array_equal(
        link_tables(small, right).links.probability,
        link_tables(small, right, rerank=False).links.probability,
    )


def _record_features(rows: list[dict[str, str]], rarity: bool) -> np.ndarray:
    spaces = RunSpaces.new()
    prepared = prepare(spaces, RecordTable.from_rows(rows))
    bits = {name: np.arange(len(spaces.names.strings.values), dtype=float) for name in ("father",)}
    return record_features(spaces, prepared, bits if rarity else {})


def test_record_features_say_what_each_record_holds_at_all() -> None:
    rows = [
        {"record_id": "a", "given_name": "Shafiq", "father_name": "Gul Ahmad", "dob": "1990",
         "status": "detained"},
        {"record_id": "b", "name_native": "محمد", "family_name": "Barakzai", "dob": "1990-05-03",
         "documents": "por:PK-5510-3497811;tazkira:1400-0101-12345", "status": "documented"},
    ]  # fmt: skip
    features = _record_features(rows, rarity=True)
    column = {name: features[:, i].tolist() for i, name in enumerate(RECORD_FEATURES)}
    assert column["detained"] == [1.0, 0.0]
    assert column["holds_card"] == [0.0, 1.0]
    assert column["documents"] == [0.0, 2.0]
    assert column["dob_precision"][0] < column["dob_precision"][1]
    assert column["has_family"] == [0.0, 1.0] and column["has_father"] == [1.0, 0.0]
    assert column["latin_given"] == [1.0, 0.0]
    assert column["rarity_father"][0] > 0 and np.isnan(column["rarity_father"][1])
    assert np.isnan(column["rarity_given"]).all()  # no rarity counted for that field: missing
    assert np.isnan(_record_features(rows, rarity=False)[:, -3:]).all()


def test_candidate_features_carry_each_side_s_record_features() -> None:
    levels = {name: np.zeros(3, np.int8) for name in FIELD_LEVELS}
    pairs = PairLevels(np.array([0, 1, 1]), np.array([2, 0, 1]), levels, {})
    weights = {name: np.zeros(3) for name in FIELD_LEVELS}
    left = np.array([[10.0], [11.0]]).repeat(len(RECORD_FEATURES), axis=1)
    right = np.array([[20.0], [21.0], [22.0]]).repeat(len(RECORD_FEATURES), axis=1)
    log_odds = np.array([-9.0, 1.0, 3.0])
    competition = Competition.of(pairs, log_odds, (len(left), len(right)))
    assert competition.lead().tolist() == [GAP_CAP, -2.0, 2.0]  # pair 0 alone on both sides
    rows, matrix = candidate_features(
        pairs,
        weights,
        log_odds,
        np.zeros(3),
        np.zeros(3, np.int64),
        competition,
        (left.__getitem__, right.__getitem__),
        -8,
    )
    assert rows.tolist() == [1, 2] and matrix.shape == (2, len(FEATURES))
    first_left = FEATURES.index(f"left_{RECORD_FEATURES[0]}")
    first_right = FEATURES.index(f"right_{RECORD_FEATURES[0]}")
    assert matrix[:, first_left].tolist() == [11.0, 11.0]
    assert matrix[:, first_right].tolist() == [20.0, 21.0]
    assert matrix[:, FEATURES.index("gap_left")].tolist() == [-2.0, 2.0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=300),
    st.sampled_from([0.01, 0.02, 0.0275, 0.05]),
)
def test_thresholds_keep_the_review_queue_within_its_budget(
    links: list[tuple[float, bool]], budget: float
) -> None:
    probability = np.asarray([p for p, _ in links])
    correct = np.asarray([c for _, c in links])
    left_count = 2 * len(links)
    chosen = pick_thresholds(probability, correct, int(correct.sum()), left_count, budget)
    queued = ((probability >= chosen.review) & (probability < chosen.accept)).sum()
    assert chosen.review <= chosen.accept
    assert queued <= budget * left_count


def test_choosing_thresholds_again_keeps_the_trees() -> None:
    stored = load_reranker()
    assert stored is not None
    world = WorldConfig(pipeline_size=400, gop_size=12_000)
    again = train_rerank(seed=7, world=world, more_worlds=0, keep_trees=stored)
    assert again.ensemble is stored.ensemble
    assert again.trained_on["seeds"] == stored.trained_on["seeds"]  # what the trees were fitted on
    held_out = again.trained_on["held_out_half"]
    assert isinstance(held_out, dict) and held_out["review_budget"] == LINK_REVIEW_BUDGET
    assert 0 < again.thresholds.review <= again.thresholds.accept < 1
