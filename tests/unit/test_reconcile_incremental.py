"""Incremental linking of a pair of lists (reconcile.incremental): a later record competes with
the links the run holds, takes a record only from a weaker standing partner, never from a
confirmed one, and is judged with the whole lists' prior, name rarity, competition, family
context and second stage, as in the run; the worker keeps only the newest run over a set of
lists up to date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from reconcile import scoring
from reconcile.engine import LinkResult, link_tables
from reconcile.incremental import PairContext, StandingLink, relink_left, relink_pair
from reconcile.runs import link_row
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable
from reconcile.worker import newest_runs
from schemas.reconciliation import Reconciliation

LISTS = ("pipeline", "gop")
CARD = "por:PK-5510-3497811"


def _row(record_id: str, given: str, father: str, dob: str, **more: str) -> dict[str, Any]:
    return {"record_id": record_id, "given_name": given, "father_name": father, "dob": dob, **more}


FILLER = [
    ("Zarghona", "Abdul Wali", "1979-11-02"),
    ("Nasir", "Habibullah", "1962-01-15"),
    ("Khalida", "Sayed Jamal", "2001-07-30"),
    ("Obaidullah", "Mir Hamza", "1988-03-09"),
]
PIPELINE = [
    _row("P1", "Shafiq", "Gul Ahmad", "1990-05-03", family_name="Barakzai", documents=CARD),
    *(_row(f"PF{i}", *person) for i, person in enumerate(FILLER)),
]
# Pakistan's weak record of P1: another spelling, a birth year, no card
WEAK = _row("G1", "Shafeeq", "Gul Ahmad", "1990")
GOP = [WEAK, *(_row(f"GF{i}", *person) for i, person in enumerate(FILLER))]
STRONG = _row("G9", "Shafiq", "Gul Ahmad", "1990-05-03", family_name="Barakzai", documents=CARD)


def _standing(decided: bool = False) -> list[StandingLink]:
    return [StandingLink("link-1", "P1", "G1", decided)]


def _pairs(found: Any) -> set[tuple[str, str]]:
    return {(row["left_record_id"], row["right_record_id"]) for row in found.links}


def test_a_stronger_later_record_takes_the_link_and_displaces_the_weaker_one() -> None:
    found = relink_pair(PIPELINE, [*GOP, STRONG], LISTS, ((), {"G9"}), _standing(), {})
    assert ("P1", "G9") in _pairs(found)
    assert found.displaced == ["link-1"]
    assert all(row["right_record_id"] == "G9" for row in found.links)  # only the new record's


def test_a_weaker_later_record_does_not_take_a_linked_record() -> None:
    strong_gop = [STRONG, *GOP[1:]]
    weak_late = {**WEAK, "record_id": "G2"}
    standing = [StandingLink("link-9", "P1", "G9", False)]
    found = relink_pair(PIPELINE, [*strong_gop, weak_late], LISTS, ((), {"G2"}), standing, {})
    assert ("P1", "G2") not in _pairs(found) and found.displaced == []


def test_a_confirmed_link_is_never_displaced() -> None:
    decisions = {("P1", "G1"): True, ("G1", "P1"): True}
    found = relink_pair(PIPELINE, [*GOP, STRONG], LISTS, ((), {"G9"}), _standing(True), decisions)
    assert ("P1", "G9") not in _pairs(found) and found.displaced == []


def test_a_changed_left_record_competes_with_the_standing_partner_of_what_it_takes() -> None:
    # P1's record was corrected: it now carries the card that matches G9, P7 holds G9 weakly
    weak_left = _row("P7", "Shafeeq", "Gul Ahmad", "1990")
    standing = [StandingLink("link-7", "P7", "G9", False)]
    gop = [STRONG, *GOP[1:]]
    found = relink_pair([*PIPELINE, weak_left], gop, LISTS, ({"P1"}, ()), standing, {})
    assert ("P1", "G9") in _pairs(found) and found.displaced == ["link-7"]
    assert all(row["left_record_id"] == "P1" for row in found.links)


def test_a_new_weak_record_is_judged_with_the_whole_lists_prior() -> None:
    # the same weak evidence is less likely a match among many records than among a handful
    few = relink_pair(PIPELINE, GOP, LISTS, ((), {"G1"}), [], {})
    many_gop = GOP + [_row(f"GX{i}", "Someone", "Else", "1950") for i in range(2_000)]
    many = relink_pair(PIPELINE, many_gop, LISTS, ((), {"G1"}), [], {})
    assert few.links and ("P1", "G1") in _pairs(few)
    probability = {(r["left_record_id"], r["right_record_id"]): r["probability"] for r in few.links}
    after = {(r["left_record_id"], r["right_record_id"]): r["probability"] for r in many.links}
    assert after.get(("P1", "G1"), 0.0) < probability[("P1", "G1")]


def test_a_changed_left_record_does_not_take_what_a_stronger_partner_holds() -> None:
    weak_left = _row("P7", "Shafeeq", "Gul Ahmad", "1990")
    standing = [StandingLink("link-1", "P1", "G9", False)]
    gop = [STRONG, *GOP[1:]]
    found = relink_pair([*PIPELINE, weak_left], gop, LISTS, ({"P7"}, ()), standing, {})
    assert ("P7", "G9") not in _pairs(found) and found.displaced == []


def test_a_confirmed_pair_of_a_changed_record_is_not_stored_again() -> None:
    gop = [STRONG, *GOP[1:]]
    decisions = {("P1", "G9"): True, ("G9", "P1"): True}
    again = relink_pair(PIPELINE, gop, LISTS, ({"P1"}, ()), [], decisions)
    assert ("P1", "G9") in _pairs(again)  # the engine forces it…
    held = relink_pair(PIPELINE, gop, LISTS, ({"P1"}, ()), [], decisions, held=[("P1", "G9")])
    assert ("P1", "G9") not in _pairs(held)  # …and the run's own confirmed link stays the one


def test_only_the_newest_run_over_a_set_of_lists_is_kept_up_to_date() -> None:
    def run(agency: str, lists: list[str], day: int) -> Reconciliation:
        return Reconciliation(
            owner_agency_id=agency,
            created_by_client_id="c",
            list_ids=lists,
            finished_at=dt.datetime(2026, 12, day, tzinfo=dt.UTC),
        )

    old, new = run("unhcr", ["p", "u"], 1), run("unhcr", ["u", "p"], 2)
    other_lists, other_agency = run("unhcr", ["p", "u", "g"], 1), run("us", ["p", "u"], 1)
    kept = newest_runs([new, old, other_lists, other_agency])
    assert sorted(kept, key=id) == sorted([new, other_lists, other_agency], key=id)


def _crowd(prefix: str, size: int) -> list[dict[str, Any]]:
    """A list where `Mohammad` is most people's given name and `Zarghona` nobody's."""
    fathers = ("Nasir", "Habibullah", "Sayed Jamal", "Mir Hamza", "Gul Ahmad", "Obaidullah")
    return [
        _row(
            f"{prefix}{i}",
            "Mohammad" if i % 4 else "Ahmad",
            fathers[i % len(fathers)],
            str(1950 + i % 50),
        )
        for i in range(size)
    ]


def _given_weights(links: list[dict[str, Any]]) -> dict[str, float]:
    """left record id -> the bits its link's given name adds"""
    return {
        row["left_record_id"]: next(e["weight"] for e in row["evidence"] if e["field"] == "given")
        for row in links
    }


def test_a_changed_left_record_weighs_names_by_their_rarity_in_the_whole_list() -> None:
    # linked alone against the whole list, a record once weighed every name at the average:
    # Zarghona as little as a run weighs it, Mohammad as much
    rare = ("Zarghona", "Abdul Wali", "1979-03-02")
    common = ("Mohammad", "Abdul Wali", "1981-11-20")
    pipeline = [_row("LR", *rare), _row("LC", *common), *_crowd("PX", 300)]
    gop = [_row("GR", *rare), _row("GC", *common), *_crowd("GX", 300)]
    run = link_tables(RecordTable.from_rows(pipeline), RecordTable.from_rows(gop), rerank=False)
    in_run = _given_weights([link_row(run, k, *LISTS) for k in range(len(run.links))])
    found = relink_pair(pipeline, gop, LISTS, ({"LR", "LC"}, ()), [], {})
    assert _pairs(found) == {("LR", "GR"), ("LC", "GC")}
    relinked = _given_weights(found.links)
    assert relinked["LR"] - relinked["LC"] > 3  # Mohammad is 225 of 302 given names
    assert abs((relinked["LR"] - relinked["LC"]) - (in_run["LR"] - in_run["LC"])) < 0.5


@pytest.fixture(scope="module")
def whole_world() -> tuple[SyntheticWorld, LinkResult]:
    """Whole lists large enough for the second stage and for u sampled from random pairs, and
    the run over them."""
    world = generate_world(WorldConfig(pipeline_size=300, gop_size=6_000, unhcr_size=10), 11)
    return world, link_tables(
        RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.gop)
    )


def test_records_relinked_unchanged_get_the_run_s_links_second_stage_and_all(
    whole_world: tuple[SyntheticWorld, LinkResult],
) -> None:
    # a record relinked alone must be judged with the run's competition, family context and
    # trees, not by the first stage
    world, run = whole_world
    in_run = {
        row["left_record_id"]: (row["right_record_id"], row["probability"])
        for row in (link_row(run, k, *LISTS) for k in range(len(run.links)))
    }
    standing = [StandingLink(f"link-{a}", a, b, False) for a, (b, _) in in_run.items()]
    relinked = {}
    for row in world.pipeline[:12]:
        mine = row["record_id"]
        others = [s for s in standing if s.left_record_id != mine]
        found = relink_pair(world.pipeline, world.gop, LISTS, ({mine}, ()), others, {})
        assert {r["left_record_id"] for r in found.links} <= {mine}
        relinked |= {
            r["left_record_id"]: (r["right_record_id"], r["probability"]) for r in found.links
        }
    assert relinked == {k: v for k, v in in_run.items() if k in relinked}
    assert set(relinked) == {row["record_id"] for row in world.pipeline[:12]} & set(in_run)
    assert len(relinked) >= 8


def test_a_u_sampled_before_is_reused_and_links_as_sampling_it_again(
    whole_world: tuple[SyntheticWorld, LinkResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _ = whole_world
    pipeline = RecordTable.from_rows(world.pipeline)
    mine = {world.pipeline[0]["record_id"]}
    sampled = relink_left(PairContext(LISTS, [], {}), pipeline, mine, world.gop)
    assert sampled.u is not None and sampled.links
    samplings: list[int] = []
    sample = scoring.random_pair_levels
    monkeypatch.setattr(
        scoring, "random_pair_levels", lambda *a, **k: samplings.append(1) or sample(*a, **k)
    )
    reused = relink_left(PairContext(LISTS, [], {}, u=sampled.u), pipeline, mine, world.gop)
    assert samplings == [] and reused.u is sampled.u
    assert reused.links == sampled.links
    # the u is what the links are weighed with: another u gives other probabilities
    other = {name: np.roll(u, 1) for name, u in sampled.u.items()}
    elsewhere = relink_left(PairContext(LISTS, [], {}, u=other), pipeline, mine, world.gop)
    assert [r["probability"] for r in elsewhere.links] != [r["probability"] for r in sampled.links]
