"""The memory a run may take: linking two lists holds every candidate pair at once, and a run
shares its process with the API, so a run too large for the machine would have the operating
system kill the whole service (checkpoints included), not just the run. Before comparing, the
engine weighs what the pairs will take against the budget and fails the run with a clear
error instead (docs/reconciliation.md, "Service")."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

# Peak memory per candidate pair from blocking to assignment, measured (session 13, the
# three-list bench's world): UNHCR's 200,000 against Pakistan's 400,000 records, 21.3 million
# candidates, 897 MB after preparing and 6,502 MB at the peak (263 bytes a pair); the
# pipeline's 25,000 against those 400,000, 2.7 million candidates, 666 MB and 1,437 MB (282
# bytes a pair). Rounded up: a run refused by the estimate would have come close anyway.
BYTES_PER_CANDIDATE = 320
# Of the machine's memory, the share a run may use by default: the rest is the API's, the
# incremental linker's held lists and the database's (SQLite's page cache is in-process).
DEFAULT_SHARE = 0.7
_MB = 2**20


class RunTooLargeError(Exception):
    """Linking these lists would take more memory than the run may use."""

    def __init__(self, needed_mb: int, budget_mb: int, candidates: int) -> None:
        self.needed_mb, self.budget_mb, self.candidates = needed_mb, budget_mb, candidates
        super().__init__(
            f"too large for this server: {candidates:,} candidate pairs need about"
            f" {needed_mb:,} MB, over the {budget_mb:,} MB a run may use"
            " (SANAD_RECONCILE_MEMORY_MB)"
        )


def resident_mb() -> float:
    """The process's resident memory now (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / _MB
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def default_budget_mb() -> int:
    """DEFAULT_SHARE of the machine's physical memory."""
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / _MB * DEFAULT_SHARE)


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """The most a run's process may hold, in MB."""

    limit_mb: int

    def check(self, candidates: int) -> None:
        """Raise RunTooLargeError when what the process holds now and `candidates` pairs would take
        more than the limit."""
        needed = resident_mb() + candidates * BYTES_PER_CANDIDATE / _MB
        if needed > self.limit_mb:
            raise RunTooLargeError(round(needed), self.limit_mb, candidates)
