"""The standing links the incremental worker holds between polls (reconcile.standing): reading
only the groups of linked records around a change gives the three-way steps the very results
they give on every link of the run, and a stored change leaves the copy as a fresh read would."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconcile.implied import conflicts_around, find_implied, release_around, rows_by_pair
from reconcile.incremental import StandingLink
from reconcile.standing import StandingLinks
from reconcile.three_way import LIST_PAIRS

Row = dict[str, Any]
LISTS = ("L0", "L1", "L2")
RECORDS = [f"{k}-{n}" for k in range(3) for n in range(6)]


def _row(link_id: str, i: int, a: int, j: int, b: int, decision: str, held: bool = False) -> Row:
    return {
        "id": link_id,
        "left_list_id": LISTS[i],
        "left_record_id": f"{i}-{a}",
        "right_list_id": LISTS[j],
        "right_record_id": f"{j}-{b}",
        "decision": decision,
        "probability": 0.9,
        "held_for_conflict": held,
    }


@st.composite
def _links(draw: st.DrawFn, prefix: str = "s") -> list[Row]:
    """One-to-one links among six records per list: accepted, confirmed, for review, or held
    for review by a conflict."""
    rows = []
    for i, j in LIST_PAIRS:
        lefts, rights = draw(st.permutations(range(6))), draw(st.permutations(range(6)))
        for k in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(("accepted", "accepted", "confirmed", "review", "held")))
            decision = "review" if kind == "held" else kind
            link_id = f"{prefix}{i}{j}-{k}"
            rows.append(_row(link_id, i, lefts[k], j, rights[k], decision, kind == "held"))
    return rows


def _three_way_steps(rows: list[Row], involving: set[str]) -> tuple[Any, ...]:
    """What the worker's three-way steps read off the links (reconcile.relinking._three_way)."""
    by_pair = rows_by_pair(rows, LISTS)
    released, around = release_around(by_pair, involving)
    involving = involving | around
    implied = find_implied(by_pair, {}, involving)
    conflicts = conflicts_around(by_pair, involving)
    return sorted(row["id"] for row in released), around, implied, set(conflicts)


@given(
    _links(),
    _links(prefix="n"),
    st.sets(st.sampled_from(RECORDS), max_size=4),
    st.data(),
)
def test_the_groups_around_a_change_give_what_every_link_gives(
    standing: list[Row], new: list[Row], involving: set[str], data: st.DataObject
) -> None:
    removed = data.draw(st.sets(st.sampled_from([row["id"] for row in standing] or ["none"])))

    # new links join records free in their pair (their links removed, or none), one-to-one as
    # relinking makes them
    def ends(row: Row) -> set[tuple[str, str, str]]:
        pair = (row["left_list_id"], row["right_list_id"])
        return {(*pair, row["left_record_id"]), (*pair, row["right_record_id"])}

    taken = {end for row in standing if row["id"] not in removed for end in ends(row)}
    fresh = []
    for row in new[: data.draw(st.integers(0, 3))]:
        if not ends(row) & taken:
            fresh.append(row)
            taken |= ends(row)
    new = fresh
    involving |= {end for row in new for end in (row["left_record_id"], row["right_record_id"])}
    held = StandingLinks(0, copy.deepcopy(standing))
    everything = [row for row in copy.deepcopy(standing) if row["id"] not in removed]
    expected = _three_way_steps([*everything, *copy.deepcopy(new)], involving)
    group = held.group(involving, removed, copy.deepcopy(new))
    assert _three_way_steps(group, set(involving)) == expected
    # the held rows themselves are never changed by the steps (they work on copies)
    assert sorted(held.rows(), key=lambda row: row["id"]) == sorted(
        standing, key=lambda row: row["id"]
    )


@given(_links(), _links(prefix="n"), st.sets(st.sampled_from(RECORDS), max_size=5))
def test_a_stored_change_leaves_the_copy_as_a_fresh_read_would(
    before: list[Row], after: list[Row], touched: set[str]
) -> None:
    """`after` stands for what the database holds once a change is stored; the change touched
    only links of `touched` records, so every other link is as `before` had it."""

    def touches(row: Row) -> bool:
        return bool({row["left_record_id"], row["right_record_id"]} & touched)

    stored = [row for row in before if not touches(row)] + [row for row in after if touches(row)]
    held = StandingLinks(0, before)
    held.replace_around(touched, [row for row in stored if touches(row)])
    fresh = StandingLinks(0, stored)
    assert sorted(row["id"] for row in held.rows()) == sorted(row["id"] for row in stored)
    for record in RECORDS:
        assert {row["id"] for row in held.links_of(record)} == {
            row["id"] for row in fresh.links_of(record)
        }


@given(_links(), st.sets(st.sampled_from(RECORDS), max_size=3))
def test_links_near_records_are_those_within_so_many_links(
    rows: list[Row], records: set[str]
) -> None:
    held = StandingLinks(0, rows)

    def ends(row: Row) -> set[str]:
        return {row["left_record_id"], row["right_record_id"]}

    first = {row["id"] for row in rows if ends(row) & records}
    assert {row["id"] for row in held.near(records, hops=1)} == first
    reached = records | {end for row in rows if ends(row) & records for end in ends(row)}
    second = {row["id"] for row in rows if ends(row) & reached}
    assert {row["id"] for row in held.near(records, hops=2)} == second


@given(_links(), st.data())
def test_a_pair_s_partners_are_its_links_by_record_but_those_left_out(
    rows: list[Row], data: st.DataObject
) -> None:
    without = data.draw(st.sets(st.sampled_from([row["id"] for row in rows] or ["none"])))
    pair = data.draw(st.sampled_from(LIST_PAIRS))
    lists = (LISTS[pair[0]], LISTS[pair[1]])
    partners = StandingLinks(0, rows).pair(lists, without)
    mine = [
        StandingLink(
            row["id"], row["left_record_id"], row["right_record_id"], row["decision"] == "confirmed"
        )
        for row in rows
        if (row["left_list_id"], row["right_list_id"]) == lists and row["id"] not in without
    ]
    assert dict(partners.by_left()) == {link.left_record_id: link for link in mine}
    assert dict(partners.by_right()) == {link.right_record_id: link for link in mine}
    for record in RECORDS:
        assert (record in partners.by_left()) == any(x.left_record_id == record for x in mine)
