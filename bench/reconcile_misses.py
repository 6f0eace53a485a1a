"""Where the engine's misses and false links come from, read off the generator's ground truth on
a world at the benchmark's scale (seed 103 by default: a world the second stage was fitted on,
never the benchmark's 2026, so looking does not tune the engine to the benchmark).

    python -m bench.reconcile_misses [--seed 103] [--pipeline 25000] [--gop 1300000]
        [--noise 1.0] [--workdir /tmp/sanad-reconcile-misses]

Prints, for the true pairs (a pipeline member and the Pakistani record of the same person): how
many were accepted, sent to review, linked to another record, lost their record to another
member, stayed candidates below the review threshold, or never became candidates (blocking);
for accepted links that are false, whether Pakistan holds the member at all and whether the
wrong record is a relative (same household) or a stranger; then, field by field, the share of
each level among the true pairs below review next to all true pairs, and the same for the true
pairs where one name is only in Arabic script; and how many true pairs below review have a
rival scored at least as high for the same pipeline record (a namesake).
docs/reconciliation.md ("What limits it") reads these figures. The last line sums up."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from reconcile.assignment import ACCEPTED
from reconcile.blocking import contains, unique_codes
from reconcile.comparison import FIELD_LEVELS, compare_pairs
from reconcile.engine import LinkResult, link_tables
from reconcile.evaluation import true_pairs
from reconcile.synthetic import household_of, scaled_config
from reconcile.table import RecordTable
from reconcile.train import HELD_OUT_WORLD, benchmark_scale_lists

SHOWN_FIELDS = ("given", "family", "father", "dob", "documents", "place")
SHOWN_LEVELS = 5  # the most common levels of a field


@dataclass(frozen=True, slots=True)
class World:
    pipeline: RecordTable
    gop: RecordTable
    person: dict[str, int]  # record id -> person id
    household: dict[int, int]  # person id -> household
    true_right: dict[int, int]  # pipeline index -> index of the same person's Pakistani record

    def related(self, left_id: str, right_id: str) -> bool:
        return self.household[self.person[left_id]] == self.household[self.person[right_id]]


def _arabic_only(table: RecordTable, index: int) -> bool:
    return not table.value("given_name", index) and bool(table.value("name_native", index))


def classify(world: World, result: LinkResult) -> tuple[Counter[str], Counter[str], list[int]]:
    """Outcome per true pair, kind per accepted false link, and the left records of the true
    pairs that stayed candidates below the review threshold."""
    left_ids, right_ids = world.pipeline.record_ids, world.gop.record_ids
    links = result.links
    link_of_left = {
        int(a): (int(b), int(d))
        for a, b, d in zip(links.left, links.right, links.decision, strict=True)
    }
    linked_rights = {int(b) for b in links.right}
    assert result.candidate_pairs is not None
    c_left, c_right, _ = result.candidate_pairs
    t_left = np.fromiter(world.true_right, np.int64, len(world.true_right))
    t_right = np.fromiter(world.true_right.values(), np.int64, len(world.true_right))
    size = len(right_ids)
    found = contains(unique_codes(c_left * size + c_right), t_left * size + t_right)
    true_candidates = set(t_left[found].tolist())
    outcomes: Counter[str] = Counter()
    false_links: Counter[str] = Counter()
    below_review: list[int] = []
    for i, left_id in enumerate(left_ids):
        j = world.true_right.get(i)
        linked = link_of_left.get(i)
        if linked is not None and linked[0] != j and linked[1] == ACCEPTED:
            held = "held elsewhere" if j is not None else "not held"
            kin = "relative" if world.related(left_id, right_ids[linked[0]]) else "stranger"
            false_links[f"{held}, wrong record a {kin}"] += 1
        if j is None:
            continue
        if linked is not None:
            decided = "accepted" if linked[1] == ACCEPTED else "review"
            outcomes[decided if linked[0] == j else f"linked elsewhere ({decided})"] += 1
        elif j in linked_rights:
            outcomes["record taken by another member"] += 1
        elif i in true_candidates:
            outcomes["candidate below review"] += 1
            below_review.append(i)
        else:
            outcomes["never a candidate (blocking)"] += 1
    return outcomes, false_links, below_review


def with_rivals(world: World, result: LinkResult, left: list[int]) -> tuple[int, int]:
    """How many of these left records' true pairs have a rival: another Pakistani record that
    the first stage scores at least as high for the same pipeline record (a namesake the
    evidence does not tell apart, or prefers); and how many of those have a relative among
    their rivals."""
    assert result.candidate_pairs is not None
    c_left, c_right, log_odds = result.candidate_pairs
    mine = np.isin(c_left, np.asarray(left, np.int64))
    c_left, c_right, log_odds = c_left[mine], c_right[mine], log_odds[mine]
    true_right = np.asarray([world.true_right[int(i)] for i in c_left.tolist()], np.int64)
    is_true = c_right == true_right
    true_score = dict(zip(c_left[is_true].tolist(), log_odds[is_true].tolist(), strict=True))
    bar = np.asarray([true_score.get(int(i), np.inf) for i in c_left.tolist()])
    rival = ~is_true & (log_odds >= bar)
    left_ids, right_ids = world.pipeline.record_ids, world.gop.record_ids
    kin = {
        a
        for a, b in zip(c_left[rival].tolist(), c_right[rival].tolist(), strict=True)
        if world.related(left_ids[a], right_ids[b])
    }
    return len(set(c_left[rival].tolist())), len(kin)


def level_shares(
    world: World, result: LinkResult, left: Iterable[int]
) -> dict[str, dict[str, float]]:
    """Per field, the share of each level among the true pairs of these left records."""
    li = np.asarray(list(left), np.int64)
    ri = np.asarray([world.true_right[i] for i in li.tolist()], np.int64)
    pairs = compare_pairs(result.spaces, result.left, result.right, li, ri)
    shares = {}
    for name in SHOWN_FIELDS:
        counts = Counter(FIELD_LEVELS[name][code] for code in pairs.levels[name].tolist())
        total = max(sum(counts.values()), 1)
        shares[name] = {level: n / total for level, n in counts.most_common(SHOWN_LEVELS)}
    return shares


def _print_shares(title: str, shares: dict[str, dict[str, float]], size: int) -> None:
    print(f"{title} ({size:,} pairs)")
    for name, levels in shares.items():
        print(f"  {name:10s}" + "  ".join(f"{lv} {share:.0%}" for lv, share in levels.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=103)
    parser.add_argument("--pipeline", type=int, default=HELD_OUT_WORLD.pipeline_size)
    parser.add_argument("--gop", type=int, default=HELD_OUT_WORLD.gop_size)
    parser.add_argument("--noise", type=float, default=1.0, help="multiplies every noise rate")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sanad-reconcile-misses"))
    args = parser.parse_args()
    config = scaled_config(
        replace(HELD_OUT_WORLD, pipeline_size=args.pipeline, gop_size=args.gop), args.noise
    )
    directory = args.workdir / f"p{args.pipeline}-g{args.gop}-s{args.seed}-n{args.noise}"
    pipeline, gop, person = benchmark_scale_lists(config, args.seed, directory)
    t_left, t_right = true_pairs(pipeline.record_ids, gop.record_ids, person)
    true_right = dict(zip(t_left.tolist(), t_right.tolist(), strict=True))
    world = World(pipeline, gop, person, household_of(config, args.seed), true_right)
    result = link_tables(pipeline, gop, keep_candidates=True)
    outcomes, false_links, below_review = classify(world, result)
    true_count = sum(outcomes.values())
    print(f"true pairs {true_count:,} (seed {args.seed}, noise x{args.noise})")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:34s}{count:7,}  {count / true_count:.2%}")
    print(f"accepted false links {sum(false_links.values()):,}")
    for kind, count in false_links.most_common():
        print(f"  {kind:44s}{count:7,}")
    rivalled, by_kin = with_rivals(world, result, below_review)
    print(
        f"true pairs below review with another record scored at least as high: {rivalled:,} of "
        f"{len(below_review):,} ({rivalled / max(len(below_review), 1):.0%}; a relative among "
        f"the rivals for {by_kin:,})"
    )
    every = sorted(true_right)
    arabic = [i for i, j in true_right.items() if _arabic_only(pipeline, i) or _arabic_only(gop, j)]
    arabic_below = sorted(set(arabic) & set(below_review))
    _print_shares("all true pairs", level_shares(world, result, every), len(every))
    _print_shares(
        "true pairs below review", level_shares(world, result, below_review), len(below_review)
    )
    _print_shares("Arabic-only true pairs", level_shares(world, result, arabic), len(arabic))
    _print_shares(
        "Arabic-only below review", level_shares(world, result, arabic_below), len(arabic_below)
    )
    accepted = outcomes["accepted"]
    print(
        f"SUMMARY misses seed {args.seed}: {true_count - accepted:,} of {true_count:,} true pairs "
        f"not accepted ({outcomes['candidate below review']:,} below review, "
        f"{outcomes['never a candidate (blocking)']:,} never candidates, "
        f"{outcomes['review']:,} in review); {sum(false_links.values()):,} false links accepted, "
        f"{sum(n for k, n in false_links.items() if 'relative' in k):,} to relatives"
    )


if __name__ == "__main__":
    main()
