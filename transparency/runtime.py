"""The log as one API process runs it: a background task that sequences queued audit events
(whichever worker wins the lock does the work) and watches the backlog, and the fail-closed
decision derived from it: personal data is served only while the log keeps up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine

from config.settings import Settings
from database.engine import make_sync_engine
from problems import ProblemError
from transparency import repository
from transparency.keys import LogKeyPlace
from transparency.sequencer import Sequencer, make_sequencer_engine
from transparency.sequencer_process import SequencerConfig, SequencerProcess, drain_queue

log = structlog.get_logger(__name__)
_DRAIN_BUDGET_SECONDS = 1.0  # keep integrating full batches this long before measuring again


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """How the log is kept and how far behind it may fall (from `Settings`)."""

    origin: str
    key_place: LogKeyPlace
    sequencer_enabled: bool
    sequencer_in_child_process: bool
    poll_interval_seconds: float
    batch_max: int
    max_backlog_seconds: float
    max_backlog_events: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LogPolicy:
        return cls(
            origin=settings.transparency_origin,
            key_place=LogKeyPlace.from_settings(settings),
            sequencer_enabled=settings.transparency_sequencer_enabled,
            sequencer_in_child_process=settings.transparency_sequencer_in_child_process,
            poll_interval_seconds=settings.transparency_poll_interval_seconds,
            batch_max=settings.transparency_batch_max,
            max_backlog_seconds=settings.transparency_max_backlog_seconds,
            max_backlog_events=settings.transparency_max_backlog_events,
        )


@dataclass(frozen=True, slots=True)
class LogStatus:
    checked_at: float  # time.monotonic() of the last successful check
    tree_size: int
    backlog_events: int
    backlog_age_seconds: float
    error: str | None = None


class TransparencyLog:
    def __init__(self, database_url: str, policy: LogPolicy) -> None:
        self.policy = policy
        # SQLite: the sequencer's transactions take the write lock; reads must not
        self._sequencer_engine: Engine = make_sequencer_engine(database_url)
        self._read_engine: Engine = make_sync_engine(database_url)
        self.sequencer = Sequencer(
            self._sequencer_engine,
            policy.origin,
            policy.key_place,
            policy.batch_max,
        )
        # the same sequencing, run in a child process so its hashing does not hold the GIL
        self.child = (
            SequencerProcess(
                SequencerConfig(database_url, policy.origin, policy.key_place, policy.batch_max)
            )
            if policy.sequencer_enabled and policy.sequencer_in_child_process
            else None
        )
        self.status = LogStatus(time.monotonic(), 0, 0, 0.0)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.policy.sequencer_enabled:
            try:
                ensure = self.child.ensure_log if self.child else self.sequencer.ensure_log
                await asyncio.to_thread(ensure)
            except Exception as exc:
                # not fatal: the first batch creates the log (its failures fail the API closed)
                log.error("tlog_create_failed", error=type(exc).__name__, detail=str(exc)[:200])
        await asyncio.to_thread(self._check_once)
        self._stopping = asyncio.Event()  # of the loop that runs the task
        self._task = asyncio.create_task(self._run(), name="tlog-sequencer")

    async def stop(self) -> None:
        if self._task is not None:
            # Not a cancel: a cancelled task leaves its check running in the thread, which then
            # wrote to engines disposed here (and logged into whoever held stdout next).
            self._stopping.set()
            try:
                await self._task
            except Exception as exc:  # the loop has ended either way; shutdown goes on
                log.error("tlog_sequencer_task_failed", error=type(exc).__name__)
            self._task = None
        if self.child is not None:
            await asyncio.to_thread(self.child.close)
        self._sequencer_engine.dispose()
        self._read_engine.dispose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.policy.poll_interval_seconds)
            if not self._stopping.is_set():
                await self.check()

    async def check(self) -> LogStatus:
        """One round: integrate what is queued (if this process sequences), then measure."""
        return await asyncio.to_thread(self._check_once)

    def _check_once(self) -> LogStatus:
        try:
            status = self._measure()
            if self.policy.sequencer_enabled and status.backlog_events:
                self._sequence_queued()
                status = self._measure()
            self.status = status
        except Exception as exc:
            # The status keeps its old check time, so it goes stale and the API fails closed.
            log.error("tlog_check_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self.status = LogStatus(
                self.status.checked_at,
                self.status.tree_size,
                self.status.backlog_events,
                self.status.backlog_age_seconds,
                error=type(exc).__name__,
            )
        return self.status

    def _sequence_queued(self) -> None:
        if self.child is not None:
            self.child.drain(_DRAIN_BUDGET_SECONDS)
        else:
            drain_queue(self.sequencer, self.policy.batch_max, _DRAIN_BUDGET_SECONDS)

    def _measure(self) -> LogStatus:
        with self._read_engine.connect() as conn:
            head = repository.latest_head(conn)
            backlog = repository.backlog(conn, self.policy.max_backlog_events + 1)
        return LogStatus(
            time.monotonic(),
            head.size if head else 0,
            backlog.events,
            backlog.oldest_age_seconds,
        )

    # --- the fail-closed decision --------------------------------------------------------------

    def behind_reason(self) -> str | None:
        """Why personal data must not be served now, or None while the log keeps up."""
        status = self.status
        stale = time.monotonic() - status.checked_at
        if stale > self.policy.max_backlog_seconds + self.policy.poll_interval_seconds:
            cause = f" ({status.error})" if status.error else ""
            return f"the log has not been checked for {stale:.1f} s{cause}"
        if status.backlog_age_seconds > self.policy.max_backlog_seconds:
            return (
                f"oldest unsequenced audit event is {status.backlog_age_seconds:.1f} s old "
                f"(bound {self.policy.max_backlog_seconds:g} s)"
            )
        if status.backlog_events > self.policy.max_backlog_events:
            return (
                f"more than {self.policy.max_backlog_events} audit events are unsequenced "
                f"(bound {self.policy.max_backlog_events})"
            )
        return None

    def require_current(self) -> None:
        """Refuse a personal-data request while the log is behind (the API fails closed)."""
        reason = self.behind_reason()
        if reason is not None:
            raise ProblemError("audit-log-behind", reason, headers={"Retry-After": "5"})
