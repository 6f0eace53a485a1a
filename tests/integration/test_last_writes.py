"""Writes staged for the end of a transaction (the change feed's events) run when the commit
path asks for them, in staging order; a commit that skips them is refused rather than losing
them, and a rollback forgets them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from changes import repository as feed
from changes.service import Change, publish
from database.last_writes import LastWritesNotRunError, run_last_writes, write_last
from tests.conftest import World


def _change(world: World) -> Change:
    return Change("record.corrected", world.us, "owner_only", {"staged": True})


async def test_staged_writes_run_in_order_and_numbering_waits_for_them(
    app: FastAPI, world: World
) -> None:
    ran: list[str] = []

    def noting(name: str):  # type: ignore[no-untyped-def]
        async def write(_session: AsyncSession) -> None:
            ran.append(name)
            if name == "first":  # a write may stage another: it runs too
                write_last(_session, noting("staged by first"))

        return write

    async with app.state.services.sessions() as session:
        before = await feed.head(session)
        publish(session, [_change(world)])
        assert await feed.head(session) == before  # not numbered yet: no lock taken
        write_last(session, noting("first"))
        write_last(session, noting("second"))
        await run_last_writes(session)
        await session.commit()
    assert ran == ["first", "second", "staged by first"]
    async with app.state.services.sessions() as session:
        assert await feed.head(session) == before + 1


async def test_a_commit_that_skips_staged_writes_is_refused_and_a_rollback_forgets_them(
    app: FastAPI, world: World
) -> None:
    async with app.state.services.sessions() as session:
        before = await feed.head(session)
        publish(session, [_change(world)])
        with pytest.raises(LastWritesNotRunError):
            await session.commit()
        await session.rollback()
        await session.commit()  # nothing staged any more
    async with app.state.services.sessions() as session:
        assert await feed.head(session) == before


async def test_a_rollback_before_any_database_work_forgets_them_too(
    app: FastAPI, world: World
) -> None:
    async with app.state.services.sessions() as session:
        publish(session, [_change(world)])
        await session.rollback()
        await session.commit()
