"""How often each name skeleton occurs in whole lists, kept apart from any one linking: what a
checkpoint's claim (reconcile.verification) is weighed by, since its candidates, drawn by birth
date, are too few to say that a name is rare. Counted as a run counts them
(`scoring.skeleton_counts`: the given name also by each part of the whole name)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from reconcile.comparison import NAME_FIELDS
from reconcile.prepare import RunSpaces, prepare
from reconcile.scoring import skeleton_counts
from reconcile.spaces import IntArray
from reconcile.table import RecordTable


@dataclass(frozen=True, slots=True)
class NameCounts:
    """Per name field: occurrences of each skeleton text, and their total."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, table: RecordTable) -> NameCounts:
        spaces = RunSpaces.new()
        prepared = prepare(spaces, table)
        texts = spaces.names.strings.values
        counts = {}
        for name in NAME_FIELDS:
            found = skeleton_counts(spaces, name, (prepared,))
            counts[name] = Counter({texts[i]: int(found[i]) for i in np.flatnonzero(found)})
        return cls(counts)

    @classmethod
    def merged(cls, parts: Iterable[NameCounts]) -> NameCounts:
        counts: dict[str, Counter[str]] = {name: Counter() for name in NAME_FIELDS}
        for part in parts:
            for name, found in part.counts.items():
                counts[name].update(found)
        return cls(counts)

    def total(self, name: str) -> int:
        return sum(self.counts.get(name, Counter()).values())

    def in_space(self, spaces: RunSpaces, name: str) -> IntArray:
        """The counts by string id of these spaces (0 where a skeleton never occurs)."""
        found = self.counts.get(name, Counter())
        texts = spaces.names.strings.values
        return np.fromiter((found.get(text, 0) for text in texts), np.int64, len(texts))
