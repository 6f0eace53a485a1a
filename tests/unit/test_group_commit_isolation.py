"""A batch the database refuses is written again item by item: the one item it cannot take
fails alone (as the audit event of a request with an unstorable value must), while the
requests that happened to share its transaction are committed as if it had not been there."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from database.group_commit import GroupCommitter


class _Refusing:
    """A store that refuses any batch holding one of `refused`, as a database refuses a
    transaction over one row it cannot hold."""

    def __init__(self, *refused: str, error: type[Exception] = sqlite3.IntegrityError) -> None:
        self.refused = set(refused)
        self.error = error
        self.committed: list[str] = []
        self.attempts: list[list[str]] = []

    async def commit(self, batch: list[str]) -> None:
        self.attempts.append(list(batch))
        await asyncio.sleep(0)  # let the burst gather into one batch
        if self.refused & set(batch):
            raise self.error("character not in repertoire")
        self.committed += batch


async def test_a_refused_item_fails_alone_and_its_batch_is_committed() -> None:
    store = _Refusing("bad")
    committer = GroupCommitter(store.commit)
    names = ["a", "b", "bad", "c", "d"]
    results = await asyncio.gather(*(committer.submit(n) for n in names), return_exceptions=True)
    assert [isinstance(r, sqlite3.IntegrityError) for r in results] == [n == "bad" for n in names]
    assert sorted(store.committed) == ["a", "b", "c", "d"]
    # the shared attempt, then one per item
    assert store.attempts[0] == names
    assert store.attempts[1:] == [[n] for n in names]


async def test_every_refused_item_of_a_batch_fails_and_only_those() -> None:
    store = _Refusing("x", "y")
    committer = GroupCommitter(store.commit, max_batch=3)
    names = ["x", "a", "y", "b"]
    results = await asyncio.gather(*(committer.submit(n) for n in names), return_exceptions=True)
    assert [isinstance(r, sqlite3.IntegrityError) for r in results] == [True, False, True, False]
    assert sorted(store.committed) == ["a", "b"]


async def test_an_item_refused_on_its_own_is_tried_once() -> None:
    store = _Refusing("bad")
    with pytest.raises(sqlite3.IntegrityError):
        await GroupCommitter(store.commit).submit("bad")
    assert store.attempts == [["bad"]]


async def test_the_item_of_a_cancelled_waiter_is_still_written_on_retry() -> None:
    store = _Refusing("bad")
    committer = GroupCommitter(store.commit)
    gone = asyncio.ensure_future(committer.submit("gone"))
    refused = asyncio.ensure_future(committer.submit("bad"))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(sqlite3.IntegrityError):
        await refused
    assert store.committed == ["gone"]


async def test_a_batch_lost_for_another_reason_fails_whole_and_at_once() -> None:
    """A lost connection or a lock that timed out is not the items' fault: retried one by one,
    each would fail again (and on SQLite wait out its busy timeout again)."""
    store = _Refusing("bad", error=sqlite3.OperationalError)
    committer = GroupCommitter(store.commit)
    names = ["a", "bad", "b"]
    results = await asyncio.gather(*(committer.submit(n) for n in names), return_exceptions=True)
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    assert store.attempts == [names]
