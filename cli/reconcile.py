"""`sanad reconcile LEFT.csv RIGHT.csv --out links.csv [--report report.html]`: link two
exchange-format files offline with the service's engine, with a progress bar, within a memory
budget as a run is. Writes left_record_id, right_record_id, probability, decision, reason (the
reason quotes names: treat the output as personal data), and on request the service's report
(counts only)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.errors import open_owner_only
from reconcile.assignment import DECISIONS
from reconcile.engine import LinkResult
from reconcile.explain import evidence, reason
from reconcile.memory import MemoryBudget, default_budget_mb
from reconcile.report_offline import offline_report
from reconcile.sliced import link_lists
from reconcile.table import RecordTable
from schemas.types import utcnow

HEADER = ("left_record_id", "right_record_id", "probability", "decision", "reason")


def write_links(result: LinkResult, out: Path) -> int:
    links = result.links
    left_ids, right_ids = result.left.table.record_ids, result.right.table.record_ids
    # the reasons quote names and birth dates: readable by the owner only
    with io.TextIOWrapper(open_owner_only(out), encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for k in range(len(links)):
            writer.writerow(
                (
                    left_ids[int(links.left[k])],
                    right_ids[int(links.right[k])],
                    f"{float(links.probability[k]):.4f}",
                    DECISIONS[int(links.decision[k])],
                    reason(evidence(result, k)),
                )
            )
    return len(links)


def run_reconcile(
    left: Path,
    right: Path,
    out: Path,
    quiet: bool = False,
    memory_mb: int | None = None,
    report: Path | None = None,
) -> dict[str, object]:
    """Link the two files within `memory_mb` (default: reconcile.memory's share of the
    machine): lists whose candidate pairs would not fit are linked in slices, with the same
    links (reconcile.sliced). With `report`, also write the report an official reads."""
    started = utcnow()
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        disable=quiet,
        transient=False,
    ) as bar:
        task = bar.add_task("reading", total=1.0)
        left_table, right_table = RecordTable.from_csv(left), RecordTable.from_csv(right)
        bar.update(task, description="linking", completed=0.05)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=0.05 + 0.85 * fraction)

        budget = MemoryBudget(memory_mb or default_budget_mb())
        result = link_lists(left_table, right_table, progress=progress, budget=budget)
        bar.update(task, description="explaining", completed=0.9)
        written = write_links(result, out)
        if report is not None:
            names = (left.name, right.name)
            report.write_text(offline_report(result, names, started, utcnow()), "utf-8")
        bar.update(task, description="done", completed=1.0)
    decisions = result.links.decision.tolist()
    return {
        "left_records": len(left_table),
        "right_records": len(right_table),
        "links": written,
        "accepted": decisions.count(0) + decisions.count(2),
        "needs_review": decisions.count(1),
        "timings_s": result.timings,
        "slices": result.found_by.get("slices", 1),
    }
