"""Which kind of noise limits reconciliation: the benchmark's lists (25,000 pipeline records
against 1,300,000 Pakistani ones, seed 2026) generated again with one group of noise rates
halved at a time, every other rate at its default, each linked by Sanad as in
`bench.reconcile_bench`. The gap each group closes says what holds the figures back, and which
data an agency could record better to find more of its people.

    python -m bench.noise_sensitivity [--pipeline 25000] [--gop 1300000] [--seed 2026]
        [--factor 0.5] [--groups dates family ...] [--workdir /tmp/sanad-noise-sensitivity]

About 75 s per group on this 2-core machine (generating the world takes half of it); each
world is deleted once linked. Prints one line per group and a closing SUMMARY line. The model
and thresholds stay those trained at the default noise: the question is what the data allows
the engine as it is, not what a model retrained per world would reach."""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from pathlib import Path

from bench.reconcile_bench import evaluate, figures_line, read_truth, run_method
from reconcile.synthetic import WorldConfig, scaled_config, write_world

# Each group: the AgencyNoise rates it scales, for every agency alike.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": (),  # every non-structural rate, as `reconcile_bench --noise`
    "dates": ("dob_year_only", "dob_january_first"),
    "date-slips": ("dob_solar_hijri", "dob_swap_day_month", "dob_off_by_one"),
    "family": ("family_missing", "swap_given_family"),
    "father": ("father_missing",),
    "arabic": ("arabic_only",),
    "spelling": ("variant_spelling", "rule_spelling", "typo"),
    "districts": ("other_district", "detention_other_district"),
    "sex": ("sex_miscoded", "sex_unknown"),
    "documents": ("document_mistyped",),
}
# Not noise but what an agency chooses to record: the pipeline listing every card its members
# hold (it lists 45 % by default), to weigh against what cleaner data would give.
PIPELINE_ALL_CARDS = "pipeline-cards"


def world_config(group: str, factor: float, pipeline: int, gop: int) -> WorldConfig:
    base = WorldConfig(pipeline_size=pipeline, gop_size=gop)
    if group == "default":
        return base
    if group == PIPELINE_ALL_CARDS:
        return replace(base, pipeline_noise=replace(base.pipeline_noise, document_listed=1.0))
    return scaled_config(base, factor, GROUPS[group] or None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", type=int, default=25_000)
    parser.add_argument("--gop", type=int, default=1_300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--factor", type=float, default=0.5, help="multiplies a group's rates")
    choices = ["default", *GROUPS, PIPELINE_ALL_CARDS]
    parser.add_argument("--groups", nargs="*", choices=choices, default=choices)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sanad-noise-sensitivity"))
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for group in args.groups:
        work = args.workdir / group
        started = time.perf_counter()
        write_world(work, world_config(group, args.factor, args.pipeline, args.gop), args.seed)
        generated = time.perf_counter() - started
        left, right = work / "pipeline.csv", work / "gop.csv"
        figures = run_method("sanad", left, right, work / "links.csv")
        figures.update(evaluate(work / "links.csv", left, right, read_truth(work / "truth.csv")))
        shutil.rmtree(work)
        results[group] = figures
        label = group if group in ("default", PIPELINE_ALL_CARDS) else f"{group} x{args.factor}"
        print(f"{figures_line(label, figures)}  (generated in {generated:.0f} s)", flush=True)
    print(
        "SUMMARY noise sensitivity: "
        + " | ".join(
            f"{group} F1 {f['f1']:.4f} R(no docs) {f['recall_no_documents']:.4f} "
            f"R(Arabic) {f['recall_arabic_only']:.4f}"
            for group, f in results.items()
        )
    )


if __name__ == "__main__":
    main()
