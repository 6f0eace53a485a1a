"""The sequencer in a child process of its own: hashing leaves (RFC 8785 encoding, SHA-256) and
signing checkpoints is pure Python, and in the API's process it competed with request handling
for the interpreter lock (about a tenth of the lock's time at checkpoint load,
docs/performance.md). The child holds its own engine; the API's thread waits on it without the
lock. A child that dies is replaced on the next round; until then the log falls behind and the
API fails closed, as it does for any sequencing error."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

from transparency.keys import LogKeyPlace
from transparency.sequencer import Sequencer, make_sequencer_engine


@dataclass(frozen=True, slots=True)
class SequencerConfig:
    """What a child needs to sequence on its own (plain values: it is pickled to the child)."""

    database_url: str
    origin: str
    key_place: LogKeyPlace
    batch_max: int


Result = TypeVar("Result")
_child_sequencer: Sequencer | None = None


def _start_child(config: SequencerConfig) -> None:
    global _child_sequencer  # one sequencer per child process, built once
    _child_sequencer = Sequencer(
        make_sequencer_engine(config.database_url),
        config.origin,
        config.key_place,
        config.batch_max,
    )


def drain_queue(sequencer: Sequencer, batch_max: int, budget_seconds: float) -> int:
    """Integrate full batches until the queue is empty, another worker holds the lock, or the
    budget is spent; returns how many events were integrated."""
    deadline = time.monotonic() + budget_seconds
    integrated = 0
    while True:
        batch = sequencer.sequence_batch()
        integrated += batch.integrated
        if batch.integrated < batch_max or time.monotonic() > deadline:
            return integrated


def _drain_in_child(batch_max: int, budget_seconds: float) -> int:
    assert _child_sequencer is not None, "the child is started with its sequencer"
    return drain_queue(_child_sequencer, batch_max, budget_seconds)


def _ensure_log_in_child() -> None:
    assert _child_sequencer is not None, "the child is started with its sequencer"
    _child_sequencer.ensure_log()


class SequencerProcess:
    """Blocking calls into the child; run them from a worker thread, never the event loop."""

    def __init__(self, config: SequencerConfig) -> None:
        self._config = config
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: the API process runs threads and an event loop, which a fork would copy
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self._config,),
            )
        return self._pool

    def _call(self, function: Callable[..., Result], *args: object) -> Result:
        try:
            return self._executor().submit(function, *args).result()
        except BrokenProcessPool:
            self.close()  # the next round starts a new child
            raise

    def ensure_log(self) -> None:
        self._call(_ensure_log_in_child)

    def drain(self, budget_seconds: float) -> int:
        return self._call(_drain_in_child, self._config.batch_max, budget_seconds)

    def pid(self) -> int:
        """The child's process id (starting it if none runs): for operators and tests."""
        return self._call(os.getpid)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
