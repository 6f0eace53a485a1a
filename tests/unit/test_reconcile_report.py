"""The reconciliation report's pure parts: bands of links per decision, the chart's scale, and
the HTML (lists named and escaped, figures with separators, fields not counted shown as such,
statuses only where given, no record)."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st

from reconcile.report import ReportList, render_report
from reconcile.report_chart import Bands, _scale_top, stacked_histogram_svg
from schemas.reconciliation import ReconciliationPublic

PIPELINE, DETENTIONS = "11111111-pipeline", "22222222-detentions"


def _run(counts: dict[str, object]) -> ReconciliationPublic:
    return ReconciliationPublic(
        id="run-1",
        status="completed",
        stage="completed",
        progress=1.0,
        list_ids=[PIPELINE, DETENTIONS],
        counts=counts,
        conflicts=[],
        created_at=dt.datetime(2026, 12, 7, 7, 50, tzinfo=dt.UTC),
        finished_at=dt.datetime(2026, 12, 7, 7, 51, tzinfo=dt.UTC),
    )


COUNTS: dict[str, object] = {
    "conflicts": 2,
    "held_for_conflict": 3,
    "records": {PIPELINE: 25_000, DETENTIONS: 1_300_000},
    "unmatched": {PIPELINE: 7_100, DETENTIONS: 1_282_000},
    "missing_fields": {
        PIPELINE: {"document": {"records": 13_700, "unmatched": 5_200}},
        DETENTIONS: {"father_name": {"records": 40, "unmatched": 39}},
    },
}
LISTS = [
    ReportList(PIPELINE, "pipeline <2026>", "pipeline", "us-mission"),
    ReportList(DETENTIONS, None),
]
BANDS = Bands.of([(19, "accepted", 1200), (19, "confirmed", 5), (11, "review", 40)], 20)


def test_bands_add_up_per_decision_and_say_their_figures_in_words() -> None:
    bands = Bands.of([(3, "accepted", 2), (3, "accepted", 5), (3, "review", 1)], 4)
    assert bands.counts["accepted"] == [0, 0, 0, 7]
    assert bands.total(3) == 8 and bands.decided("review") == 1 and bands.decided("rejected") == 0
    assert bands.words(3) == "7 accepted automatically, 1 waiting for review"
    assert bands.label(3) == "0.75 to 1.00"


@given(st.integers(min_value=1, max_value=10**9))
def test_the_chart_s_scale_is_a_round_number_just_above_the_highest_bar(highest: int) -> None:
    top = _scale_top(highest)
    assert highest <= top < 2.5 * highest
    assert re.fullmatch(r"[125]0*", str(top))


def test_each_band_is_one_bar_split_by_decision_with_its_figures() -> None:
    svg = stacked_histogram_svg(BANDS)
    assert svg.count("<g><title>") == 2  # two bands hold links
    assert "0.95 to 1.00: 1,200 accepted automatically, 5 confirmed by a person" in svg
    assert "0.55 to 0.60: 40 waiting for review" in svg
    assert stacked_histogram_svg(Bands.of([], 20)) == "<p>No links.</p>"
    # the scale's lines are labelled with their exact values
    assert ">2,000</text>" in svg and ">1,000</text>" in svg
    assert ">2.5</text>" in stacked_histogram_svg(Bands.of([(0, "review", 4)], 20))


def test_the_report_names_lists_escaped_and_counts_without_a_record() -> None:
    html = render_report(_run(COUNTS), LISTS, BANDS)
    assert "pipeline &lt;2026&gt; (pipeline, us-mission)" in html
    assert "<2026>" not in html
    assert "a list no longer shared with you (22222222…)" in html
    # found = records - not found, with separators, and the share
    assert "<td class=n>25,000</td><td class=n>17,900</td><td class=n>71.6%</td>" in html
    assert "<td>accepted automatically</td><td class=n>1,200</td>" in html
    assert "<td>of those waiting, held by a conflict</td><td class=n>3</td>" in html
    assert "7 December 2026, 07:50 UTC" in html
    # a gap a list's view did not count is a dash, not a zero
    document_row = re.search(r"<tr><td>a card or document number</td>(.*?)</tr>", html)
    assert document_row is not None
    assert document_row.group(1).count("—") == 2 and "13,700" in document_row.group(1)
    assert "Status of the people found" not in html


def test_statuses_are_shown_for_the_lists_that_carry_them() -> None:
    lists = [
        LISTS[0],
        ReportList(
            DETENTIONS,
            "detentions",
            "status",
            "gop",
            {"documented": (1_200_000, 9_000), "detained": (5_900, 4_200), "deported": (3, 1)},
        ),
    ]
    html = render_report(_run(COUNTS), lists, BANDS)
    assert "Status of the people found" in html
    assert "<td>detained</td><td class=n>5,900</td><td class=n>4,200</td>" in html
    # the statuses that put people at risk first, most records first
    order = [html.index(f"<td>{s}</td>") for s in ("detained", "deported", "documented")]
    assert order == sorted(order)


def test_a_run_still_linking_shows_dashes_not_none() -> None:
    running = _run({}).model_copy(update={"status": "running", "finished_at": None})
    html = render_report(running, LISTS, Bands.of([], 20))
    assert "None" not in html
    assert "<td class=n>—</td><td class=n>—</td><td class=n>—</td><td class=n>—</td>" in html
    assert "running;" in html and "started 7 December 2026, 07:50 UTC." in html
