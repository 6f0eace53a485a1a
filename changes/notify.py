"""Wake the webhook dispatcher the moment a transaction that published changes commits, so a
detention reaches subscribers in milliseconds rather than at the next poll."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


class ChangeNotifier:
    """Process-wide: dispatchers (one per app, each on its own event loop) wait on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def subscribe(self) -> asyncio.Event:
        wakeup = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), wakeup))
        return wakeup

    def unsubscribe(self, wakeup: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(loop, e) for loop, e in self._waiters if e is not wakeup]

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, wakeup in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wakeup.set)


NOTIFIER = ChangeNotifier()


def _committed(_session: Session) -> None:
    NOTIFIER.notify()


def notify_after_commit(session: AsyncSession) -> None:
    """Notify once this session's transaction commits (nothing happens on a rollback)."""
    event.listen(session.sync_session, "after_commit", _committed, once=True)
