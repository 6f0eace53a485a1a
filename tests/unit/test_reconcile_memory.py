"""The memory budget of a run: what the candidate pairs would take is weighed before comparing
them, a run over the budget is refused with a message saying what to change, and runs go one
at a time."""

from __future__ import annotations

import asyncio

import pytest

from reconcile.engine import link_tables
from reconcile.jobs import ReconciliationRunner
from reconcile.memory import BYTES_PER_CANDIDATE, MemoryBudget, RunTooLargeError, resident_mb
from reconcile.synthetic import WorldConfig, generate_world
from reconcile.table import RecordTable


def test_the_budget_weighs_what_the_process_holds_and_what_the_pairs_would_take() -> None:
    room = resident_mb() + 100  # 100 MB free: about 327,000 pairs at 320 bytes each
    MemoryBudget(round(room)).check(0)
    MemoryBudget(round(room)).check(200_000)
    with pytest.raises(RunTooLargeError) as refused:
        MemoryBudget(round(room)).check(1_000_000)
    assert refused.value.candidates == 1_000_000
    pairs_mb = 1_000_000 * BYTES_PER_CANDIDATE / 2**20
    assert refused.value.needed_mb == pytest.approx(room - 100 + pairs_mb, abs=5)
    assert "SANAD_RECONCILE_MEMORY_MB" in str(refused.value)
    assert "1,000,000 candidate pairs" in str(refused.value)


def test_linking_over_the_budget_is_refused_before_comparing() -> None:
    world = generate_world(WorldConfig(pipeline_size=300, gop_size=3_000, unhcr_size=300), 3)
    left, right = RecordTable.from_rows(world.pipeline), RecordTable.from_rows(world.gop)
    stages: list[str] = []
    with pytest.raises(RunTooLargeError):
        link_tables(
            left,
            right,
            budget=MemoryBudget(0),  # no room for a single pair
            progress=lambda stage, _fraction: stages.append(stage),
        )
    assert stages == ["prepare"]  # refused after blocking, before comparing
    roomy = link_tables(left, right, budget=MemoryBudget(round(resident_mb()) + 4_000))
    assert len(roomy.links) > 0


async def test_runs_go_one_at_a_time() -> None:
    runner = ReconciliationRunner(sessions=None, memory_mb=1_000)  # type: ignore[arg-type]
    running, most = 0, 0

    async def link(run_id: str, agency_id: str, views: object) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1

    runner._link = link  # type: ignore[method-assign]
    for n in range(3):
        runner.submit(f"run-{n}", "unhcr", [])
    await runner.wait_idle()
    assert most == 1
