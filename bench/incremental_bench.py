"""Incremental linking benchmark: how fast and how well records that arrive after a run (new
Pakistani records, half of them pipeline members, half not) are linked against it as the
worker links them (`reconcile.incremental`, both lists held prepared between polls), next to
a full rerun that includes them.

    python -m bench.incremental_bench [--pipeline 25000] [--gop 200000] [--late 40] [--seed 7]

Prints the full run's time, the incremental time, and for the late records: links made, how
many are true (ground truth of the generator), members whose true record was missed, standing
links displaced, and agreement with the full rerun's links of the same records; the time to
hold the Pakistani list once and to bring it up to date with the late records. Then corrected
pipeline records, each compared with the whole Pakistani list: prepared afresh for each (as
before session 8) and against the lists held prepared (reconcile.held_lists); new Pakistani
records arriving one at a time (`--new`). Last, pipeline
records relinked one at a time unchanged, as the worker would after a correction: how often it
accepts what the full run accepts (`--relinked`)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from reconcile.assignment import ACCEPTED
from reconcile.engine import LinkResult, link_tables
from reconcile.held_lists import HeldList, HeldLists
from reconcile.incremental import (
    PairContext,
    Relinked,
    StandingLink,
    relink_left,
    relink_pair,
    relink_right,
)
from reconcile.synthetic import WorldConfig, generate_world
from reconcile.table import RecordTable

LISTS = ("pipeline", "gop")


def _accepted(result: LinkResult) -> dict[str, str]:
    """right record id -> left record id of the accepted links"""
    left, right = result.left.table.record_ids, result.right.table.record_ids
    return {
        right[int(b)]: left[int(a)]
        for a, b, d in zip(
            result.links.left, result.links.right, result.links.decision, strict=True
        )
        if d == ACCEPTED
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", type=int, default=25_000)
    parser.add_argument("--gop", type=int, default=200_000)
    parser.add_argument("--late", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corrections", type=int, default=10)
    parser.add_argument("--new", type=int, default=5, help="new records, one at a time")
    parser.add_argument("--relinked", type=int, default=300, help="records relinked unchanged")
    args = parser.parse_args()
    world = generate_world(WorldConfig(pipeline_size=args.pipeline, gop_size=args.gop), args.seed)
    truth = world.truth
    members = {truth[row["record_id"]] for row in world.pipeline}
    late_members = [r for r in world.gop if truth[r["record_id"]] in members][: args.late // 2]
    others = [r for r in world.gop if truth[r["record_id"]] not in members][: args.late // 2]
    late = late_members + others
    late_ids = {row["record_id"] for row in late}
    earlier = [row for row in world.gop if row["record_id"] not in late_ids]

    started = time.perf_counter()
    run = link_tables(RecordTable.from_rows(world.pipeline), RecordTable.from_rows(earlier))
    full_seconds = time.perf_counter() - started
    standing = _standing(run)
    held = HeldLists(3)
    held.hold("pipeline", RecordTable.from_rows(world.pipeline), 0)
    started = time.perf_counter()
    held.hold("gop", RecordTable.from_rows(earlier), 0)
    hold_seconds = time.perf_counter() - started
    held.keep_u(*LISTS, run.scorer.u)  # as the worker takes it from the run
    started = time.perf_counter()
    gop = held.update("gop", late, (), 1)
    update_seconds = time.perf_counter() - started
    # as the worker links them: both lists held, the late records among the Pakistani ones
    started = time.perf_counter()
    pipeline = held.in_spaces_of(*LISTS)
    found = _with_kept_u(
        held,
        standing,
        partial(relink_right, left=pipeline, right=(gop.spaces, gop.prepared), changed=late_ids),
    )
    incremental_seconds = time.perf_counter() - started
    accepted = {
        row["right_record_id"]: row["left_record_id"]
        for row in found.links
        if row["decision"] == "accepted"
    }
    true = sum(truth[a] == truth[b] for b, a in accepted.items())
    missed = sum(1 for row in late_members if row["record_id"] not in accepted)
    full = link_tables(RecordTable.from_rows(world.pipeline), RecordTable.from_rows(earlier + late))
    rerun = _accepted(full)
    agree = sum(rerun.get(b) == accepted.get(b) for b in late_ids)
    print(
        f"full run {len(world.pipeline):,} x {len(earlier):,}: {full_seconds:.1f} s; "
        f"{len(late)} late records ({len(late_members)} pipeline members) linked incrementally "
        f"in {incremental_seconds:.2f} s: {len(accepted)} accepted, {true} true, "
        f"{missed} members missed, {len(found.displaced)} standing links displaced; "
        f"same accepted partner (or none) as a full rerun for {agree}/{len(late)}; holding "
        f"the Pakistani list took {hold_seconds:.1f} s once, adding the late records to it "
        f"{update_seconds:.2f} s"
    )
    print(_corrections(world.pipeline, earlier + late, standing, args.corrections, held))
    print(_new_records(earlier, standing, args.new, held))
    print(_relinked_alone(world.pipeline, full, held, truth, args.relinked))


def _with_kept_u(
    held: HeldLists, standing: list[StandingLink], link: Callable[[PairContext], Relinked]
) -> Relinked:
    """A relinking as the worker makes it: with the u kept (the run's, until the lists have
    changed by 1 %), keeping the one it used."""
    found = link(PairContext(LISTS, standing, {}, u=held.sampled_u(*LISTS)))
    if found.u is not None:
        held.keep_u(*LISTS, found.u)
    return found


def _standing(result: LinkResult) -> list[StandingLink]:
    """The result's links as a run holds them (none decided by a person)."""
    left_ids, right_ids = result.left.table.record_ids, result.right.table.record_ids
    return [
        StandingLink(f"link-{k}", left_ids[int(a)], right_ids[int(b)], False)
        for k, (a, b) in enumerate(zip(result.links.left, result.links.right, strict=True))
    ]


def _relink_alone(
    row: dict[str, Any], standing: list[StandingLink], held: HeldLists, gop: HeldList
) -> Relinked:
    """One changed pipeline record relinked against the held Pakistani list, as the worker
    does: the held pipeline list takes the changed version, the other records' links stand and
    compete, and the u sampled by an earlier change is reused."""
    mine = row["record_id"]
    held.update("pipeline", [row], (), 0)
    pipeline = held.in_spaces_of(*LISTS)
    others = [s for s in standing if s.left_record_id != mine]
    return _with_kept_u(
        held,
        others,
        partial(relink_left, left=pipeline, changed={mine}, right=(gop.spaces, gop.prepared)),
    )


def _new_records(
    gop: list[dict[str, Any]], standing: list[StandingLink], count: int, held: HeldLists
) -> str:
    """Seconds per new Pakistani record arriving on its own (a second record of someone the
    list holds, under a new id), as the worker takes it: the held list brought up to date, then
    the record linked within both whole lists."""
    updates, links = [], []
    for k in range(count):
        row = {**gop[k * 7919 % len(gop)], "record_id": f"NEW-{k}"}
        started = time.perf_counter()
        right = held.update("gop", [row], (), 0)
        updated = time.perf_counter()
        link = partial(
            relink_right,
            left=held.in_spaces_of(*LISTS),
            right=(right.spaces, right.prepared),
            changed={row["record_id"]},
        )
        _with_kept_u(held, standing, link)
        links.append(time.perf_counter() - updated)
        updates.append(updated - started)
    held.update("gop", (), {f"NEW-{k}" for k in range(count)}, 0)  # withdrawn again
    return (
        f"{count} new Pakistani records, one at a time: the held list brought up to date in "
        f"{statistics.median(updates):.2f} s median ({max(updates):.2f} s max), the record "
        f"linked in {statistics.median(links):.2f} s median ({max(links):.2f} s max)"
    )


def _corrections(
    pipeline: list[dict[str, Any]],
    gop: list[dict[str, Any]],
    standing: list[StandingLink],
    count: int,
    held: HeldLists,
) -> str:
    """Seconds to relink one corrected pipeline record against the whole Pakistani list, as
    rows prepared afresh and as the worker holds both lists."""
    corrected = [{**row, "district": "Quetta"} for row in pipeline[:count]]
    started = time.perf_counter()
    relink_pair(pipeline, gop, LISTS, ({corrected[0]["record_id"]}, ()), standing, {})
    afresh = time.perf_counter() - started
    kept = held.get("gop")
    assert kept is not None
    seconds = []
    for row in corrected:
        started = time.perf_counter()
        _relink_alone(row, standing, held, kept)
        seconds.append(time.perf_counter() - started)
    for row in pipeline[:count]:  # the corrections undone
        held.update("pipeline", [row], (), 0)
    return (
        f"a corrected pipeline record against {len(gop):,} Pakistani records: {afresh:.1f} s "
        f"with the list prepared afresh; held prepared: median {statistics.median(seconds):.2f} s"
        f", max {max(seconds):.2f} s over {count} records"
    )


def _relinked_alone(
    pipeline: list[dict[str, Any]],
    full: LinkResult,
    held: HeldLists,
    truth: dict[str, int],
    count: int,
) -> str:
    """Pipeline records relinked one at a time, unchanged (a correction that corrects nothing),
    against the held list, with the full run's other links standing: how often the worker
    accepts what the full run accepts, and how many true records each accepts."""
    standing = _standing(full)
    in_run = {a: b for b, a in _accepted(full).items()}
    person_right = {truth[rid]: rid for rid in full.right.table.record_ids}
    gop = held.get("gop")
    assert gop is not None
    same = holds = true_alone = true_run = false_alone = false_run = 0
    for row in pipeline[:count]:
        mine = row["record_id"]
        found = _relink_alone(row, standing, held, gop)
        alone = next(
            (r["right_record_id"] for r in found.links if r["decision"] == "accepted"), None
        )
        same += alone == in_run.get(mine)
        true = person_right.get(truth[mine])
        holds += true is not None
        true_alone += true is not None and alone == true
        true_run += true is not None and in_run.get(mine) == true
        false_alone += alone is not None and alone != true
        false_run += in_run.get(mine) not in (None, true)
    return (
        f"{count} pipeline records relinked alone, unchanged, against the held list: the full "
        f"run's accepted partner (or none) for {same}/{count}; true records accepted "
        f"{true_alone} alone, {true_run} by the full run, of {holds} Pakistan holds; false "
        f"records accepted {false_alone} alone, {false_run} by the full run"
    )


if __name__ == "__main__":
    main()
