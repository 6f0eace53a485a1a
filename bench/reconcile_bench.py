"""Reconciliation benchmark: a generated 25,000-record US pipeline list against a 1,300,000-record
Pakistani list (same synthetic population, ground truth known), linked by Sanad's engine, an
exact-match baseline and Splink 5 (DuckDB), each in its own process for honest time and memory.

    python -m bench.reconcile_bench [--pipeline 25000] [--gop 1300000] [--seed 2026]
        [--noise 1.0] [--splink-pipeline 0] [--workdir /tmp/sanad-reconcile-bench]

Prints, per method: precision, recall and F1 of auto-accepted links, recall on pairs without a
shared document (the target's figure), on pairs where neither record holds any document
(people listed as undocumented) and on pairs where one record's name is only in Arabic script,
the review queue (share of the pipeline; how much of it is true, and the recalls if reviewers
decided every queued pair right), wall time and peak memory (ru_maxrss). Every method
runs on the same full-size lists (Splink needs about 3 minutes and 7.5 GB there); on a smaller
machine, `--splink-pipeline N` runs Splink on the first N pipeline records against a Pakistani
subsample of the same density, and Sanad on that subsample too, so the comparison stays like for
like.
The last line sums up."""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.reconcile_methods import METHODS, write_links
from reconcile.synthetic import EXCHANGE_COLUMNS, WorldConfig, scaled_config, write_world


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["record_id"]: row for row in csv.DictReader(handle)}


def read_truth(path: Path) -> dict[str, int]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["record_id"]: int(row["person_id"]) for row in csv.DictReader(handle)}


def document_types(row: dict[str, str]) -> set[str]:
    return {entry.split(":", 1)[0].strip() for entry in row["documents"].split(";") if ":" in entry}


def _arabic_only(row: dict[str, str]) -> bool:
    return not row["given_name"] and bool(row["name_native"])


def evaluate(
    links_path: Path, left_path: Path, right_path: Path, truth: dict[str, int]
) -> dict[str, float]:
    left, right = read_rows(left_path), read_rows(right_path)
    person_right = {truth[rid]: rid for rid in right}
    pairs = {lid: person_right[truth[lid]] for lid in left if truth[lid] in person_right}
    # the target's figure: no document type in common (the stricter reading)
    no_docs = {
        lid
        for lid, rid in pairs.items()
        if not document_types(left[lid]) & document_types(right[rid])
    }
    # the literal reading, people listed without documents: neither record holds one
    undocumented = {
        lid
        for lid, rid in pairs.items()
        if not document_types(left[lid]) and not document_types(right[rid])
    }
    arabic = {
        lid for lid, rid in pairs.items() if _arabic_only(left[lid]) or _arabic_only(right[rid])
    }
    accepted: dict[str, str] = {}
    review: list[tuple[str, str]] = []
    with links_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["decision"] in ("accepted", "confirmed"):
                accepted[row["left_record_id"]] = row["right_record_id"]
            else:
                review.append((row["left_record_id"], row["right_record_id"]))
    hits = {lid for lid, rid in accepted.items() if pairs.get(lid) == rid}
    # what reviewers who decide every queued pair right would add: the people the queue holds
    found_in_review = {lid for lid, rid in review if pairs.get(lid) == rid}
    reachable = hits | found_in_review
    precision = len(hits) / max(len(accepted), 1)
    recall = len(hits) / max(len(pairs), 1)
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-9),
        "recall_no_documents": len(hits & no_docs) / max(len(no_docs), 1),
        "recall_undocumented": len(hits & undocumented) / max(len(undocumented), 1),
        "recall_arabic_only": len(hits & arabic) / max(len(arabic), 1),
        "review_share": len(review) / max(len(left), 1),
        "review_true_share": len(found_in_review) / max(len(review), 1),
        "recall_with_review": len(reachable) / max(len(pairs), 1),
        "recall_no_documents_with_review": len(reachable & no_docs) / max(len(no_docs), 1),
        "true_pairs": len(pairs),
        "no_document_pairs": len(no_docs),
        "undocumented_pairs": len(undocumented),
        "arabic_only_pairs": len(arabic),
    }


def _subsample(workdir: Path, size: int, seed: int) -> tuple[Path, Path]:
    """The first `size` pipeline records, and the Pakistani records of the same density: every
    record of those people plus a random share of everyone else."""
    out = workdir / f"sub{size}"
    out.mkdir(exist_ok=True)
    truth = read_truth(workdir / "truth.csv")
    with (workdir / "pipeline.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        left = [row for _, row in zip(range(size), reader, strict=False)]
    people = {truth[row[0]] for row in left}
    total = sum(1 for _ in (workdir / "pipeline.csv").open()) - 1
    share = size / total
    rng = random.Random(seed)
    with (workdir / "gop.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        right = [row for row in reader if truth[row[0]] in people or rng.random() < share]
    for name, rows in (("pipeline", left), ("gop", right)):
        with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header if name == "pipeline" else EXCHANGE_COLUMNS)
            writer.writerows(rows)
    return out / "pipeline.csv", out / "gop.csv"


def run_method(method: str, left: Path, right: Path, out: Path) -> dict[str, float]:
    """Run one linker in a child process; its wall time and peak resident memory."""
    started = time.perf_counter()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.reconcile_bench",
            "--run",
            method,
            str(left),
            str(right),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{process.stderr[-3000:]}")
    measured: dict[str, float] = json.loads(process.stdout.strip().splitlines()[-1])
    measured["wall_s_with_start"] = time.perf_counter() - started
    return measured


def _child(method: str, left: Path, right: Path, out: Path) -> None:
    started = time.perf_counter()
    cpu = time.process_time()
    links = METHODS[method](left, right)
    wall = time.perf_counter() - started
    write_links(out, links)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "cpu_s": time.process_time() - cpu, "peak_mb": peak}))


def figures_line(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:<22} P {figures['precision']:.4f}  R {figures['recall']:.4f}  "
        f"F1 {figures['f1']:.4f}  R(no docs) {figures['recall_no_documents']:.4f}  "
        f"R(neither holds one) {figures['recall_undocumented']:.4f}  "
        f"R(Arabic only) {figures['recall_arabic_only']:.4f}  "
        f"review {100 * figures['review_share']:.2f}% ({100 * figures['review_true_share']:.0f} % "
        f"true; with them R {figures['recall_with_review']:.4f}, R(no docs) "
        f"{figures['recall_no_documents_with_review']:.4f})  {figures['wall_s']:.1f} s  "
        f"{figures['peak_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", type=int, default=25_000)
    parser.add_argument("--gop", type=int, default=1_300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--noise", type=float, default=1.0, help="multiplies every noise rate")
    parser.add_argument(
        "--splink-pipeline", type=int, default=0, help="Splink on a subsample (0: full size)"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sanad-reconcile-bench"))
    parser.add_argument("--methods", nargs="*", default=["sanad", "exact", "splink"])
    parser.add_argument("--run", nargs=4, metavar=("METHOD", "LEFT", "RIGHT", "OUT"))
    args = parser.parse_args()
    if args.run:
        method, left, right, out = args.run
        _child(method, Path(left), Path(right), Path(out))
        return
    work = args.workdir / f"p{args.pipeline}-g{args.gop}-s{args.seed}-n{args.noise}"
    if not (work / "truth.csv").exists():
        started = time.perf_counter()
        config = scaled_config(
            WorldConfig(pipeline_size=args.pipeline, gop_size=args.gop), args.noise
        )
        write_world(work, config, args.seed)
        print(
            f"generated {args.pipeline:,} pipeline + {args.gop:,} Pakistani records "
            f"(seed {args.seed}, noise x{args.noise}) in {time.perf_counter() - started:.0f} s"
        )
    truth = read_truth(work / "truth.csv")
    full = (work / "pipeline.csv", work / "gop.csv")
    runs: dict[str, dict[str, float]] = {}
    sample = args.splink_pipeline if 0 < args.splink_pipeline < args.pipeline else 0
    for method in args.methods:
        on_sample = method == "splink" and sample
        left, right = _subsample(work, sample, args.seed) if on_sample else full
        label = f"{method} (subsample {sample:,})" if on_sample else method
        figures = run_method(method, left, right, work / f"links-{method}.csv")
        figures.update(evaluate(work / f"links-{method}.csv", left, right, truth))
        runs[label] = figures
        print(figures_line(label, figures), flush=True)
    if sample and "splink" in args.methods:
        left, right = _subsample(work, sample, args.seed)
        figures = run_method("sanad", left, right, work / "links-sanad-sub.csv")
        figures.update(evaluate(work / "links-sanad-sub.csv", left, right, truth))
        runs[f"sanad (subsample {sample:,})"] = figures
        print(figures_line(f"sanad (subsample {sample:,})", figures), flush=True)
    ours = runs.get("sanad", {})
    others = " | ".join(
        f"{k}: F1 {v['f1']:.4f} {v['wall_s']:.1f} s" for k, v in runs.items() if k != "sanad"
    )
    print(
        f"SUMMARY reconcile {args.pipeline:,} vs {args.gop:,}: sanad "
        f"P {ours.get('precision', 0):.4f} F1 {ours.get('f1', 0):.4f} "
        f"R(no docs) {ours.get('recall_no_documents', 0):.4f} "
        f"R(Arabic) {ours.get('recall_arabic_only', 0):.4f} "
        f"review {100 * ours.get('review_share', 0):.2f}% "
        f"{ours.get('wall_s', 0):.1f} s {ours.get('peak_mb', 0):.0f} MB | {others}"
    )


if __name__ == "__main__":
    main()
