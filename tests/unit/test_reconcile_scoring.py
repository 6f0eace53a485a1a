"""Name rarity of a run as one array operation (reconcile.scoring.rarity_bits) gives what the
reference NameFrequencies gives name by name."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.frequency import NameFrequencies
from reconcile.scoring import rarity_bits


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60),
    st.floats(min_value=1.0, max_value=30.0),
)
def test_rarity_bits_are_the_reference_part_bits_capped(counts: list[int], cap: float) -> None:
    counts[0] = 0  # string id 0 is the empty name
    frequencies = NameFrequencies({f"s{i}": n for i, n in enumerate(counts) if n})
    total = frequencies.total
    ceiling = min(cap, math.log2(total)) if total else 0.0
    expected = [min(frequencies.part_bits(f"s{i}"), ceiling) for i in range(len(counts))]
    expected = [ceiling if not n else bits for n, bits in zip(counts, expected, strict=True)]
    bits = rarity_bits(np.asarray(counts, np.int64), cap)
    assert np.allclose(bits, expected)
