"""Name rarity of a run as one array operation (reconcile.scoring.rarity_bits) gives what the
reference NameFrequencies gives name by name; a run's u is stored and read back exactly."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.frequency import NameFrequencies
from reconcile.comparison import FIELD_LEVELS
from reconcile.scoring import rarity_bits, u_as_json, u_from_json


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


@given(st.integers(0, 2**32 - 1))
def test_a_stored_u_reads_back_exactly_and_only_when_it_fits_the_model(seed: int) -> None:
    draw = np.random.default_rng(seed)
    u = {name: draw.dirichlet(np.ones(len(levels))) for name, levels in FIELD_LEVELS.items()}
    stored = json.loads(json.dumps(u_as_json(u)))  # as the database keeps it
    back = u_from_json(stored)
    assert back is not None
    assert all(back[name].tolist() == u[name].tolist() for name in FIELD_LEVELS)
    field = next(iter(FIELD_LEVELS))
    assert u_from_json({**stored, field: stored[field][:-1]}) is None  # other levels
    assert u_from_json({k: v for k, v in stored.items() if k != field}) is None
    assert u_from_json(None) is None and u_from_json([1.0]) is None
