"""A list held prepared between incremental polls and brought up to date with later changes
links as the same list prepared afresh; tables appended keep one code per value; a name space
that lives on (a held list's) derives the same arrays as a fresh one; a pair's u is kept while
the lists change little."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.engine import LinkResult, link_tables
from reconcile.held_lists import HeldList, HeldLists
from reconcile.prepare import prepare
from reconcile.spaces import NameSpace
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable

Row = dict[str, str]
T0 = 41  # a change feed position


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(pipeline_size=300, gop_size=6_000, unhcr_size=600), 11)


def _link(left: list[Row], right: RecordTable, held: HeldLists | None = None) -> LinkResult:
    population = (300, len(right))
    if held is None:
        return link_tables(RecordTable.from_rows(left), right, population=population)
    kept = held.get("list")
    assert kept is not None
    prepared = (kept.spaces, kept.prepared)
    return link_tables(
        RecordTable.from_rows(left), right, population=population, prepared_right=prepared
    )


def _in_order(held: HeldList, rows: list[Row]) -> list[Row]:
    by_id = {row["record_id"]: row for row in rows}
    return [by_id[rid] for rid in held.prepared.table.record_ids]


def _pairs(result: LinkResult) -> dict[tuple[str, str], float]:
    left, right = result.left.table.record_ids, result.right.table.record_ids
    return {
        (left[int(a)], right[int(b)]): round(float(p), 9)
        for a, b, p in zip(
            result.links.left, result.links.right, result.links.probability, strict=True
        )
    }


# Pakistan's list (no groups) and UNHCR's (households: group codes must survive the update)
@pytest.mark.parametrize("name", ["gop", "unhcr"])
def test_a_held_list_brought_up_to_date_links_as_one_prepared_afresh(
    world: SyntheticWorld, name: str
) -> None:
    rows: list[Row] = getattr(world, name)
    truth = world.truth
    members = {truth[row["record_id"]] for row in world.pipeline}
    of_members = [row for row in rows if truth[row["record_id"]] in members]
    # from the end of the list: their new group codes must not just repeat the old ones
    late, withdrawn = of_members[-40:], of_members[-60:-40]
    corrected = [{**row, "given_name": row["given_name"] + "a"} for row in of_members[-80:-60]]
    late_ids = {row["record_id"] for row in late}
    held = HeldLists()
    earlier = [row for row in rows if row["record_id"] not in late_ids]
    held.hold("list", RecordTable.from_rows(earlier), T0)
    # a pipeline member linked in between grows the shared spaces, as the worker's linking does
    _link(world.pipeline[:5], held.get("list").prepared.table, held)  # type: ignore[union-attr]
    gone = {row["record_id"] for row in withdrawn}
    held.update("list", [*late, *corrected], gone, T0 + 1)
    by_id = {row["record_id"]: row for row in [*late, *corrected]}
    final = [by_id.get(row["record_id"], row) for row in rows if row["record_id"] not in gone]
    # fewer than 200 left records, so that u is the trained one, not sampled by record order
    changed_people = {truth[row["record_id"]] for row in [*late, *withdrawn, *corrected]}
    left = [row for row in world.pipeline if truth[row["record_id"]] in changed_people][:100]
    left += world.pipeline[:50]
    updated = held.get("list")
    assert updated is not None and updated.watermark == T0 + 1
    assert sorted(updated.prepared.table.record_ids) == sorted(r["record_id"] for r in final)
    # one group code per household, old records and new alike
    households = [final_row.get("group_id", "") for final_row in _in_order(updated, final)]
    codes = updated.prepared.group.tolist()
    assert len(set(zip(codes, households, strict=True))) == len(set(households))
    from_held = _pairs(_link(left, updated.prepared.table, held))
    afresh = _pairs(_link(left, RecordTable.from_rows(final)))
    assert len(afresh) > 20
    assert from_held == afresh
    # the changes matter: the list as first held links otherwise
    assert {b for _, b in afresh} & late_ids


def test_withdrawals_alone_drop_records_and_keep_the_rest_aligned(world: SyntheticWorld) -> None:
    held = HeldLists()
    rows = world.gop[:500]
    prepared = held.hold("gop", RecordTable.from_rows(rows), T0).prepared
    gone = {rows[3]["record_id"], rows[400]["record_id"]}
    after = held.update("gop", [], gone, T0).prepared
    assert len(after) == 498 and not gone & set(after.table.record_ids)
    kept = [i for i, row in enumerate(rows) if row["record_id"] not in gone]
    assert np.array_equal(after.father, prepared.father[kept])
    assert np.array_equal(after.documents, prepared.documents[kept])
    assert after.table.row(3) == prepared.table.row(4)


def test_only_the_most_recently_used_lists_are_held(world: SyntheticWorld) -> None:
    held = HeldLists(capacity=2)
    for key in ("a", "b"):
        held.hold(key, RecordTable.from_rows(world.gop[:20]), T0)
    assert held.get("a") is not None  # a is now the more recent
    held.hold("c", RecordTable.from_rows(world.gop[:20]), T0)
    assert held.get("b") is None and held.get("a") is not None and held.get("c") is not None


_value = st.sampled_from(["", "Ahmad", "Mohammad", "محمد", "G-1", "G-2", " Ahmad "])
_rows = st.lists(
    st.fixed_dictionaries({"given_name": _value, "group_id": _value, "dob": _value}),
    max_size=12,
)


@given(_rows, _rows, _rows)
def test_concatenated_tables_hold_the_rows_of_all_with_one_code_per_value(
    first: list[Row], second: list[Row], third: list[Row]
) -> None:
    parts = [
        [{**row, "record_id": f"{prefix}{i}"} for i, row in enumerate(rows)]
        for prefix, rows in (("a", first), ("b", second), ("c", third))
    ]
    joined = RecordTable.concat([RecordTable.from_rows(part) for part in parts])
    whole = RecordTable.from_rows([row for part in parts for row in part])
    assert joined.record_ids == whole.record_ids
    assert [joined.row(i) for i in range(len(joined))] == [whole.row(i) for i in range(len(whole))]
    for column in joined.columns.values():
        assert len(set(column.values)) == len(column.values)
    # appending gives the same rows, keeps the first table's codes and one code per value, also
    # after a subset (which keeps values no record holds any more)
    a = RecordTable.from_rows(parts[0] + parts[1]).subset(np.arange(len(parts[0])))
    appended = a.append(RecordTable.from_rows(parts[2]))
    rows = [*parts[0], *parts[2]]
    assert appended.record_ids == [row["record_id"] for row in rows]
    assert [appended.row(i) for i in range(len(appended))] == [
        whole.row(whole.record_ids.index(row["record_id"])) for row in rows
    ]
    for name, column in a.columns.items():
        assert appended.columns[name].codes[: len(a)].tolist() == column.codes.tolist()
        assert len(set(appended.columns[name].values)) == len(appended.columns[name].values)


_names = st.lists(
    st.sampled_from(
        [
            *("Mohammad Nabi", "Abdul Rahman", "Abdulrahman", "محمد", "Gul Ahmad", "", "Zarghuna"),
            *("Sayed Ahmad Shah", "Noor Ullah", "Stanikzai", "یوسف"),
        ]
    ),
    max_size=8,
)


@given(_names, _names)
def test_a_name_space_grown_in_steps_derives_what_a_fresh_one_does(
    first: list[str], second: list[str]
) -> None:
    grown = NameSpace()
    grown.intern_values(first)
    # derived arrays computed in between, then extended for the names added after
    grown.part_ids(), grown.prefix_ids(), grown.text_arrays(), grown.skeleton_lengths()
    grown.intern_values(second)
    fresh = NameSpace()
    fresh.intern_values(first + second)
    offsets, parts = grown.part_ids()
    fresh_offsets, fresh_parts = fresh.part_ids()
    prefixes, fresh_prefixes = grown.prefix_ids(), fresh.prefix_ids()
    # derived arrays hold string ids (interned in another order): compared as texts
    texts = np.asarray(grown.strings.values, dtype=object)
    fresh_texts = np.asarray(fresh.strings.values, dtype=object)
    assert offsets.tolist() == fresh_offsets.tolist()
    assert texts[parts].tolist() == fresh_texts[fresh_parts].tolist()
    assert texts[prefixes].tolist() == fresh_texts[fresh_prefixes].tolist()
    assert [a.tolist() for a in grown.text_arrays()] == [a.tolist() for a in fresh.text_arrays()]
    assert grown.skeleton_lengths().tolist() == fresh.skeleton_lengths().tolist()


def _pair_held(world: SyntheticWorld) -> HeldLists:
    """The pipeline list and 2,000 Pakistani records, held."""
    held = HeldLists()
    held.hold("pipeline", RecordTable.from_rows(world.pipeline), T0)
    held.hold("gop", RecordTable.from_rows(world.gop[:2_000]), T0)
    return held


def test_a_held_list_prepared_in_another_s_spaces_follows_its_changes(
    world: SyntheticWorld,
) -> None:
    held = _pair_held(world)
    first = held.in_spaces_of("pipeline", "gop")
    assert held.in_spaces_of("pipeline", "gop") is first  # kept, not prepared again
    corrected = [{**row, "given_name": row["given_name"] + " Jan"} for row in world.pipeline[:5]]
    gone = {world.pipeline[7]["record_id"]}
    held.update("pipeline", corrected, gone, T0 + 1)
    kept = held.in_spaces_of("pipeline", "gop")
    table = held.get("pipeline").prepared.table  # type: ignore[union-attr]
    spaces = held.get("gop").spaces  # type: ignore[union-attr]
    afresh = prepare(spaces, table)
    assert kept.table.record_ids == table.record_ids
    for name in ("given", "family", "father", "dob", "documents", "sex", "district", "group"):
        assert np.array_equal(getattr(kept, name), getattr(afresh, name)), name
    held.hold("gop", RecordTable.from_rows(world.gop[:2_000]), T0 + 2)  # new spaces
    assert held.in_spaces_of("pipeline", "gop") is not kept
    # once Pakistan's list is evicted, its spaces are not kept alive through the copy
    pipeline = held.get("pipeline")  # now the most recently used
    assert pipeline is not None and "gop" in pipeline.elsewhere
    for key in ("a", "b"):
        held.hold(key, RecordTable.from_rows(world.gop[:20]), T0)
    assert held.get("gop") is None and "gop" not in pipeline.elsewhere


def test_a_pair_s_u_is_reused_until_a_list_is_held_afresh_or_one_record_in_100_replaced(
    world: SyntheticWorld,
) -> None:
    held = _pair_held(world)
    assert held.sampled_u("pipeline", "gop") is None
    u = {"given": np.array([0.5, 0.5])}
    held.keep_u("pipeline", "gop", u)
    assert held.sampled_u("pipeline", "gop") is u
    assert held.sampled_u("gop", "pipeline") is None  # a pair is ordered
    # 20 of 2,000 Pakistani records replaced: 1 %, kept; kept again, it keeps its age
    held.update("gop", world.gop[:15], (), T0 + 1)
    held.keep_u("pipeline", "gop", u)
    held.update("gop", world.gop[15:20], (), T0 + 1)
    assert held.sampled_u("pipeline", "gop") is u
    held.update("gop", (), {world.gop[20]["record_id"]}, T0 + 2)  # one more: sampled again
    assert held.sampled_u("pipeline", "gop") is None
    held.keep_u("pipeline", "gop", u)
    held.update("pipeline", world.pipeline[:3], (), T0 + 3)  # 1 % of 300 records
    assert held.sampled_u("pipeline", "gop") is u
    held.update("pipeline", world.pipeline[3:4], (), T0 + 3)
    assert held.sampled_u("pipeline", "gop") is None
    held.keep_u("pipeline", "gop", u)
    held.hold("gop", RecordTable.from_rows(world.gop[:2_000]), T0 + 4)  # held afresh
    assert held.sampled_u("pipeline", "gop") is None and not held.has_u("pipeline", "gop")
    # a run's u, drawn before the lists were held: 2 of 300 pipeline records changed since the
    # run read them, so two more spend it (4 > 1 % of 300)
    held.hold("pipeline", RecordTable.from_rows(world.pipeline), T0 + 5)
    held.update("pipeline", world.pipeline[:1], (), T0 + 6)  # one of the two, after the hold
    held.keep_u("pipeline", "gop", u, (2, 0))
    assert held.sampled_u("pipeline", "gop") is u and held.has_u("pipeline", "gop")
    held.update("pipeline", world.pipeline[2:4], (), T0 + 7)
    assert held.sampled_u("pipeline", "gop") is None and held.has_u("pipeline", "gop")
