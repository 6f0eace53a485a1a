"""Name frequencies: agreeing on a rare name is stronger evidence than agreeing on Mohammad."""

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from matching.names import NameKey, name_key


class NameFrequencies:
    """Counts of name parts by skeleton key, so that Latin and Arabic spellings count together.

    The rarity of a part is its self-information in bits, -log2(share of all parts): agreeing
    on a part with 1 in 1,000 share gives ~10 bits, one with 1 in 8 share (Mohammad) 3 bits.
    A part never seen counts as seen once. An empty table gives 0 bits to everything.
    """

    __slots__ = ("_counts", "_total")

    def __init__(self, counts: Mapping[str, int]) -> None:
        self._counts = dict(counts)
        self._total = sum(self._counts.values())

    @classmethod
    def from_names(cls, names: Iterable[str | None]) -> "NameFrequencies":
        counts: Counter[str] = Counter()
        for name in names:
            counts.update(skeleton for skeleton in name_key(name).skeletons if skeleton)
        return cls(counts)

    @classmethod
    def from_keys(cls, keys: Iterable[NameKey]) -> "NameFrequencies":
        counts: Counter[str] = Counter()
        for key in keys:
            counts.update(skeleton for skeleton in key.skeletons if skeleton)
        return cls(counts)

    @property
    def total(self) -> int:
        return self._total

    def names(self) -> Iterator[str]:
        """The skeletons counted (each once)."""
        return iter(self._counts)

    def count(self, skeleton: str) -> int:
        return self._counts.get(skeleton, 0)

    def part_bits(self, skeleton: str) -> float:
        """Rarity of one name part (by skeleton) in bits."""
        if self._total == 0:
            return 0.0
        return math.log2(self._total / max(self._counts.get(skeleton, 0), 1))

    def bits(self, key: NameKey) -> float:
        """Rarity of a whole name: its distinct parts' bits added, as if independent."""
        return sum(self.part_bits(skeleton) for skeleton in set(key.skeletons) if skeleton)
