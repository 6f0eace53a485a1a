"""Links implied through the third list of a three-list run: which links two others imply, how
the run adds them (probability, decision, evidence, one to one), that two records contradicting
each other are left to a person, that a person's rejection of such a pair holds; and conflicts
among three lists' links, whichever list they pass through."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.engine import link_tables
from reconcile.implied import IMPLIED_ACCEPT, add_implied_links
from reconcile.runs import ListInput, RunOutput, link_rows, reconcile_lists
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable
from reconcile.three_way import LIST_PAIRS, ImpliedLink, implied_links, transitive_conflicts


def test_two_links_through_the_third_list_imply_the_third_where_it_is_free() -> None:
    links = {
        (0, 1): {"a1": "b1", "a2": "b2", "a7": "b4"},
        (1, 2): {"b1": "c1", "b2": "c2", "b3": "c3", "b4": "c4"},
        (0, 2): {"a2": "c2", "a3": "c3", "a9": "c4"},
    }
    assert list(implied_links(links)) == [
        # a3 and c3 are linked, c3 and b3 too: a3 and b3 are one person
        ImpliedLink((0, 1), "a3", "b3", "c3", (("a3", "c3"), ("b3", "c3"))),
        ImpliedLink((0, 2), "a1", "c1", "b1", (("a1", "b1"), ("b1", "c1"))),
        # not a9 and b4 through c4: b4 has its link in that pair (to a7), as c4 has (to a9);
        # a2's three links agree
    ]
    links[(0, 2)]["a8"] = "c1"  # c1 already has its link in that pair: nothing implied for it
    assert [(link.left, link.right) for link in implied_links(links)] == [("a3", "b3")]


def _run(world: SyntheticWorld, reviews: dict[tuple[str, str], bool]) -> RunOutput:
    inputs = [
        ListInput("pipeline", RecordTable.from_rows(world.pipeline)),
        ListInput("unhcr", RecordTable.from_rows(world.unhcr)),
        ListInput("gop", RecordTable.from_rows(world.gop)),
    ]
    return reconcile_lists(inputs, reviews)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(pipeline_size=600, gop_size=20_000, unhcr_size=2_000), 7)


@pytest.fixture(scope="module")
def output(world: SyntheticWorld) -> RunOutput:
    return _run(world, {})


def _implied(output: RunOutput) -> list[dict[str, Any]]:
    return [r for r in output.links if r["evidence"][-1]["field"] == "transitive"]


def test_a_three_list_run_adds_the_links_its_links_imply(
    world: SyntheticWorld, output: RunOutput
) -> None:
    implied = _implied(output)
    assert len(implied) >= 5
    probability = {(r["left_record_id"], r["right_record_id"]): r for r in output.links}
    by_record: dict[str, list[dict[str, Any]]] = {}
    for row in output.links:
        by_record.setdefault(row["left_record_id"], []).append(row)
        by_record.setdefault(row["right_record_id"], []).append(row)
    for row in implied:
        left, right = row["left_record_id"], row["right_record_id"]
        # the two legs through the third list, whichever pair stores them
        legs = [
            link
            for link in by_record[left]
            if link is not row and link["right_list_id"] != row["right_list_id"]
        ]
        assert len(legs) == 1
        via = ({legs[0]["left_record_id"], legs[0]["right_record_id"]} - {left}).pop()
        second = probability.get((via, right)) or probability[(right, via)]
        product = legs[0]["probability"] * second["probability"]
        assert row["probability"] == pytest.approx(product, abs=1e-5)
        fields = {item["field"] for item in row["evidence"]}
        assert {"given", "dob", "documents"} <= fields  # the direct comparison, field by field
        contradicted = any(
            item["field"] in ("documents", "dob") and item["level"] == "different"
            for item in row["evidence"]
        )
        accepted = product >= IMPLIED_ACCEPT and not contradicted
        assert row["decision"] == ("accepted" if accepted else "review")
        if accepted:
            assert world.truth[left] == world.truth[right]
    assert any(row["decision"] == "accepted" for row in implied)
    for pair in {(r["left_list_id"], r["right_list_id"]) for r in output.links}:
        rows = [r for r in output.links if (r["left_list_id"], r["right_list_id"]) == pair]
        assert len({r["left_record_id"] for r in rows}) == len(rows)  # still one to one
        assert len({r["right_record_id"] for r in rows}) == len(rows)


def test_a_pair_a_person_rejected_is_not_implied_again(
    world: SyntheticWorld, output: RunOutput
) -> None:
    row = next(r for r in _implied(output) if r["decision"] == "accepted")
    pair = (row["left_record_id"], row["right_record_id"])
    again = _run(world, {pair: False, pair[::-1]: False})
    assert pair not in {(r["left_record_id"], r["right_record_id"]) for r in again.links}
    assert len(_implied(again)) == len(_implied(output)) - 1


def _person(record_id: str, documents: str) -> dict[str, str]:
    return {
        "record_id": record_id,
        "given_name": "Zabihullah",
        "father_name": "Sher Ali",
        "dob": "1980-05-05",
        "sex": "M",
        "documents": documents,
    }


def _implied_between(gop_documents: str, pending: bool = False) -> dict[str, Any]:
    """One person in three lists, linked pairwise by documents; the direct pipeline-Pakistan
    link taken away, as when the direct comparison alone is too weak (or, `pending`, left
    waiting for review at a low probability): the implied link."""
    tables = [
        RecordTable.from_rows([_person("A1", "unhcr:123-45-67890;tazkira:1400-0101-11111")]),
        RecordTable.from_rows([_person("B1", "unhcr:123-45-67890;por:PK-0012-3456789")]),
        RecordTable.from_rows([_person("C1", gop_documents)]),
    ]
    results = {(i, j): link_tables(tables[i], tables[j]) for i, j in LIST_PAIRS}
    rows = {pair: link_rows(result, str(pair[0]), str(pair[1])) for pair, result in results.items()}
    assert all(row["decision"] == "accepted" for pair in rows for row in rows[pair])
    if pending:
        rows[(0, 2)][0].update(decision="review", probability=0.3)
    else:
        rows[(0, 2)] = []
    assert add_implied_links(results, rows, ["0", "1", "2"], {}) == 1
    (row,) = rows[(0, 2)]
    assert (row["left_record_id"], row["right_record_id"]) == ("A1", "C1")
    return row


def test_an_implied_link_between_records_that_contradict_each_other_waits_for_review() -> None:
    agreeing = _implied_between("por:PK-0012-3456789;tazkira:1400-0101-11111")
    assert agreeing["probability"] >= IMPLIED_ACCEPT and agreeing["decision"] == "accepted"
    # the same person's Pakistani record with another tazkira number
    differing = _implied_between("por:PK-0012-3456789;tazkira:1400-0101-22222")
    assert differing["probability"] >= IMPLIED_ACCEPT and differing["decision"] == "review"
    assert any(e["level"] == "different" for e in differing["evidence"])


def test_a_pending_link_that_is_also_implied_gains_the_evidence() -> None:
    row = _implied_between("por:PK-0012-3456789;tazkira:1400-0101-11111", pending=True)
    assert row["decision"] == "accepted" and row["probability"] >= IMPLIED_ACCEPT
    assert row["evidence"][-1]["field"] == "transitive"


def test_a_missing_link_is_a_conflict_whichever_list_the_others_pass_through() -> None:
    # a1 and c1 linked, c1 and b1 too, a1 and b1 not: seen only through list C
    found = transitive_conflicts({}, {"b1": "c1"}, {"a1": "c1"})
    assert [(c.kind, c.records) for c in found] == [("missing third link", ("a1", "b1", "c1"))]
    found = transitive_conflicts({"a1": "b1"}, {"b2": "c1"}, {"a1": "c1"})
    assert [(c.kind, c.records) for c in found] == [
        ("different third record", ("a1", "b1", "b2", "c1"))
    ]


@given(st.lists(st.sets(st.sampled_from((0, 1, 2)), min_size=1), max_size=30), st.data())
def test_people_linked_in_full_have_no_conflict_and_one_link_less_makes_one(
    people: list[set[int]], data: st.DataObject
) -> None:
    links: dict[tuple[int, int], dict[str, str]] = {pair: {} for pair in LIST_PAIRS}
    for n, held in enumerate(people):  # person n's record in list k is "k-n"
        for i, j in LIST_PAIRS:
            if {i, j} <= held:
                links[(i, j)][f"{i}-{n}"] = f"{j}-{n}"
    assert transitive_conflicts(links[(0, 1)], links[(1, 2)], links[(0, 2)]) == []
    in_all = [n for n, held in enumerate(people) if held == {0, 1, 2}]
    if in_all:
        n = data.draw(st.sampled_from(in_all))
        i, j = data.draw(st.sampled_from(LIST_PAIRS))
        del links[(i, j)][f"{i}-{n}"]
        found = transitive_conflicts(links[(0, 1)], links[(1, 2)], links[(0, 2)])
        assert [(c.kind, c.records) for c in found] == [
            ("missing third link", (f"0-{n}", f"1-{n}", f"2-{n}"))
        ]


@st.composite
def _link_rows(draw: st.DrawFn) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Random one-to-one links among five records per list, accepted or for review."""
    rows: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for i, j in LIST_PAIRS:
        lefts = draw(st.permutations(range(5)))
        rights = draw(st.permutations(range(5)))
        size = draw(st.integers(0, 5))
        rows[(i, j)] = [
            {
                "left_record_id": f"{i}-{a}",
                "right_record_id": f"{j}-{b}",
                "decision": draw(st.sampled_from(("accepted", "accepted", "review"))),
                "probability": draw(st.floats(0.5, 1.0)),
            }
            for a, b in zip(lefts[:size], rights[:size], strict=True)
        ]
    return rows


@given(_link_rows(), st.sets(st.sampled_from([f"{k}-{n}" for k in range(3) for n in range(5)])))
def test_implied_links_of_some_records_are_those_of_all_that_involve_them(
    rows: dict[tuple[int, int], list[dict[str, Any]]], involving: set[str]
) -> None:
    from reconcile.implied import find_implied

    every = find_implied(rows, {})
    expected = {
        pair: [f for f in found if {f.link.left, f.link.right, f.link.via} & involving]
        for pair, found in every.items()
    }
    assert find_implied(rows, {}, involving) == {k: v for k, v in expected.items() if v}


def test_the_records_of_a_link_through_a_changed_record_are_relinked_with_it() -> None:
    from reconcile.relinking import resting_on

    def link(left: str, right: str, decision: str = "accepted") -> dict[str, str]:
        return {"left_record_id": left, "right_record_id": right, "decision": decision}

    standing = [link("a1", "b1"), link("b1", "c1"), link("a1", "c1"), link("a2", "c2")]
    assert resting_on(standing, {"b1"}) == ["a1", "c1"]  # a1-c1 may be implied through b1
    assert resting_on(standing, {"b2"}) == []
    standing[2] = link("a1", "c1", "confirmed")  # a person's decision stands on its own
    assert resting_on(standing, {"b1"}) == []


def _row(left: str, right: str, decision: str = "accepted", held: bool = False) -> dict[str, Any]:
    return {
        "left_record_id": left,
        "right_record_id": right,
        "decision": decision,
        "held_for_conflict": held,
    }


def test_links_a_conflict_holds_still_count_when_its_conflicts_are_read_again() -> None:
    from reconcile.implied import conflicts_around

    rows = {
        (0, 1): [_row("a1", "b1")],
        (1, 2): [_row("b1", "c1", "review", held=True)],
        (0, 2): [_row("a1", "c2")],
    }
    # without b1-c1 this would read as another conflict: a1, b1 and c2 missing a link
    (conflict,) = conflicts_around(rows, {"a1"})
    assert (conflict.kind, conflict.records) == ("different third record", ("a1", "b1", "c1", "c2"))
    rows[(1, 2)][0]["held_for_conflict"] = False  # in review for its score: not a link
    (conflict,) = conflicts_around(rows, {"a1"})
    assert (conflict.kind, conflict.records) == ("missing third link", ("a1", "b1", "c2"))


def test_holding_and_releasing_links_touches_only_the_groups_around_the_records() -> None:
    from reconcile.implied import hold_in_conflict, release_around
    from reconcile.three_way import Conflict

    rows = {
        (0, 1): [_row("a1", "b1"), _row("a5", "b5", "confirmed")],
        (1, 2): [_row("b1", "c1"), _row("b5", "c5")],
        (0, 2): [_row("a1", "c2"), _row("a5", "c6")],
    }
    every = [row for pair in LIST_PAIRS for row in rows[pair]]
    conflicts = [
        Conflict("different third record", ("a1", "b1", "c1", "c2")),
        Conflict("different third record", ("a5", "b5", "c5", "c6")),
    ]
    held = hold_in_conflict(every, conflicts)
    # a person's confirmation stands; every accepted link of a conflict waits for review
    assert sorted((r["left_record_id"], r["right_record_id"]) for r in held) == [
        ("a1", "b1"),
        ("a1", "c2"),
        ("a5", "c6"),
        ("b1", "c1"),
        ("b5", "c5"),
    ]
    assert rows[(0, 1)][1]["decision"] == "confirmed" and not rows[(0, 1)][1]["held_for_conflict"]
    assert all(r["decision"] == "review" and r["held_for_conflict"] for r in held)
    released, around = release_around(rows, {"c2"})
    assert around == {"a1", "b1", "c1", "c2"}
    assert sorted((r["left_record_id"], r["right_record_id"]) for r in released) == [
        ("a1", "b1"),
        ("a1", "c2"),
        ("b1", "c1"),
    ]
    assert all(r["decision"] == "accepted" and not r["held_for_conflict"] for r in released)
    assert rows[(1, 2)][1]["held_for_conflict"]  # the other conflict's links stay held
    # a7's only link waits for review for its score: it joins a7 to no group, and the held
    # links two steps away through it belong to another conflict
    rows[(0, 2)].append(_row("a7", "c5", "review"))
    assert release_around(rows, {"a7"}) == ([], set())


@given(_link_rows(), st.sets(st.sampled_from([f"{k}-{n}" for k in range(3) for n in range(5)])))
def test_reading_conflicts_again_where_nothing_changed_leaves_links_as_the_run_left_them(
    rows: dict[tuple[int, int], list[dict[str, Any]]], involving: set[str]
) -> None:
    from reconcile.implied import conflict_pairs, conflicts_around, hold_in_conflict, release_around

    every = [row for pair in LIST_PAIRS for row in rows[pair]]
    found = transitive_conflicts(*(conflict_pairs(rows[pair]) for pair in LIST_PAIRS))
    hold_in_conflict(every, found)  # as a run leaves them
    before = [dict(row) for row in every]
    _released, around = release_around(rows, involving)
    again = conflicts_around(rows, involving | around)
    hold_in_conflict(every, again)
    assert every == before
    assert set(again) == {c for c in found if set(c.records) & (involving | around)}
