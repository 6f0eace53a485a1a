"""Linking around a few records of whole lists (blocking.focused_pairs, engine focus): blocking
finds exactly the whole lists' candidate pairs around the focus, and the expanded keys a held
list keeps across updates are those of the updated list expanded afresh."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.blocking import (
    RULES,
    Focus,
    candidate_pairs,
    contains,
    expand_keys,
    focused_pairs,
)
from reconcile.held_lists import HeldLists
from reconcile.prepare import PreparedList, RunSpaces, prepare
from reconcile.spaces import IntArray
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable

Lists = tuple[RunSpaces, PreparedList, PreparedList, IntArray]
# small blocks, so that in a list of 6,000 many keys are too common and records go on to finer
# keys: what a left record's pairs are depends on its blocks' sizes in the whole right list
SMALL_BLOCKS = tuple(dataclasses.replace(rule, max_block=2) for rule in RULES)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(pipeline_size=300, gop_size=6_000, unhcr_size=10), 5)


@pytest.fixture(scope="module")
def lists(world: SyntheticWorld) -> Lists:
    spaces = RunSpaces.new()
    right = prepare(spaces, RecordTable.from_rows(world.gop))
    left = prepare(spaces, RecordTable.from_rows(world.pipeline))
    whole = candidate_pairs(left, right, spaces, SMALL_BLOCKS)
    return spaces, left, right, whole.left * len(right) + whole.right


def _around(codes: IntArray, size: int, focus: Focus) -> IntArray:
    """The pairs touching the focus, or a record that those pairs reach on the other side."""
    left, right = codes // size, codes % size
    reached_right = np.unique(right[contains(focus.left, left)])
    reached_left = np.unique(left[contains(focus.right, right)])
    near = focus.touches(left, right) | contains(reached_right, right)
    near |= contains(reached_left, left)
    return codes[near]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.integers(0, 299), max_size=4, unique=True),
    st.lists(st.integers(0, 5_999), max_size=3, unique=True),
)
def test_focused_blocking_finds_the_whole_lists_pairs_around_the_focus(
    lists: Lists, left_focus: list[int], right_focus: list[int]
) -> None:
    spaces, left, right, whole = lists
    focus = Focus(
        np.asarray(sorted(left_focus), np.int64), np.asarray(sorted(right_focus), np.int64)
    )
    found = focused_pairs(left, right, spaces, focus, SMALL_BLOCKS)
    assert np.array_equal(found.left * len(right) + found.right, _around(whole, len(right), focus))


def test_a_focus_takes_in_its_records_relatives(lists: Lists) -> None:
    _, left, right, _ = lists
    grouped = int(np.flatnonzero(left.group > 0)[0])
    relatives = np.flatnonzero(left.group == left.group[grouped])
    assert len(relatives) > 1
    widened = Focus(np.asarray([grouped], np.int64)).with_relatives(left, right)
    assert widened.left.tolist() == relatives.tolist() and len(widened.right) == 0


def test_a_held_list_keeps_its_expanded_keys_as_if_expanded_afresh(world: SyntheticWorld) -> None:
    rows = world.gop[:2_000]
    held = HeldLists()
    held.hold("gop", RecordTable.from_rows(rows[:1_800]), 0)
    corrected = [
        {**row, "dob": "1370", "given_name": row["given_name"] + " Jan"} for row in rows[:50]
    ]
    gone = {row["record_id"] for row in rows[50:80]}
    updated = held.update("gop", [*corrected, *rows[1_800:]], gone, 1)
    kept = updated.prepared
    afresh = prepare(updated.spaces, kept.table)
    expand_keys(afresh, updated.spaces)
    assert kept.derived.keys() == afresh.derived.keys() and kept.derived
    for key, (values, records) in afresh.derived.items():
        carried = kept.derived[key]
        ids = kept.table.record_ids
        assert sorted(
            zip(carried[0].tolist(), (ids[i] for i in carried[1]), strict=True)
        ) == sorted(zip(values.tolist(), (ids[i] for i in records), strict=True))
