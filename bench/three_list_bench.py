"""A three-list run as the service makes it (`reconcile.runs.reconcile_lists`): a generated US
pipeline list, UNHCR's registrations and Pakistan's list, each pair linked, links implied
through the third list added, conflicts surfaced. Prints per pair of lists precision, recall
and F1 of accepted links with and without the implied ones (and, for pipeline and Pakistan,
recall on pairs without a shared document), how many links were implied and how many of those
accepted are right, the conflicts, wall time and peak memory, and how long finding implied
links takes among all the run's links and around a few records, as the worker does.

    python -m bench.three_list_bench [--pipeline 25000] [--unhcr 200000] [--gop 400000]
        [--seed 2026] [--workdir /tmp/sanad-three-list-bench]

The defaults take about 3 minutes here and 3 GB (UNHCR against Pakistan is the longest pair).
The last line sums up."""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.reconcile_bench import document_types, read_rows, read_truth
from reconcile.implied import conflicts_around, find_implied, release_around, rows_by_pair
from reconcile.memory import MemoryBudget
from reconcile.runs import ListInput, reconcile_lists
from reconcile.standing import StandingLinks
from reconcile.synthetic import WorldConfig, write_world
from reconcile.table import RecordTable

LISTS = ("pipeline", "unhcr", "gop")
Link = tuple[str, str]


def _child(work: Path, memory_mb: int | None) -> None:
    started = time.perf_counter()
    inputs = [ListInput(name, RecordTable.from_csv(work / f"{name}.csv")) for name in LISTS]
    budget = MemoryBudget(memory_mb) if memory_mb else None
    output = reconcile_lists(inputs, {}, budget=budget)
    wall = time.perf_counter() - started
    with (work / "links.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left_list", "left", "right_list", "right", "decision", "implied"])
        for row in output.links:
            implied = row["evidence"][-1]["field"] == "transitive"
            writer.writerow(
                [
                    row["left_list_id"],
                    row["left_record_id"],
                    row["right_list_id"],
                    row["right_record_id"],
                    row["decision"],
                    int(implied),
                ]
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_mb": peak,
                "conflicts": len(output.conflicts),
                **_search_times(output.links),
            }
        )
    )


def _search_times(links: list[dict[str, Any]]) -> dict[str, float]:
    """How long finding implied links takes among all the run's links, as a run does; and what
    the worker does around ten changed records with the copy of the links it holds
    (reconcile.standing): the groups around them, held links released, implied links found,
    conflicts read again (medians of 5)."""
    rows = rows_by_pair(links, LISTS)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        find_implied(rows, {}, None)
        runs.append(time.perf_counter() - started)
    times = {"search_all_s": statistics.median(runs)}
    held = StandingLinks(
        0,
        [
            {"id": str(k), "held_for_conflict": False, **row}
            for k, row in enumerate(links)
            if row["decision"] != "rejected"
        ],
    )
    some = {row["left_record_id"] for row in links[:: max(1, len(links) // 10)]}
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        around_rows = rows_by_pair(held.group(some, (), []), LISTS)
        _released, around = release_around(around_rows, some)
        find_implied(around_rows, {}, some | around)
        conflicts_around(around_rows, some | around)
        runs.append(time.perf_counter() - started)
    times["worker_around_10_s"] = statistics.median(runs)
    times["links"] = float(len(links))
    return times


def _documents(path: Path) -> dict[str, set[str]]:
    """Record id -> the types of the documents the record lists."""
    return {rid: document_types(row) for rid, row in read_rows(path).items()}


def _scores(accepted: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    hits = sum(truth.get(left) == right for left, right in accepted.items())
    precision, recall = hits / max(len(accepted), 1), hits / max(len(truth), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def evaluate(work: Path) -> list[str]:
    person = read_truth(work / "truth.csv")
    documents = {name: _documents(work / f"{name}.csv") for name in LISTS}
    rows = list(csv.DictReader((work / "links.csv").open(newline="", encoding="utf-8")))
    lines = []
    for left_list, right_list in (("pipeline", "unhcr"), ("unhcr", "gop"), ("pipeline", "gop")):
        record_of = {person[rid]: rid for rid in documents[right_list]}
        truth = {
            lid: record_of[person[lid]] for lid in documents[left_list] if person[lid] in record_of
        }
        pair = [r for r in rows if (r["left_list"], r["right_list"]) == (left_list, right_list)]
        accepted = [r for r in pair if r["decision"] in ("accepted", "confirmed")]
        direct = {r["left"]: r["right"] for r in accepted if r["implied"] == "0"}
        both = {r["left"]: r["right"] for r in accepted}
        implied = [r for r in pair if r["implied"] == "1"]
        implied_accepted = [r for r in accepted if r["implied"] == "1"]
        implied_right = sum(truth.get(r["left"]) == r["right"] for r in implied_accepted)
        alone, with_implied = _scores(direct, truth), _scores(both, truth)
        line = (
            f"{left_list}-{right_list}: pairwise P/R/F1 {'/'.join(f'{x:.4f}' for x in alone)}, "
            f"with implied {'/'.join(f'{x:.4f}' for x in with_implied)}"
        )
        line += (
            f"; implied {len(implied)} ({len(implied_accepted)} accepted, "
            f"{implied_right} of them right)"
        )
        if right_list == "gop":
            left_docs, right_docs = documents[left_list], documents[right_list]
            bare = {lid: rid for lid, rid in truth.items() if not left_docs[lid] & right_docs[rid]}
            bare_alone = _scores({k: v for k, v in direct.items() if k in bare}, bare)[1]
            bare_implied = _scores({k: v for k, v in both.items() if k in bare}, bare)[1]
            line += f"; recall without a shared document {bare_alone:.4f} -> {bare_implied:.4f}"
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", type=int, default=25_000)
    parser.add_argument("--unhcr", type=int, default=200_000)
    parser.add_argument("--gop", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sanad-three-list-bench"))
    parser.add_argument(
        "--memory-mb",
        type=int,
        help="link within this memory budget, as the service does (SANAD_RECONCILE_MEMORY_MB):"
        " a pair whose candidate pairs would not fit is linked in slices",
    )
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _child(args.run, args.memory_mb)
        return
    work = args.workdir / f"p{args.pipeline}-u{args.unhcr}-g{args.gop}-s{args.seed}"
    if not (work / "truth.csv").exists():
        config = WorldConfig(pipeline_size=args.pipeline, gop_size=args.gop, unhcr_size=args.unhcr)
        write_world(work, config, args.seed)
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.three_list_bench",
            "--run",
            str(work),
            *(["--memory-mb", str(args.memory_mb)] if args.memory_mb else []),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"the run failed:\n{child.stderr[-3000:]}")
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    lines = evaluate(work)
    print("\n".join(lines))
    print(
        f"implied links searched among all {measured['links']:,.0f} links in "
        f"{measured['search_all_s']:.2f} s; around 10 records, as the worker does after a "
        f"change with the links it holds, released, implied and conflicts in "
        f"{measured['worker_around_10_s']:.4f} s"
    )
    print(
        f"SUMMARY three lists {args.pipeline:,} / {args.unhcr:,} / {args.gop:,} "
        f"(seed {args.seed}): "
        f"{measured['wall_s']:.1f} s, {measured['peak_mb']:.0f} MB, "
        f"{measured['conflicts']} conflicts; {lines[-1]}"
    )


if __name__ == "__main__":
    main()
