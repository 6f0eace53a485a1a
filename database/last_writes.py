"""Writes a transaction makes last, right before its commit: the change feed's events, whose
numbering takes a lock that every writer of the feed waits on until this transaction ends.
A service stages them when it knows them (`write_last`); the commit path runs them after all
its other writes (`run_last_writes`), so the lock is held for as few round trips as possible.
Under load each round trip waits on a busy event loop; the lock used to be held for five
(counter, events, audit event, disclosures, commit) and is now held for three (session 18)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

LastWrite = Callable[[AsyncSession], Awaitable[None]]
_KEY = "sanad_last_writes"


class LastWritesNotRunError(RuntimeError):
    """A transaction staged last writes and committed without running them."""


def write_last(session: AsyncSession, write: LastWrite) -> None:
    """Stage `write` to run, in staging order, when the commit path calls `run_last_writes`."""
    if _KEY not in session.info:
        # once per session: a commit that skips them would lose them silently, so refuse it
        event.listen(session.sync_session, "before_commit", _refuse_unrun)
        event.listen(session.sync_session, "after_soft_rollback", _forget)
        session.info[_KEY] = []
    if not session.in_transaction():
        # begun now (no I/O until a statement), so that a rollback before any statement
        # still ends a transaction and forgets the staged writes
        session.sync_session.begin()
    session.info[_KEY].append(write)


async def run_last_writes(session: AsyncSession) -> None:
    """Run the staged writes; call it right before `session.commit()`."""
    while staged := session.info.get(_KEY):
        await staged.pop(0)(session)


def _refuse_unrun(session: Session) -> None:
    if session.info.get(_KEY):
        raise LastWritesNotRunError("staged writes were not run before the commit")


def _forget(session: Session, previous: SessionTransaction) -> None:
    # the outermost transaction's: also when it had not touched the database yet
    if previous.parent is None and not previous.nested:
        session.info[_KEY].clear()
