"""The linking engine on a small generated world: blocking keeps true pairs, links are one to
one and accurate, decisions by people hold, explanations read well; assignment, competition
and three-way conflicts as pure functions; the generator is deterministic."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.assignment import assign_one_to_one, compete
from reconcile.blocking import candidate_pairs
from reconcile.engine import LinkResult, link_tables
from reconcile.evaluation import link_scores, true_pairs
from reconcile.explain import CLEAR_LEAD, competition, evidence, reason
from reconcile.prepare import RunSpaces, prepare
from reconcile.rerank_features import GAP_CAP
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable
from reconcile.three_way import clusters, transitive_conflicts
from reconcile.visible import visible_evidence


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(pipeline_size=600, gop_size=20_000, unhcr_size=2_000), 7)


@pytest.fixture(scope="module")
def linked(world: SyntheticWorld) -> LinkResult:
    return link_tables(RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.gop))


def test_generator_is_deterministic_by_seed() -> None:
    config = WorldConfig(pipeline_size=50, gop_size=500)
    assert generate_world(config, 3).gop == generate_world(config, 3).gop
    assert generate_world(config, 3).gop != generate_world(config, 4).gop


def test_blocking_keeps_true_pairs(world: SyntheticWorld) -> None:
    left, right = RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.gop)
    spaces = RunSpaces.new()
    a, b = prepare(spaces, left), prepare(spaces, right)
    found = candidate_pairs(a, b, spaces)
    t_left, t_right = true_pairs(left.record_ids, right.record_ids, world.truth)
    kept = np.isin(t_left * len(b) + t_right, found.left * len(b) + found.right).mean()
    assert kept >= 0.98
    assert len(found.left) < 400 * len(a)


def test_links_are_one_to_one_and_accurate(linked: LinkResult, world: SyntheticWorld) -> None:
    links = linked.links
    assert len(set(links.left.tolist())) == len(links) == len(set(links.right.tolist()))
    scores = link_scores(linked, world.truth)["accepted"]
    assert scores.precision >= 0.97 and scores.recall >= 0.88, scores


def test_a_list_that_never_records_a_field_loses_no_evidence_by_it(
    linked: LinkResult, world: SyntheticWorld
) -> None:
    # a checkpoint's list without districts or sex: "missing" says nothing either way, even
    # where every random pair of these lists has it (it once cost each pair 20 bits)
    blank = [{**row, "province": "", "district": "", "sex": ""} for row in world.gop]
    result = link_tables(RecordTable.from_rows(world.pipeline), RecordTable.from_rows(blank))
    assert not result.links.weights["place"].any() and not result.links.weights["sex"].any()
    recall = link_scores(result, world.truth)["accepted"].recall
    assert recall >= 0.9 * link_scores(linked, world.truth)["accepted"].recall


def test_explanations_name_fields_levels_and_weights(linked: LinkResult) -> None:
    items = evidence(linked, 0)
    assert {e.field for e in items} >= {"given", "father", "dob", "documents", "sex", "place"}
    assert all(isinstance(e.weight, float) for e in items)
    assert abs(items[0].weight) >= abs(items[-1].weight)
    line = reason(items)
    assert line and line.count(",") <= 3
    assert items[-1].field == "competition" and line.endswith(f"; {items[-1].phrase}")


@pytest.mark.parametrize(
    ("lead", "level", "phrase"),
    [
        (GAP_CAP, "alone", "no other candidate for either record"),
        (9.26, "clear lead", "no rival within 9.3 bits"),
        (CLEAR_LEAD - 0.01, "narrow lead", "a rival within 6.0 bits"),
        (-2.0, "behind", "a rival 2.0 bits stronger"),
    ],
)
def test_competition_says_how_a_link_stands_against_its_rivals(
    lead: float, level: str, phrase: str
) -> None:
    found = competition(lead)
    assert (found.level, found.phrase, found.weight) == (level, phrase, 0.0)


def test_competition_is_shown_whatever_the_view_and_fields_only_where_both_sides_see_them() -> None:
    items = [
        {"field": "father", "level": "exact", "weight": 7.0, "phrase": "father name agrees"},
        {"field": "competition", "level": "alone", "weight": 0.0, "phrase": "no other candidate"},
    ]
    assert [i["field"] for i in visible_evidence(items, frozenset(), frozenset())] == [
        "competition"
    ]
    both = frozenset({"father_name"})
    assert len(visible_evidence(items, both, both)) == 2


def test_people_s_decisions_hold(world: SyntheticWorld, linked: LinkResult) -> None:
    left, right = linked.left.table, linked.right.table
    first = (
        left.record_ids[int(linked.links.left[0])],
        right.record_ids[int(linked.links.right[0])],
    )
    odd = (left.record_ids[1], right.record_ids[5])
    again = link_tables(left, right, decisions={first: False, odd: True})
    pairs = {
        (left.record_ids[a], right.record_ids[b]): d
        for a, b, d in zip(
            again.links.left.tolist(),
            again.links.right.tolist(),
            again.links.decision.tolist(),
            strict=True,
        )
    }
    assert first not in pairs
    assert pairs[odd] == 2  # confirmed


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(0, 1)), max_size=30))
def test_assignment_uses_each_record_once_best_first(rows: list[tuple[int, int, float]]) -> None:
    left = np.asarray([r[0] for r in rows], np.int64)
    right = np.asarray([r[1] for r in rows], np.int64)
    probability = np.asarray([r[2] for r in rows], float)
    kept = assign_one_to_one(probability, left, right, 0.2)
    assert len(set(left[kept].tolist())) == len(kept) == len(set(right[kept].tolist()))
    assert (probability[kept] >= 0.2).all()
    if len(rows) and probability.max() >= 0.2:
        assert probability[kept].max() == probability.max()


def test_competition_shares_probability_between_namesakes() -> None:
    p = compete(np.asarray([0.9, 0.9, 0.9]), np.asarray([0, 0, 1]), np.asarray([0, 1, 2]), 2, 3)
    assert p[0] == pytest.approx(9 / 19) and p[0] == p[1]
    assert p[2] == pytest.approx(0.9)


def test_three_way_conflicts_are_surfaced() -> None:
    ab, bc = {"a1": "b1", "a2": "b2"}, {"b1": "c1", "b2": "c2"}
    conflicts = transitive_conflicts(ab, bc, {"a1": "c9"})
    assert [(c.kind, c.records) for c in conflicts] == [
        ("different third record", ("a1", "b1", "c1", "c9")),
        ("missing third link", ("a2", "b2", "c2")),
    ]
    assert transitive_conflicts(ab, bc, {"a1": "c1", "a2": "c2"}) == []
    assert {"a1", "b1", "c1"} in clusters(ab, bc, {"a1": "c1"})


def test_family_context_links_a_case_into_a_household(world: SyntheticWorld) -> None:
    result = link_tables(RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.unhcr))
    supported = result.links.levels["family_context"] >= 2
    assert supported.any()
    assert (result.links.weights["family_context"][supported] > 0).all()


def test_a_person_claim_finds_its_record_across_spellings_and_calendars() -> None:
    from reconcile.verification import score_person_claim

    candidates = [
        {"record_id": "R1", "given_name": "Shafeeq", "father_name": "Abdul Ghafur", "dob": "1363"},
        {"record_id": "R2", "given_name": "Shafiq", "father_name": "Noor Ahmad", "dob": "1984"},
        {"record_id": "R3", "given_name": "شفیق", "father_name": "عبدالغفور", "dob": "1990"},
    ]
    claim = {"given_name": "Shafiq", "father_name": "Abdul Ghafoor", "dob": "1984"}
    scored = score_person_claim(claim, candidates, searched_records=25_000)
    assert [s.record_id for s in scored][:1] == ["R1"]
    assert scored[0].decision == "accepted" and "Shafiq≈Shafeeq" in scored[0].reason
    assert score_person_claim(claim, [], 25_000) == []


def test_a_person_claim_fitting_twins_names_both_for_review() -> None:
    """Twins share name, father and birth date: neither is accepted, and both come back for a
    person to decide instead of an empty answer that would read as 'not in the pipeline'."""
    from reconcile.verification import score_person_claim

    twin = {"given_name": "Jawad", "father_name": "Qasem", "dob": "1991-05-04"}
    candidates = [
        {"record_id": "T1", **twin},
        {"record_id": "T2", **twin},
        {"record_id": "X", "given_name": "Karim", "father_name": "Noor", "dob": "1991-05-04"},
    ]
    claim = {"given_name": "Jawad", "father_name": "Qasim", "dob": "1991"}
    scored = score_person_claim(claim, candidates, searched_records=25_000)
    assert sorted(s.record_id for s in scored) == ["T1", "T2"]
    assert {s.decision for s in scored} == {"review"}
    alone = score_person_claim(claim, [candidates[0], candidates[2]], searched_records=25_000)
    assert [(s.record_id, s.decision) for s in alone] == [("T1", "accepted")]


def test_a_person_claim_weighs_names_by_their_rarity_in_the_lists_searched() -> None:
    """A checkpoint's claim is scored against the few records born near the claimed date; its
    names must weigh what the whole lists searched make them, as in a run: a unique given name
    more than the list's commonest, which without those counts weigh the same."""
    from reconcile.name_counts import NameCounts
    from reconcile.verification import score_person_claim

    pipeline = generate_world(WorldConfig(pipeline_size=3_000, gop_size=10, unhcr_size=10), 3)
    given = Counter(row.get("given_name") for row in pipeline.pipeline)
    commonest = next(name for name, _ in given.most_common() if name)
    claims = {
        "common": {"given_name": commonest, "father_name": "Abdul Wali", "dob": "1979"},
        "rare": {"given_name": "Zarghunshah", "father_name": "Abdul Wali", "dob": "1979"},
    }
    searched = [*pipeline.pipeline, *({"record_id": k, **c} for k, c in claims.items())]
    counts = NameCounts.of(RecordTable.from_rows(searched))
    assert counts.counts["given"]  # and the claim's names are among them

    def probability(key: str, names: NameCounts | None) -> float:
        candidate = [row for row in searched if row["record_id"] == key]
        scored = score_person_claim(claims[key], candidate, len(searched), None, names)
        return scored[0].probability

    assert probability("rare", None) == probability("common", None)
    assert probability("rare", counts) > probability("common", counts)
    assert probability("rare", counts) > probability("rare", None)


def test_three_lists_link_pairwise_with_conflicts_counted(world: SyntheticWorld) -> None:
    from reconcile.runs import ListInput, reconcile_lists

    inputs = [
        ListInput("pipeline", RecordTable.from_rows(world.pipeline[:300])),
        ListInput("unhcr", RecordTable.from_rows(world.unhcr)),
        ListInput("gop", RecordTable.from_rows(world.gop[:5_000])),
    ]
    output = reconcile_lists(inputs, {})
    pairs = {(row["left_list_id"], row["right_list_id"]) for row in output.links}
    assert pairs == {("pipeline", "unhcr"), ("pipeline", "gop"), ("unhcr", "gop")}
    assert output.counts["conflicts"] == len(output.conflicts)
    for conflict in output.conflicts:
        involved = set(conflict["records"])  # type: ignore[arg-type]
        assert all(
            row["decision"] != "accepted"
            for row in output.links
            if {row["left_record_id"], row["right_record_id"]} & involved
        )


def test_a_household_is_inferred_in_a_list_without_groups() -> None:
    from reconcile.family import INFERRED_BOTH, INFERRED_NONE, NO_GROUP, context_levels

    left_rows = [
        {"record_id": "pa", "given_name": "Mohammad Nabi", "group_id": "C1", "relationship": "PA"},
        {"record_id": "ch", "given_name": "Ahmad", "father_name": "Mohammad Nabi",
         "group_id": "C1", "relationship": "CH"},
    ]  # fmt: skip
    child = {"given_name": "Ahmad", "father_name": "Mohammad Nabi"}
    right_rows = [
        {"record_id": "r0", "given_name": "Mohammad Nabi", "family_name": "Safi",
         "district": "Peshawar"},
        {"record_id": "r1", **child, "family_name": "Safi", "district": "Peshawar"},
        {"record_id": "r2", **child, "district": "Kohat"},
    ]  # fmt: skip
    spaces = RunSpaces.new()
    left = prepare(spaces, RecordTable.from_rows(left_rows))
    right = prepare(spaces, RecordTable.from_rows(right_rows))
    levels = context_levels(
        spaces,
        left,
        right,
        np.asarray([1, 1, 0]),
        np.asarray([1, 2, 0]),
        np.asarray([0]),
        np.asarray([0]),
    )
    # the child's namesake in the father's district with his family name, one elsewhere, and
    # the father's own link (no other member of the case is linked)
    assert levels.tolist() == [INFERRED_BOTH, INFERRED_NONE, NO_GROUP]


def test_a_prepared_right_list_links_as_one_prepared_afresh(
    world: SyntheticWorld, linked: LinkResult
) -> None:
    others = RecordTable.from_rows(world.pipeline[:50])
    reused = link_tables(others, linked.right.table, prepared_right=(linked.spaces, linked.right))
    fresh = link_tables(others, RecordTable.from_rows(world.gop))
    assert len(reused.links) and reused.links.left.tolist() == fresh.links.left.tolist()
    assert reused.links.right.tolist() == fresh.links.right.tolist()
    assert np.allclose(reused.links.probability, fresh.links.probability)


def test_both_lists_prepared_and_u_reused_link_as_afresh(
    world: SyntheticWorld, linked: LinkResult
) -> None:
    # a change's second linking reuses the first one's prepared lists and u
    again = link_tables(
        linked.left.table,
        linked.right.table,
        prepared_right=(linked.spaces, linked.right),
        prepared_left=linked.left,
        u=linked.scorer.u,
    )
    assert len(again.links) == len(linked.links)
    assert again.links.right.tolist() == linked.links.right.tolist()
    assert np.array_equal(again.links.probability, linked.links.probability)
