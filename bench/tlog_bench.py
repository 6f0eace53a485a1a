"""Benchmark of tlog on 1,000,000 synthetic ~300-byte RFC 8785 audit events: sequencing
throughput, inclusion-proof latency and full root re-derivation; the last line sums up.

Run from the repository root: `python -m bench.tlog_bench`.
"""

from __future__ import annotations

import os
import platform
import random
import time
from collections.abc import Callable
from functools import partial
from statistics import quantiles
from typing import TypeVar

from tlog.canonical import JsonValue, canonical_json
from tlog.merkle import (
    CompactRange,
    InMemoryNodeStore,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    root_from_leaf_hashes,
    tree_root,
    verify_inclusion,
)

EVENTS = 1_000_000
PROOFS = 1_000
CANONICALISATION_SAMPLE = 20_000
_PLACEHOLDER = "#" * 32
T = TypeVar("T")


def synthetic_event(request_id: str) -> JsonValue:
    return {
        "action": "verification.request",
        "actor": {"client_id": "agency-uscis-01", "scopes": ["lists:read", "verify:write"]},
        "agency": "USCIS",
        "fields": ["name", "date_of_birth"],
        "occurred_at": "2025-11-27T21:17:00Z",
        "purpose_of_use": "resettlement-eligibility",
        "request_id": request_id,
        "result": "allowed",
    }


def canonical_events(count: int) -> list[bytes]:
    """Distinct canonical events made by splicing ids into one canonical template: rfc8785 in
    pure Python (~20 us an event) would otherwise dominate the Merkle figures measured here."""
    parts = canonical_json(synthetic_event(_PLACEHOLDER)).split(_PLACEHOLDER.encode())
    events = [f"{i:032x}".encode().join(parts) for i in range(count)]
    for i in (0, count // 2, count - 1):
        assert events[i] == canonical_json(synthetic_event(f"{i:032x}"))
    return events


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def sequence(entries: list[bytes], store: InMemoryNodeStore | None) -> bytes:
    builder = CompactRange()
    for entry in entries:
        new_nodes = builder.append(leaf_hash(entry))
        if store is not None:
            store.put_nodes(new_nodes)
    return builder.root()


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    entries = canonical_events(EVENTS)
    mean_size = sum(map(len, entries[:1000])) / 1000
    print(f"{EVENTS:,} canonical events of ~{mean_size:.0f} bytes")

    sample = [synthetic_event(f"{i:032x}") for i in range(CANONICALISATION_SAMPLE)]
    _, seconds = timed(lambda: [canonical_json(event) for event in sample])
    canonical_rate = CANONICALISATION_SAMPLE / seconds
    print(f"rfc8785 canonicalisation: {canonical_rate:,.0f} events/s")

    builder_root, seconds = timed(lambda: sequence(entries, store=None))
    builder_rate = EVENTS / seconds
    print(f"builder (leaf hash + append): {builder_rate:,.0f} events/s")
    store = InMemoryNodeStore()
    stored_root, seconds = timed(lambda: sequence(entries, store))
    sequencing_rate = EVENTS / seconds
    print(f"sequencing (leaf hash + append + store nodes): {sequencing_rate:,.0f} events/s")

    rng = random.Random(9162)
    latencies_us = []
    for index in (rng.randrange(EVENTS) for _ in range(PROOFS)):
        proof, seconds = timed(partial(inclusion_proof, store, index, EVENTS))
        latencies_us.append(seconds * 1e6)
        verify_inclusion(index, EVENTS, leaf_hash(entries[index]), proof, stored_root)
    percentiles = quantiles(latencies_us, n=100)
    p50, p99 = percentiles[49], percentiles[98]
    print(f"inclusion proof at {EVENTS:,} leaves: p50 {p50:.1f} us, p99 {p99:.1f} us")

    derived_root, rederive_seconds = timed(lambda: root_from_leaf_hashes(leaf_hashes(entries)))
    assert derived_root == builder_root == stored_root == tree_root(store, EVENTS)
    print(f"root re-derived from {EVENTS:,} raw entries in {rederive_seconds:.2f} s")

    print(
        f"tlog bench: sequencing {sequencing_rate:,.0f} events/s "
        f"(builder {builder_rate:,.0f}/s, rfc8785 {canonical_rate:,.0f}/s); "
        f"inclusion proof p50 {p50:.0f} us p99 {p99:.0f} us at 1M leaves; "
        f"1M-entry root re-derivation {rederive_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
