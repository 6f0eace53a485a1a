"""What a change costs the incremental worker in reading and scanning a run's standing links,
with the copy it holds between polls (reconcile.standing) and without it, on the links of a
three-list bench run (`python -m bench.three_list_bench` writes them to links.csv).

    python -m bench.standing_links_bench [--links DIR/links.csv] [--changes 10] [--no-database]

Prints, as medians over `--changes` changes of one record each (a record of a random link):
- from PostgreSQL (a fresh database built by migrations, the links stored as one run's):
  every standing link, as the worker read them at each change before, against the links of
  the records a change touched, as it reads them after storing one now;
- in Python: the three-way steps of a change (held links released, implied links found,
  conflicts read again; reconcile.relinking._three_way) and each pair's standing links by
  record, over every link against over the groups of linked records around the change;
- building the copy once, and the memory it takes (rows and index; the worker read the rows
  and let them go at each change before).
The last line sums up."""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.servers import fresh_database
from database.engine import make_async_engine
from database.migrations import upgrade_to_head
from reconcile import repository
from reconcile.implied import conflicts_around, find_implied, release_around, rows_by_pair
from reconcile.incremental import StandingLink
from reconcile.standing import StandingLinks
from reconcile.three_way import LIST_PAIRS

Row = dict[str, Any]
LISTS = ("pipeline", "unhcr", "gop")
DEFAULT_LINKS = Path("/tmp/sanad-three-list-bench/p25000-u1300000-g1300000-s2026/links.csv")
RUN_ID = "run-standing-links-bench"


def read_links(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "id": str(uuid.uuid4()),
                "left_list_id": row["left_list"],
                "left_record_id": row["left"],
                "right_list_id": row["right_list"],
                "right_record_id": row["right"],
                "decision": row["decision"],
                "probability": 0.9,
                "held_for_conflict": False,
            }
            for row in csv.DictReader(handle)
            if row["decision"] != "rejected"
        ]


def _median(runs: list[float]) -> float:
    return round(statistics.median(runs), 5)


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def _steps(rows: list[Row], involving: set[str]) -> None:
    by_pair = rows_by_pair(rows, LISTS)
    _released, around = release_around(by_pair, involving)
    find_implied(by_pair, {}, involving | around)
    conflicts_around(by_pair, involving | around)


def _whole(rows: list[Row], record: str) -> None:
    """A change's scans over every link, as before: each pair's links by record, the links
    of the changed record, and the three-way steps over every link (none is held, so
    none is changed)."""
    for i, j in LIST_PAIRS:
        lists = (LISTS[i], LISTS[j])
        links = [
            StandingLink(r["id"], r["left_record_id"], r["right_record_id"], False)
            for r in rows
            if (r["left_list_id"], r["right_list_id"]) == lists
        ]
        {s.left_record_id: s for s in links}.get(record)
        {s.right_record_id: s for s in links}.get(record)
    kept = [r for r in rows if record not in (r["left_record_id"], r["right_record_id"])]
    _steps(kept, {record})


def _held(held: StandingLinks, record: str) -> None:
    """The same with the copy: lookups by record and the groups around the change."""
    touched = {r["id"] for r in held.of_records({record})}
    for i, j in LIST_PAIRS:
        partners = held.pair((LISTS[i], LISTS[j]), touched)
        partners.by_left().get(record)
        partners.by_right().get(record)
    _steps(held.group({record}, touched, []), {record})


def _copy_mb(path: Path) -> float:
    """The memory the copy takes, rows and index, read and built once more under tracemalloc
    (which slows building about threefold)."""
    tracemalloc.start()
    held = StandingLinks(0, read_links(path))
    copy_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del held
    return copy_mb


def python_figures(
    path: Path, changes: int, seed: int
) -> tuple[list[Row], list[str], dict[str, float]]:
    """The links as read, the records changed, and the figures in Python."""
    rows = read_links(path)
    started = time.perf_counter()
    held = StandingLinks(0, rows)
    built = time.perf_counter() - started
    sample = random.Random(seed).sample(rows, min(changes, len(rows)))
    records = [row["left_record_id"] for row in sample]
    figures = {
        "links": float(len(rows)),
        "copy_build_s": round(built, 2),
        "copy_mb": round(_copy_mb(path), 1),
        "scan_every_link_s": _median([_timed(partial(_whole, rows, r)) for r in records]),
        "scan_groups_around_s": _median([_timed(partial(_held, held, r)) for r in records]),
    }
    return rows, records, figures


def _store(url: str, rows: list[Row]) -> None:
    """The links as one run's, foreign keys off for the load (no records or agency exist)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO reconciliation (id, owner_agency_id, created_by_client_id, list_ids,"
            " status, stage, progress, counts, conflicts, histogram, views, created_at)"
            " VALUES (%s, 'unhcr', 'bench', '[]', 'completed', 'done', 1, '{}', '[]', '[]',"
            " '{}', now())",
            (RUN_ID,),
        )
        columns = (
            "id, reconciliation_id, left_list_id, left_record_id, right_list_id,"
            " right_record_id, probability, decision, evidence, incremental, created_at"
        )
        with conn.cursor().copy(f"COPY reconciliation_link ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (
                        r["id"],
                        RUN_ID,
                        r["left_list_id"],
                        r["left_record_id"],
                        r["right_list_id"],
                        r["right_record_id"],
                        r["probability"],
                        r["decision"],
                        '[{"field": "given_name", "level": "exact", "weight": 3.2}]',
                        False,
                        "2026-12-06T00:00:00Z",
                    )
                )
        conn.execute("ANALYZE reconciliation_link")


async def _reads(url: str, records: list[str]) -> dict[str, float]:
    engine = make_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    every, around = [], []
    try:
        for record in records:
            async with sessions() as session:
                started = time.perf_counter()
                await repository.standing_links(session, RUN_ID)
                every.append(time.perf_counter() - started)
                started = time.perf_counter()
                await repository.links_version(session, RUN_ID)
                near = await repository.standing_links_of_records(session, RUN_ID, [record])
                ends = {end for r in near for end in (r["left_record_id"], r["right_record_id"])}
                await repository.standing_links_of_records(session, RUN_ID, sorted(ends))
                around.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return {"read_every_link_s": _median(every), "read_around_change_s": _median(around)}


def database_figures(rows: list[Row], records: list[str]) -> dict[str, float]:
    with fresh_database("postgresql") as url:
        upgrade_to_head(url)
        _store(url, rows)
        return asyncio.run(_reads(url, records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=Path, default=DEFAULT_LINKS)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-database", action="store_true")
    args = parser.parse_args()
    rows, records, figures = python_figures(args.links, args.changes, args.seed)
    if not args.no_database:
        figures.update(database_figures(rows, records))
    for name, value in figures.items():
        print(f"{name}: {value:g}")
    before = figures.get("read_every_link_s", 0) + figures["scan_every_link_s"]
    after = figures.get("read_around_change_s", 0) + figures["scan_groups_around_s"]
    print(
        f"per change, {len(rows):,} standing links: {before:.3f} s reading and scanning them all,"
        f" {after:.4f} s with the copy held between polls"
    )


if __name__ == "__main__":
    main()
