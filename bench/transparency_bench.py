"""Benchmark of the audit transparency log against real databases: sequencing throughput (events
integrated per second, SQLite and PostgreSQL), integration delay under a steady load, inclusion
and consistency proof latency through the service and repository, and full verification of a
1,000,000-event export (and of the database the sequencing run built). The last line sums up.

Run from the repository root: `python -m bench.transparency_bench [sequenced [verified]]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from hashlib import sha256
from pathlib import Path
from statistics import quantiles
from typing import Any, TypeVar

from sqlalchemy import Engine, insert, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.servers import fresh_database
from database.engine import make_async_engine, make_sync_engine
from database.migrations import upgrade_to_head
from tlog.checkpoint import (
    Checkpoint,
    NoteSigner,
    SignatureType,
    cosign_checkpoint,
    sign_checkpoint,
)
from tlog.merkle import CompactRange
from transparency import repository, service
from transparency.export import PinnedKeys, verify_database, verify_export, write_export
from transparency.keys import LogKeyPlace
from transparency.leaf import encode_leaf
from transparency.runtime import LogPolicy, TransparencyLog
from transparency.sequencer import Sequencer, make_sequencer_engine

SEQUENCED_EVENTS = 200_000
VERIFIED_EVENTS = 1_000_000
PROOFS = 500
STEADY_RATE = 2_000  # events/s offered while measuring the integration delay
STEADY_SECONDS = 10
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def synthetic_events(
    count: int, start: dt.datetime, seed: int | None = None
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Audit rows shaped like real traffic: a fifth disclose two records (searches, checks).
    The same seed gives the same rows."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    for i in range(count):
        event_id = new_id()
        moment = start + dt.timedelta(microseconds=i * 37)
        disclosures = [
            {
                "id": new_id(), "event_id": event_id, "occurred_at": moment,
                "list_id": "6f1c7a1e-0000-4000-8000-000000000001", "record_id": new_id(),
                "record_key": f"US-{i:07d}-{n}", "owner_agency_id": "us-mission",
                "recipient_agency_id": "gop", "client_id": "gop-checkpoint-system",
                "purpose": "protection-verification",
                "fields": "given_name,father_name,dob,letter_id",
            }
            for n in range(2 if i % 5 == 0 else 0)
        ]  # fmt: skip
        event = {
            "id": event_id, "occurred_at": moment, "request_id": new_id(),
            "client_id": "gop-checkpoint-system", "subject": "gop-checkpoint-system",
            "agency_id": "gop", "token_jti": new_id(), "scopes": "verify",
            "purpose": "protection-verification", "method": "POST", "route": "/v1/verifications",
            "status": 200, "outcome": "allowed", "reason": "ok",
            "disclosure_count": len(disclosures),
        }  # fmt: skip
        yield event, disclosures


def load_events(engine: Engine, count: int) -> float:
    """Commit `count` audit events (the trigger queues them); returns the seconds it took."""
    start = time.perf_counter()
    batch: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for event, disclosures in synthetic_events(count, dt.datetime.now(dt.UTC)):
            batch.append(event)
            shown += disclosures
            if len(batch) == 5000:
                conn.execute(insert(repository.EVENT), batch)
                conn.execute(insert(repository.DISCLOSURE), shown)
                batch, shown = [], []
        if batch:
            conn.execute(insert(repository.EVENT), batch)
        if shown:
            conn.execute(insert(repository.DISCLOSURE), shown)
    return time.perf_counter() - start


def sequence_all(sequencer: Sequencer) -> tuple[int, float]:
    start = time.perf_counter()
    total = 0
    while (batch := sequencer.sequence_batch()).integrated:
        total += batch.integrated
    return total, time.perf_counter() - start


async def proof_latencies(url: str, size: int) -> tuple[list[float], list[float]]:
    engine = make_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(9162)
    inclusion, consistency = [], []
    async with sessions() as session:
        await service.inclusion(session, 0, size)  # warm the pool and the statement cache
        for _ in range(PROOFS):
            index = rng.randrange(size)
            start = time.perf_counter()
            await service.inclusion(session, index, size)
            inclusion.append((time.perf_counter() - start) * 1000)
            first = rng.randrange(1, size)
            start = time.perf_counter()
            await service.consistency(session, first, size)
            consistency.append((time.perf_counter() - start) * 1000)
    await engine.dispose()
    return inclusion, consistency


async def integration_delay(url: str, engine: Engine) -> tuple[float, float]:
    """Offer STEADY_RATE events/s while the sequencer polls as in the API; the delay of an event
    is the time from its commit to the first checkpoint that contains it."""
    policy = LogPolicy(
        "bench.sanad/audit-log", LogKeyPlace(), True, True, 0.15, 5000, 5.0, 1_000_000
    )
    log = TransparencyLog(url, policy)
    await log.start()
    committed: list[tuple[float, str]] = []
    per_tick = STEADY_RATE // 20
    try:
        for _ in range(STEADY_SECONDS * 20):
            tick = time.perf_counter()
            events = [event for event, _ in synthetic_events(per_tick, dt.datetime.now(dt.UTC))]
            await asyncio.to_thread(_insert, engine, events)
            committed.append((time.time(), events[-1]["id"]))
            await asyncio.sleep(max(0.0, 0.05 - (time.perf_counter() - tick)))
        await asyncio.sleep(1.0)
    finally:
        await log.stop()
    delays = []
    with engine.connect() as conn:
        for at, event_id in committed:
            leaf = conn.execute(
                text("SELECT leaf_index FROM tlog_leaf WHERE event_id = :e"), {"e": event_id}
            ).scalar_one()
            created = conn.execute(
                text("SELECT min(created_at) FROM tlog_checkpoint WHERE size > :i"), {"i": leaf}
            ).scalar_one()
            moment = (
                created
                if isinstance(created, dt.datetime)
                else dt.datetime.fromisoformat(str(created))
            )
            moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
            delays.append(moment.timestamp() - at)
    percentiles = quantiles(delays, n=100)
    return percentiles[49], max(delays)


def _insert(engine: Engine, events: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(repository.EVENT), events)


def run_database(backend: str, count: int) -> dict[str, float]:
    with fresh_database(backend) as url:
        upgrade_to_head(url)
        engine = make_sync_engine(url)
        loaded = load_events(engine, count)
        sequencer = Sequencer(make_sequencer_engine(url), "bench.sanad/audit-log", batch_max=5000)
        sequencer.ensure_log()
        total, seconds = sequence_all(sequencer)
        assert total == count
        inclusion, consistency = asyncio.run(proof_latencies(url, count))
        with engine.connect() as conn:
            report, verify_seconds = timed(lambda: verify_database(conn, PinnedKeys()))
        assert report.ok, report.summary()
        p50_delay, max_delay = asyncio.run(integration_delay(url, engine))
        engine.dispose()
    inc, con = quantiles(inclusion, n=100), quantiles(consistency, n=100)
    figures = {
        "load_rate": count / loaded,
        "sequenced_rate": count / seconds,
        "inclusion_p50_ms": inc[49], "inclusion_p99_ms": inc[98],
        "consistency_p50_ms": con[49], "consistency_p99_ms": con[98],
        "db_verify_rate": count / verify_seconds,
        "delay_p50_s": p50_delay, "delay_max_s": max_delay,
    }  # fmt: skip
    print(
        f"{backend}: {count:,} events committed at {figures['load_rate']:,.0f}/s, sequenced at "
        f"{figures['sequenced_rate']:,.0f} events/s; inclusion proof p50 {inc[49]:.2f} ms p99 "
        f"{inc[98]:.2f} ms, consistency p50 {con[49]:.2f} ms p99 {con[98]:.2f} ms at "
        f"{count:,} leaves; database verify {figures['db_verify_rate']:,.0f} events/s; "
        f"integration delay at {STEADY_RATE:,} events/s p50 {p50_delay:.2f} s "
        f"max {max_delay:.2f} s",
        flush=True,
    )
    return figures


def _leaves(count: int) -> Iterator[tuple[bytes, bytes]]:
    moment = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    for event, disclosures in synthetic_events(count, moment, seed=9162):
        encoded = encode_leaf(event, disclosures)
        yield encoded, sha256(b"\x00" + encoded).digest()


def build_export(path: Path, count: int) -> tuple[float, str]:
    """An export of `count` leaves written directly (no database): real leaves and tree, a
    checkpoint every 100,000 leaves, the last cosigned by three witnesses, the signed trailer.
    Two passes over the same seeded events: checkpoints precede leaves in the file."""
    start = time.perf_counter()
    signer = NoteSigner.generate("bench.sanad/audit-log")
    witnesses = [
        NoteSigner.generate(f"w{i}.bench/witness", SignatureType.COSIGNATURE_V1) for i in range(3)
    ]
    tree = CompactRange()
    notes = [(0, sign_checkpoint(Checkpoint(signer.name, 0, tree.root()), signer).decode())]
    for _, digest in _leaves(count):
        tree.append(digest)
        if tree.size % 100_000 == 0 or tree.size == count:
            note = sign_checkpoint(Checkpoint(signer.name, tree.size, tree.root()), signer)
            notes.append((tree.size, note.decode()))
    last = notes[-1][1].encode()
    for witness in witnesses:
        last = cosign_checkpoint(last, witness, int(time.time()))
    notes[-1] = (notes[-1][0], last.decode())
    witness_rows = [
        {"name": w.name, "agency_id": f"agency-{i}", "verifier_key": w.verifier().verifier_key()}
        for i, w in enumerate(witnesses)
    ]
    leaves = ((i, digest, encoded) for i, (encoded, digest) in enumerate(_leaves(count)))
    log_key = signer.verifier().verifier_key()
    with path.open("wb") as out:
        write_export(out, signer.name, log_key, witness_rows, notes, leaves, signer)
    return time.perf_counter() - start, log_key


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else SEQUENCED_EVENTS
    verified = int(sys.argv[2]) if len(sys.argv) > 2 else VERIFIED_EVENTS
    load = os.getloadavg()[0]
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, load {load:.1f}",
        flush=True,
    )
    results = {backend: run_database(backend, count) for backend in ("sqlite", "postgresql")}
    with tempfile.TemporaryDirectory(prefix="sanad-tlog-bench-") as tmp:
        path = Path(tmp) / "export.ndjson"
        built, log_key = build_export(path, verified)
        size_mb = path.stat().st_size / 1e6
        print(
            f"export of {verified:,} events written in {built:.1f} s ({size_mb:,.0f} MB)",
            flush=True,
        )
        report, verify_seconds = timed(lambda: verify_export(path, PinnedKeys(log_key=log_key)))
    assert report.ok and report.tree_size == verified and report.cosignatures == 3, report.summary()
    print(
        f"verified {verified:,} events (every leaf, {report.checkpoints} checkpoints, "
        f"3 cosignatures, trailer) in {verify_seconds:.1f} s",
        flush=True,
    )
    sq, pg = results["sqlite"], results["postgresql"]
    print(
        f"transparency bench: sequencing {sq['sequenced_rate']:,.0f} events/s SQLite, "
        f"{pg['sequenced_rate']:,.0f} events/s PostgreSQL; inclusion proof p50/p99 "
        f"{sq['inclusion_p50_ms']:.2f}/{sq['inclusion_p99_ms']:.2f} ms SQLite, "
        f"{pg['inclusion_p50_ms']:.2f}/{pg['inclusion_p99_ms']:.2f} ms PostgreSQL; "
        f"integration delay max {sq['delay_max_s']:.2f} s SQLite, "
        f"{pg['delay_max_s']:.2f} s PostgreSQL; "
        f"verify {verified:,} events {verify_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
