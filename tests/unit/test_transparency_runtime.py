"""The log's background check stops for good: once `stop()` returns, no check is left running
in a thread against the engines it disposed (a cancelled task used to leave one, which then
logged `database is locked` into whatever held stdout next)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from transparency.keys import LogKeyPlace
from transparency.runtime import LogPolicy, LogStatus, TransparencyLog

POLICY = LogPolicy(
    origin="sanad.test/log",
    key_place=LogKeyPlace(),
    sequencer_enabled=False,
    sequencer_in_child_process=False,
    poll_interval_seconds=0.01,
    batch_max=10,
    max_backlog_seconds=60,
    max_backlog_events=100,
)


async def test_stop_waits_for_the_check_in_flight(tmp_path: Path) -> None:
    log = TransparencyLog(f"sqlite:///{tmp_path / 'log.db'}", POLICY)
    running = threading.Event()
    in_flight: list[str] = []

    def slow_check() -> LogStatus:
        in_flight.append("started")
        running.set()
        time.sleep(0.3)
        in_flight.remove("started")
        return log.status

    log._check_once = slow_check  # type: ignore[method-assign]
    await log.start()  # its own first check runs to the end before the task starts
    await asyncio.to_thread(running.wait, 5)
    running.clear()
    await asyncio.to_thread(running.wait, 5)  # the background task's check is in flight
    await log.stop()
    assert in_flight == []
