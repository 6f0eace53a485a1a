"""One reconciliation run over two or three lists, away from the database: link every pair of
lists, explain each link, find three-way conflicts and count. The job feeds it the records as
the caller may see them and stores what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations
from typing import Any

from reconcile.assignment import DECISIONS, LINKED_DECISIONS
from reconcile.engine import LinkResult
from reconcile.explain import evidence
from reconcile.gaps import missing_fields
from reconcile.implied import add_implied_links, conflict_pairs, hold_in_conflict
from reconcile.memory import MemoryBudget
from reconcile.parameters import ModelParameters
from reconcile.scoring import u_as_json
from reconcile.sliced import link_lists
from reconcile.table import LINK_FIELDS, RecordTable
from reconcile.three_way import LIST_PAIRS, transitive_conflicts

Progress = Callable[[str, float], None]


@dataclass(slots=True)
class ListInput:
    """One list's active records as the caller may see them; record ids are the records' ids.
    `shown`: the fields the caller sees as recorded (visible and not coarsened), whose blanks
    are the record's own."""

    list_id: str
    table: RecordTable
    shown: frozenset[str] = frozenset(LINK_FIELDS)


@dataclass(slots=True)
class RunOutput:
    links: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, object] = field(default_factory=dict)
    conflicts: list[dict[str, object]] = field(default_factory=list)
    # left list id -> right list id -> the u that pair was linked with (scoring.u_as_json)
    pair_u: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)


def link_row(result: LinkResult, k: int, left_list: str, right_list: str) -> dict[str, Any]:
    """The k-th link of the result with its evidence, ready to store."""
    links = result.links
    return {
        "left_list_id": left_list,
        "left_record_id": result.left.table.record_ids[int(links.left[k])],
        "right_list_id": right_list,
        "right_record_id": result.right.table.record_ids[int(links.right[k])],
        "probability": round(float(links.probability[k]), 6),
        "decision": DECISIONS[int(links.decision[k])],
        "evidence": [item.as_dict() for item in evidence(result, k)],
        "held_for_conflict": False,
    }


def link_rows(result: LinkResult, left_list: str, right_list: str) -> list[dict[str, Any]]:
    """Every link of the result with its evidence, ready to store."""
    return [link_row(result, k, left_list, right_list) for k in range(len(result.links))]


def reconcile_lists(
    inputs: Sequence[ListInput],
    reviews: Mapping[tuple[str, str], bool],
    parameters: ModelParameters | None = None,
    progress: Progress | None = None,
    budget: MemoryBudget | None = None,
) -> RunOutput:
    """Link each pair of lists (in the order given); of three lists, add the links implied
    through the third list, then check three-way consistency. `budget`: a pair whose
    candidate pairs would not fit in the memory it leaves is linked in slices of its left list
    (reconcile.sliced), and a slice that still would not fails with memory.RunTooLargeError."""
    tables = [item.table for item in inputs]
    pairs = list(combinations(range(len(inputs)), 2))
    output = RunOutput()
    by_pair: dict[tuple[int, int], list[dict[str, Any]]] = {}
    results: dict[tuple[int, int], LinkResult] = {}
    for n, (i, j) in enumerate(pairs):

        def report(stage: str, fraction: float, n: int = n) -> None:
            if progress is not None:
                progress(stage, (n + fraction) / len(pairs))

        result = link_lists(
            tables[i], tables[j], parameters, decisions=reviews, progress=report, budget=budget
        )
        by_pair[(i, j)] = link_rows(result, inputs[i].list_id, inputs[j].list_id)
        u = u_as_json(result.scorer.u)
        output.pair_u.setdefault(inputs[i].list_id, {})[inputs[j].list_id] = u
        results[(i, j)] = result
    if len(inputs) == 3:
        add_implied_links(results, by_pair, [item.list_id for item in inputs], reviews)
        found = transitive_conflicts(*(conflict_pairs(by_pair[pair]) for pair in LIST_PAIRS))
        output.conflicts = [c.as_dict() for c in found]
        hold_in_conflict(chain.from_iterable(by_pair.values()), found)
    results.clear()
    for pair in pairs:
        output.links.extend(by_pair[pair])
    output.counts = _counts(inputs, output)
    return output


def _counts(inputs: Sequence[ListInput], output: RunOutput) -> dict[str, object]:
    linked_ids = {r["left_record_id"] for r in output.links} | {
        r["right_record_id"] for r in output.links
    }
    linked = {item.list_id: item.table.among(linked_ids) for item in inputs}
    decisions = [r["decision"] for r in output.links]
    return {
        "linked": sum(d in LINKED_DECISIONS for d in decisions),
        "needs_review": decisions.count("review"),
        "conflicts": len(output.conflicts),
        "records": {item.list_id: len(item.table) for item in inputs},
        "unmatched": {item.list_id: int((~linked[item.list_id]).sum()) for item in inputs},
        "missing_fields": {
            item.list_id: missing_fields(item.table, linked[item.list_id], item.shown)
            for item in inputs
        },
    }
