"""The report of an offline linking (`sanad reconcile … --report report.html`): the same HTML
as a service run's (reconcile/report.py), made from the linked files, so an official with two
exchange-format files reads what the service would show. Counts only."""

from __future__ import annotations

import datetime as dt

import numpy as np

from reconcile.assignment import DECISIONS, LINKED_DECISIONS
from reconcile.engine import LinkResult
from reconcile.gaps import missing_fields
from reconcile.report import ReportList, render_report
from reconcile.report_chart import PROBABILITY_BANDS, Bands
from reconcile.table import LINK_FIELDS, RecordTable
from schemas.reconciliation import ReconciliationPublic


def offline_report(
    result: LinkResult, names: tuple[str, str], started: dt.datetime, finished: dt.datetime
) -> str:
    """`names`: how the two files are called in the report (their file names)."""
    links = result.links
    decisions = np.asarray(DECISIONS)[links.decision]
    accepted = np.isin(decisions, LINKED_DECISIONS)
    keys = (f"left: {names[0]}", f"right: {names[1]}")
    records: dict[str, int] = {}
    unmatched: dict[str, int] = {}
    gaps: dict[str, object] = {}
    lists = []
    sides = ((result.left.table, links.left), (result.right.table, links.right))
    for key, name, (table, ends) in zip(keys, names, sides, strict=True):
        linked = np.zeros(len(table), np.bool_)
        linked[ends] = True
        records[key], unmatched[key] = len(table), int((~linked).sum())
        gaps[key] = missing_fields(table, linked, LINK_FIELDS)
        statuses = _statuses(table, ends[accepted])
        lists.append(ReportList(key, name, "file", None, statuses))
    counts: dict[str, object] = {
        "records": records,
        "unmatched": unmatched,
        "missing_fields": gaps,
        "conflicts": 0,
    }
    run = ReconciliationPublic(
        id=f"offline: {names[0]} against {names[1]}",
        status="completed",
        stage="completed",
        progress=1.0,
        list_ids=list(keys),
        counts=counts,
        conflicts=[],
        created_at=started,
        finished_at=finished,
    )
    return render_report(
        run, lists, Bands.of(_band_rows(links.probability, decisions), PROBABILITY_BANDS)
    )


def _band_rows(probability: np.ndarray, decisions: np.ndarray) -> list[tuple[int, str, int]]:
    bands = np.minimum((probability * PROBABILITY_BANDS).astype(np.int64), PROBABILITY_BANDS - 1)
    rows = []
    for decision in np.unique(decisions):
        per_band = np.bincount(bands[decisions == decision], minlength=PROBABILITY_BANDS)
        rows += [(b, str(decision), int(n)) for b, n in enumerate(per_band) if n]
    return rows


def _statuses(table: RecordTable, linked: np.ndarray) -> dict[str, tuple[int, int]] | None:
    """Per status the file records, (records, of them linked); None when it records none."""
    column = table.columns.get("status")
    if column is None or not column.codes.any():
        return None
    held = np.bincount(column.codes, minlength=len(column.values))
    of_them = np.bincount(column.codes[np.unique(linked)], minlength=len(column.values))
    return {
        value: (int(held[code]), int(of_them[code]))
        for code, value in enumerate(column.values)
        if code and held[code]
    }
