"""The three linkers the reconciliation benchmark compares, each reading two exchange-format
CSV files and writing links (left_record_id, right_record_id, probability, decision):
Sanad's engine, an exact-match baseline, and Splink 5 on DuckDB fed with Sanad's name keys."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from reconcile.assignment import DECISIONS, assign_one_to_one
from reconcile.prepare import DOCUMENT_TYPES, PreparedList, RunSpaces, prepare
from reconcile.sliced import link_lists
from reconcile.table import RecordTable

Link = tuple[str, str, float, str]


def write_links(path: Path, links: list[Link]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("left_record_id", "right_record_id", "probability", "decision"))
        writer.writerows(links)


def sanad(left_path: Path, right_path: Path) -> list[Link]:
    left, right = RecordTable.from_csv(left_path), RecordTable.from_csv(right_path)
    result = link_lists(left, right)  # as a run links them (in slices of many pairs)
    links = result.links
    return [
        (left.record_ids[a], right.record_ids[b], round(p, 4), DECISIONS[d])
        for a, b, p, d in zip(
            links.left.tolist(),
            links.right.tolist(),
            links.probability.tolist(),
            links.decision.tolist(),
            strict=True,
        )
    ]


def _exact_keys(table: RecordTable, index: int) -> list[tuple[str, ...]]:
    """A shared document number, or identical given + father name + birth year as written."""
    row = table.row(index)
    keys: list[tuple[str, ...]] = [
        ("doc", *entry.strip().split(":", 1))
        for entry in row["documents"].split(";")
        if ":" in entry
    ]
    given = " ".join((row["given_name"] or row["name_native"]).casefold().split())
    father = " ".join(row["father_name"].casefold().split())
    if given and father and row["dob"]:
        keys.append(("person", given, father, row["dob"][:4]))
    return keys


def exact(left_path: Path, right_path: Path) -> list[Link]:
    left, right = RecordTable.from_csv(left_path), RecordTable.from_csv(right_path)
    wanted: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(left)):
        for key in _exact_keys(left, i):
            wanted.setdefault(key, []).append(i)
    hits: dict[int, set[int]] = {}
    for j in range(len(right)):
        for key in _exact_keys(right, j):
            for i in wanted.get(key, ()):
                hits.setdefault(i, set()).add(j)
    # one-to-one: a record whose key finds several others is ambiguous and left unlinked
    taken: dict[int, int] = {}
    for i, found in hits.items():
        if len(found) == 1:
            j = next(iter(found))
            taken[j] = -1 if j in taken else i
    return [
        (left.record_ids[i], right.record_ids[j], 1.0, "accepted")
        for j, i in taken.items()
        if i >= 0
    ]


def _features(prepared: PreparedList, spaces: RunSpaces, table: RecordTable) -> dict[str, list]:  # type: ignore[type-arg]
    """Columns Splink compares: Sanad's canonical spellings and consonant skeletons, Gregorian
    birth-year span and exact day, normalised documents."""
    names = spaces.names
    dates = spaces.dates.arrays()

    def texts(ids: np.ndarray, attribute: str) -> list[str | None]:
        return [getattr(names.keys[i], attribute) or None for i in ids.tolist()]

    exact_day = np.where(dates["precision"][prepared.dob] == 2, dates["lo"][prepared.dob], -1)
    docs = [
        [f"{DOCUMENT_TYPES[c]}:{spaces.documents.values[v]}" for c, v in enumerate(row) if v]
        for row in prepared.documents.tolist()
    ]
    low, high = dates["span_lo"][prepared.dob], dates["span_hi"][prepared.dob]
    return {
        "unique_id": list(table.record_ids),
        "given_canon": texts(prepared.given, "joined"),
        "given_skel": texts(prepared.given, "skeleton"),
        "father_canon": texts(prepared.father, "joined"),
        "father_skel": texts(prepared.father, "skeleton"),
        "family_skel": texts(prepared.family, "skeleton"),
        "dob_day": [int(d) if d > 0 else None for d in exact_day.tolist()],
        "year_lo": [int(v) if v > 0 else None for v in low.tolist()],
        "year_hi": [int(v) if v > 0 else None for v in high.tolist()],
        "docs": [d or None for d in docs],
        "doc1": [d[0] if d else None for d in docs],
        "sex": [("M", "F")[s - 1] if s else None for s in prepared.sex.tolist()],
        "district": [int(d) or None for d in prepared.district.tolist()],
    }


def _name_comparison(column: str) -> dict:  # type: ignore[type-arg]
    canon, skel = f"{column}_canon", f"{column}_skel"
    return {
        "output_column_name": column,
        "comparison_levels": [
            {"sql_condition": f"{skel}_l IS NULL OR {skel}_r IS NULL", "is_null_level": True},
            {
                "sql_condition": f"{canon}_l = {canon}_r",
                "tf_adjustment_column": canon,
                "label_for_charts": "same spelling",
            },
            {
                "sql_condition": f"{skel}_l = {skel}_r",
                "tf_adjustment_column": skel,
                "label_for_charts": "same skeleton (either script)",
            },
            {
                "sql_condition": f"jaro_winkler_similarity({canon}_l, {canon}_r) >= 0.92",
                "label_for_charts": "close spelling",
            },
            {
                "sql_condition": f"levenshtein({skel}_l, {skel}_r) <= 1",
                "label_for_charts": "skeleton one edit apart",
            },
            {"sql_condition": "ELSE", "label_for_charts": "different"},
        ],
    }


def _settings() -> dict:  # type: ignore[type-arg]
    from splink import block_on

    dob = {
        "output_column_name": "dob",
        "comparison_levels": [
            {"sql_condition": "year_lo_l IS NULL OR year_lo_r IS NULL", "is_null_level": True},
            {"sql_condition": "dob_day_l = dob_day_r", "label_for_charts": "same day"},
            {
                "sql_condition": "year_lo_l <= year_hi_r AND year_lo_r <= year_hi_l AND "
                "(dob_day_l IS NULL OR dob_day_r IS NULL)",
                "label_for_charts": "year only",
            },
            {
                "sql_condition": "year_lo_l <= year_hi_r AND year_lo_r <= year_hi_l",
                "label_for_charts": "same year",
            },
            {
                "sql_condition": "year_lo_l <= year_hi_r + 1 AND year_lo_r <= year_hi_l + 1",
                "label_for_charts": "one year apart",
            },
            {"sql_condition": "ELSE", "label_for_charts": "different"},
        ],
    }
    documents = {
        "output_column_name": "documents",
        "comparison_levels": [
            {"sql_condition": "docs_l IS NULL OR docs_r IS NULL", "is_null_level": True},
            {
                "sql_condition": "len(list_intersect(docs_l, docs_r)) > 0",
                "label_for_charts": "shared",
            },
            {"sql_condition": "ELSE", "label_for_charts": "none shared"},
        ],
    }

    def exact_match(column: str) -> dict:  # type: ignore[type-arg]
        return {
            "output_column_name": column,
            "comparison_levels": [
                {
                    "sql_condition": f"{column}_l IS NULL OR {column}_r IS NULL",
                    "is_null_level": True,
                },
                {"sql_condition": f"{column}_l = {column}_r", "label_for_charts": "same"},
                {"sql_condition": "ELSE", "label_for_charts": "different"},
            ],
        }

    return {
        "link_type": "link_only",
        "comparisons": [
            _name_comparison("given"),
            _name_comparison("father"),
            exact_match("family_skel"),
            dob,
            documents,
            exact_match("sex"),
            exact_match("district"),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("doc1"),
            block_on("given_skel", "father_skel"),
            block_on("given_skel", "year_lo"),
            block_on("father_skel", "year_lo"),
        ],
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


def splink(
    left_path: Path, right_path: Path, accept: float = 0.9, review: float = 0.5
) -> list[Link]:
    """Splink 5 (DuckDB) as a competent user sets it up: Sanad's name keys with term-frequency
    adjustment, DOB levels for year-only and Solar Hijri (converted spans), a shared-document
    level, u from random sampling, m by EM on deterministic blocks, one-to-one best links."""
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, block_on

    left, right = RecordTable.from_csv(left_path), RecordTable.from_csv(right_path)
    spaces = RunSpaces.new()
    frames = [pa.table(_features(prepare(spaces, t), spaces, t)) for t in (left, right)]
    db = DuckDBAPI()
    linker = Linker([db.register(frames[0]), db.register(frames[1])], _settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("doc1"), block_on("given_skel", "father_skel", "year_lo")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_skel", "father_skel")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("year_lo", "sex", "district")
    )
    predicted = linker.inference.predict(threshold_match_probability=review)
    predictions = predicted.as_pyarrow_table()  # type: ignore[no-untyped-call, unused-ignore]  # typed only with splink installed
    ids = {rid: i for i, rid in enumerate(left.record_ids)}
    rights = {rid: i for i, rid in enumerate(right.record_ids)}
    lid = predictions.column("unique_id_l").to_pylist()
    rid = predictions.column("unique_id_r").to_pylist()
    a = np.asarray([ids.get(x, -1) for x in lid])
    b = np.asarray([rights.get(y, -1) for y in rid])
    if (a < 0).any():  # Splink may put the right list on the left
        a, b = np.asarray([ids[y] for y in rid]), np.asarray([rights[x] for x in lid])
    probability = np.asarray(predictions.column("match_probability").to_pylist(), dtype=float)
    kept = assign_one_to_one(probability, a, b, review)
    return [
        (
            left.record_ids[int(a[k])],
            right.record_ids[int(b[k])],
            round(float(probability[k]), 4),
            "accepted" if probability[k] >= accept else "review",
        )
        for k in kept.tolist()
    ]


METHODS = {"sanad": sanad, "exact": exact, "splink": splink}
