"""The group-commit mechanism shared by the audit writer and the webhook attempt log."""

from __future__ import annotations

import asyncio

import pytest

from database.group_commit import GroupCommitter


async def test_concurrent_items_share_commits_and_each_waits_for_its_own() -> None:
    batches: list[list[int]] = []

    async def commit(batch: list[int]) -> None:
        await asyncio.sleep(0.01)
        batches.append(batch)

    committer = GroupCommitter(commit, max_batch=3)
    await asyncio.gather(*(committer.submit(i) for i in range(7)))
    assert sorted(i for batch in batches for i in batch) == list(range(7))
    assert all(len(batch) <= 3 for batch in batches)
    assert len(batches) < 7


async def test_every_item_of_a_failed_batch_sees_the_failure() -> None:
    async def commit(batch: list[str]) -> None:
        raise RuntimeError("disk full")

    committer = GroupCommitter(commit)
    results = await asyncio.gather(
        *(committer.submit(name) for name in "abc"), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_cancelled_waiter_does_not_stop_the_others() -> None:
    release = asyncio.Event()

    async def commit(batch: list[int]) -> None:
        await release.wait()

    committer = GroupCommitter(commit)
    cancelled = asyncio.ensure_future(committer.submit(1))
    kept = asyncio.ensure_future(committer.submit(2))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await kept
    with pytest.raises(asyncio.CancelledError):
        await cancelled
