"""The report an official reads: a run's counts and a histogram of link probabilities as an
inline SVG chart. Counts only: no name, no record id."""

from __future__ import annotations

from html import escape

from schemas.reconciliation import ReconciliationPublic

_WIDTH, _HEIGHT, _PAD = 600, 220, 30


def histogram_svg(counts: list[int]) -> str:
    """Bars of link counts per probability band (0-1 in equal bins)."""
    if not counts:
        return "<p>No links.</p>"
    top = max(max(counts), 1)
    width = (_WIDTH - 2 * _PAD) / len(counts)
    bars = []
    for i, count in enumerate(counts):
        height = (_HEIGHT - 2 * _PAD) * count / top
        x, y = _PAD + i * width, _HEIGHT - _PAD - height
        low, high = i / len(counts), (i + 1) / len(counts)
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width - 2:.1f}" height="{height:.1f}" '
            f'fill="#33658a"><title>{low:.2f}-{high:.2f}: {count}</title></rect>'
        )
    axis = (
        f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" '
        'stroke="#333"/>'
        f'<text x="{_PAD}" y="{_HEIGHT - 8}" font-size="12">0</text>'
        f'<text x="{_WIDTH / 2}" y="{_HEIGHT - 8}" font-size="12">match probability</text>'
        f'<text x="{_WIDTH - _PAD - 8}" y="{_HEIGHT - 8}" font-size="12">1</text>'
        f'<text x="{_PAD}" y="{_PAD - 10}" font-size="12">links (max {top})</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'role="img" aria-label="histogram of link probabilities">{axis}{"".join(bars)}</svg>'
    )


def _rows(counts: dict[str, object]) -> str:
    rows = []
    for key, value in counts.items():
        if key in ("views", "missing_fields"):
            continue
        if isinstance(value, dict):
            for list_id, count in value.items():
                rows.append(
                    f"<tr><td>{escape(key)} — list {escape(str(list_id))}</td><td>{count}</td></tr>"
                )
        else:
            rows.append(
                f"<tr><td>{escape(key.replace('_', ' '))}</td><td>{escape(str(value))}</td></tr>"
            )
    return "".join(rows)


def _missing_fields(counts: dict[str, object]) -> str:
    """Per list, how many records lack each field that finds a person, and how many of those
    the run left without a link."""
    per_list = counts.get("missing_fields")
    if not isinstance(per_list, dict) or not per_list:
        return ""
    rows = []
    for list_id, gaps in per_list.items():
        for gap, figures in gaps.items():
            rows.append(
                f"<tr><td>list {escape(str(list_id))}</td><td>{escape(gap.replace('_', ' '))}</td>"
                f"<td>{int(figures['records'])}</td><td>{int(figures['unmatched'])}</td></tr>"
            )
    return f"""<h2>Records lacking what finds a person</h2>
<p>Records without a card or document number, a birth date to the day, a father's or family
name, or a name in Latin script are the hardest to find in another agency's list: completing
them helps find the people they describe. Fields the run could not see are not counted.</p>
<table><tr><td></td><td>missing</td><td>records</td><td>of them unlinked</td></tr>
{"".join(rows)}</table>"""


def render_report(run: ReconciliationPublic, histogram: list[int]) -> str:
    finished = run.finished_at.isoformat() if run.finished_at else "—"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation {escape(run.id)}</title>
<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}
table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:.3rem .6rem}}</style></head>
<body><h1>Reconciliation report</h1>
<p>Run <code>{escape(run.id)}</code>: {escape(run.status)}, finished {escape(finished)}.</p>
<table>{_rows(run.counts)}</table>
<h2>Links by match probability</h2>
{histogram_svg(histogram)}
{_missing_fields(run.counts)}
<p>Links at or above the acceptance threshold are linked automatically; those below wait for a
person's review. Conflicts are three-way disagreements (A↔B and B↔C but not A↔C).</p>
</body></html>"""
