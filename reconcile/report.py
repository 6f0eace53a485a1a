"""The report an official reads: which lists a run linked and how much of each it found in the
others, what was decided about the links (and how sure the engine was, as a chart), what the
lists' records lack that would find more people, and, where the caller sees it, the status
Pakistan records of the people found (detained, deported, …). Counts only: no name, no record
id. Plain HTML that prints as it shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from reconcile.discrepancies import AT_RISK
from reconcile.report_chart import DECISIONS, Bands, stacked_histogram_svg
from schemas.reconciliation import ReconciliationPublic

GAP_LABELS = {
    "document": "a card or document number",
    "birth_date_to_the_day": "a birth date to the day",
    "father_name": "a father's name",
    "family_name": "a family name",
    "latin_script_name": "a name in Latin script",
}
_STYLE = """body{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666}details{margin:.5rem 0 1rem}"""


@dataclass(frozen=True, slots=True)
class ReportList:
    """A run's list as the caller may see it now: its name (None when no longer shared with
    the caller), and per status its records hold, (records, of them linked), when the caller
    sees statuses."""

    list_id: str
    name: str | None
    kind: str | None = None
    owner_agency_id: str | None = None
    statuses: dict[str, tuple[int, int]] | None = None

    @property
    def title(self) -> str:
        if self.name is None:
            return f"a list no longer shared with you ({self.list_id[:8]}…)"
        about = ", ".join(part for part in (self.kind, self.owner_agency_id) if part)
        return f"{self.name} ({about})" if about else self.name


def render_report(run: ReconciliationPublic, lists: list[ReportList], bands: Bands) -> str:
    ended = f", finished {_when(run.finished_at)}" if run.finished_at else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation report</title>
<style>{_STYLE}</style></head>
<body><h1>Reconciliation report</h1>
<p>Run <code>{escape(run.id)}</code>: {escape(run.status)};
started {_when(run.created_at)}{ended}.</p>
<h2>The lists and how many of their records were found in the others</h2>
{_lists_table(run.counts, lists)}
<h2>The links and what was decided</h2>
{_decisions_table(run.counts, bands)}
<h2>Links by match probability</h2>
{stacked_histogram_svg(bands)}
{_bands_table(bands)}
{_statuses(lists)}
{_missing_fields(run.counts, lists)}
<p class="muted">Links at or above the acceptance threshold are linked automatically; those below
wait for a person's review, and a person's decision stands in later runs. A record "found" has
an accepted, confirmed or reviewable link. Conflicts are three-way disagreements (A↔B and B↔C
but not A↔C). Counts only: this report names no person and no record.</p>
</body></html>"""


def _when(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def _number(value: object) -> str:
    if value is None:  # not counted yet (a run still linking) or not visible
        return "—"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _per_list(counts: dict[str, object], key: str, list_id: str) -> int | None:
    figures = counts.get(key)
    value = figures.get(list_id) if isinstance(figures, dict) else None
    return value if isinstance(value, int) else None


def _lists_table(counts: dict[str, object], lists: list[ReportList]) -> str:
    rows = []
    for item in lists:
        records = _per_list(counts, "records", item.list_id)
        unmatched = _per_list(counts, "unmatched", item.list_id)
        found = records - unmatched if records is not None and unmatched is not None else None
        share = f"{found / records:.1%}" if found is not None and records else "—"
        rows.append(
            f"<tr><td>{escape(item.title)}</td><td class=n>{_number(records)}</td>"
            f"<td class=n>{_number(found)}</td><td class=n>{share}</td>"
            f"<td class=n>{_number(unmatched)}</td></tr>"
        )
    return (
        "<table><tr><th>list (kind, held by)</th><th>records</th><th>found in another list</th>"
        f"<th>share found</th><th>not found</th></tr>{''.join(rows)}</table>"
    )


def _decisions_table(counts: dict[str, object], bands: Bands) -> str:
    rows = [
        f"<tr><td>{escape(label)}</td><td class=n>{bands.decided(decision):,}</td></tr>"
        for decision, (label, _) in DECISIONS.items()
    ]
    held = counts.get("held_for_conflict", 0)
    if isinstance(held, int) and held:
        rows.append(
            f"<tr><td>of those waiting, held by a conflict</td><td class=n>{held:,}</td></tr>"
        )
    conflicts = _number(counts.get("conflicts", 0))
    rows.append(f"<tr><td>three-way conflicts</td><td class=n>{conflicts}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _bands_table(bands: Bands) -> str:
    rows = [
        f"<tr><td>{bands.label(b)}</td><td class=n>{bands.total(b):,}</td>"
        f"<td>{escape(bands.words(b))}</td></tr>"
        for b in reversed(range(bands.bins))
        if bands.total(b)
    ]
    if not rows:
        return ""
    return (
        "<details open><summary>The chart's figures</summary><table><tr><th>probability</th>"
        f"<th>links</th><th>decided</th></tr>{''.join(rows)}</table></details>"
    )


def _statuses(lists: list[ReportList]) -> str:
    sections = []
    for item in lists:
        if not item.statuses:
            continue
        rows = "".join(
            f"<tr><td>{escape(status)}</td><td class=n>{held:,}</td>"
            f"<td class=n>{linked:,}</td></tr>"
            for status, (held, linked) in sorted(item.statuses.items(), key=_at_risk_first)
        )
        sections.append(
            f"<h3>{escape(item.title)}</h3><table><tr><th>status recorded</th><th>records</th>"
            f"<th>of them linked</th></tr>{rows}</table>"
        )
    if not sections:
        return ""
    return (
        "<h2>Status of the people found</h2><p>Per status a list records (detained, deported, "
        "…), how many of its records this run linked, accepted or confirmed: the people found "
        "whom a status puts at risk.</p>" + "".join(sections)
    )


def _at_risk_first(item: tuple[str, tuple[int, int]]) -> tuple[bool, int, str]:
    status, (held, _) = item
    return status not in AT_RISK, -held, status


def _missing_fields(counts: dict[str, object], lists: list[ReportList]) -> str:
    """Per gap (rows) and list (columns): records lacking it, and of them not found."""
    per_list = counts.get("missing_fields")
    if not isinstance(per_list, dict) or not per_list:
        return ""
    shown = [item for item in lists if isinstance(per_list.get(item.list_id), dict)]
    header = "".join(f"<th colspan=2>{escape(item.title)}</th>" for item in shown)
    sub = "<th>lacking it</th><th>of them not found</th>" * len(shown)
    rows = []
    for gap, label in GAP_LABELS.items():
        cells = []
        for item in shown:
            figures = per_list[item.list_id].get(gap)
            if isinstance(figures, dict):
                cells.append(
                    f"<td class=n>{int(figures['records']):,}</td>"
                    f"<td class=n>{int(figures['unmatched']):,}</td>"
                )
            else:  # a field the caller could not see is not counted
                cells.append("<td class=n>—</td><td class=n>—</td>")
        rows.append(f"<tr><td>{escape(label)}</td>{''.join(cells)}</tr>")
    return f"""<h2>Records lacking what finds a person</h2>
<p>Records without a card or document number, a birth date to the day, a father's or family
name, or a name in Latin script are the hardest to find in another agency's list: completing
them helps find the people they describe. Fields the run could not see are not counted (—).</p>
<table><tr><th rowspan=2>records without</th>{header}</tr><tr>{sub}</tr>
{"".join(rows)}</table>"""
