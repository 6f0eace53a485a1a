"""Linking in slices of the left list (reconcile.sliced) makes the links the whole lists'
linking makes, with people's decisions too, and a run's linking takes slices exactly when the
whole lists' pairs would not fit the memory it may use, or are many."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reconcile import memory, sliced
from reconcile.engine import LinkResult, link_tables
from reconcile.memory import MemoryBudget
from reconcile.sliced import link_in_slices, link_lists
from reconcile.synthetic import SyntheticWorld, WorldConfig, generate_world
from reconcile.table import RecordTable


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(pipeline_size=2_500, gop_size=20_000, unhcr_size=300), 11)


@pytest.fixture(scope="module")
def tables(world: SyntheticWorld) -> tuple[RecordTable, RecordTable]:
    """Pakistan's 20,000 records on the left, the pipeline's 2,500 on the right: a right
    record's candidates come from many slices, so its competition is summed across them."""
    return RecordTable.from_rows(world.gop), RecordTable.from_rows(world.pipeline)


def _links(result: LinkResult) -> dict[tuple[int, int], tuple[Any, ...]]:
    links = result.links
    return {
        (int(links.left[k]), int(links.right[k])): (
            float(links.probability[k]),
            int(links.decision[k]),
            float(links.lead[k]),
            tuple(int(v[k]) for v in links.levels.values()),
            tuple(float(v[k]) for v in links.weights.values()),
        )
        for k in range(len(links))
    }


def _decisions(
    tables: tuple[RecordTable, RecordTable], whole: LinkResult
) -> dict[tuple[str, str], bool]:
    """People's decisions: some links rejected, some pairs nobody linked confirmed."""
    left_ids, right_ids = tables[0].record_ids, tables[1].record_ids
    links = whole.links
    rejected = {
        (left_ids[links.left[k]], right_ids[links.right[k]]): False for k in range(0, 60, 7)
    }
    linked_left, linked_right = set(links.left.tolist()), set(links.right.tolist())
    free_left = [i for i in range(len(left_ids)) if i not in linked_left][:3]
    free_right = [j for j in range(len(right_ids)) if j not in linked_right][:3]
    confirmed = {
        (left_ids[i], right_ids[j]): True for i, j in zip(free_left, free_right, strict=True)
    }
    return rejected | confirmed


@pytest.mark.parametrize("slice_size", [1_333, 20_000])
def test_slices_link_as_the_whole_lists_do(
    tables: tuple[RecordTable, RecordTable], slice_size: int
) -> None:
    whole = link_tables(*tables)
    assert _links(link_in_slices(*tables, slice_size)) == _links(whole)
    decisions = _decisions(tables, whole)
    decided = link_tables(*tables, decisions=decisions)
    assert _links(decided) != _links(whole)  # the decisions changed something
    assert _links(link_in_slices(*tables, slice_size, decisions=decisions)) == _links(decided)


def test_a_run_links_in_slices_only_when_the_whole_pairs_would_not_fit(
    tables: tuple[RecordTable, RecordTable], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "resident_mb", lambda: 0.0)  # the budget is all the pairs'
    monkeypatch.setattr(sliced, "resident_mb", lambda: 0.0)
    whole = link_tables(*tables)
    pairs_mb = whole.candidates * memory.BYTES_PER_CANDIDATE / 2**20
    roomy = link_lists(*tables, budget=MemoryBudget(round(pairs_mb * 3) + 1))
    assert "slices" not in roomy.found_by and _links(roomy) == _links(whole)
    tight = link_lists(*tables, budget=MemoryBudget(round(pairs_mb) + 1))
    assert tight.found_by["slices"] > 1 and _links(tight) == _links(whole)
    with pytest.raises(memory.RunTooLargeError):  # not even a slice fits
        link_lists(*tables, budget=MemoryBudget(0))
    assert np.isclose(tight.candidates, whole.candidates)


def test_many_pairs_are_linked_in_slices_with_memory_to_spare(
    tables: tuple[RecordTable, RecordTable], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = link_tables(*tables)
    assert "slices" not in link_lists(*tables).found_by  # fewer pairs than PAIRS_PER_SLICE
    monkeypatch.setattr(sliced, "PAIRS_PER_SLICE", whole.candidates // 4)
    sliced_up = link_lists(*tables)
    assert sliced_up.found_by["slices"] >= 4 and _links(sliced_up) == _links(whole)
    # however small a slice may be, speed alone asks for no more than MOST_SLICES_FOR_SPEED
    monkeypatch.setattr(sliced, "PAIRS_PER_SLICE", 1)
    few = link_lists(*tables)
    assert 1 < few.found_by["slices"] <= sliced.MOST_SLICES_FOR_SPEED + 1
    assert _links(few) == _links(whole)
