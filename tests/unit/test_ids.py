"""Time-ordered ids: valid UUIDv7 strings, distinct, ascending within a call (so a bulk insert
appends to the id indexes instead of touching random pages)."""

from __future__ import annotations

import uuid

from exchange.ids import time_ordered_ids


def test_ids_are_uuid7_distinct_and_ascending_across_counter_runs() -> None:
    ids = time_ordered_ids(140_000)  # crosses at least one 65,536-id run of the counter
    assert len(set(ids)) == len(ids) == 140_000
    assert ids == sorted(ids)
    for text in (ids[0], ids[65_535], ids[65_536], ids[-1]):
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_no_ids_for_nothing() -> None:
    assert time_ordered_ids(0) == []
