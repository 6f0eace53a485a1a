"""Pause Python's cyclic garbage collector around bulk work that allocates millions of acyclic
objects (parsing and planning an import): the collector would rescan them again and again,
about 40% of the time, and find nothing to free."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _PauseState:
    """Concurrent pausers share one pause; the collector resumes when the last one leaves."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pausers = 0
        self.restore = False


_state = _PauseState()


@contextmanager
def gc_paused() -> Iterator[None]:
    with _state.lock:
        if _state.pausers == 0:
            _state.restore = gc.isenabled()
            gc.disable()
        _state.pausers += 1
    try:
        yield
    finally:
        with _state.lock:
            _state.pausers -= 1
            if _state.pausers == 0 and _state.restore:
                gc.enable()
