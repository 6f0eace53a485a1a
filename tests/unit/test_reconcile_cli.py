"""`sanad reconcile LEFT.csv RIGHT.csv --out links.csv` on small generated files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from reconcile import memory, sliced
from reconcile.synthetic import WorldConfig, write_world


def test_reconcile_command_writes_links(tmp_path: Path) -> None:
    paths = write_world(tmp_path, WorldConfig(pipeline_size=200, gop_size=3_000), 11)
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(
        app, ["reconcile", str(paths["pipeline"]), str(paths["gop"]), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["left_record_id", "right_record_id", "probability", "decision", "reason"]
    assert len(rows) > 100
    truth = {}
    with paths["truth"].open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[row["record_id"]] = row["person_id"]
    accepted = [r for r in rows[1:] if r[3] == "accepted"]
    right = sum(truth[r[0]] == truth[r[1]] for r in accepted)
    assert right / len(accepted) >= 0.97
    assert all(0 <= float(r[2]) <= 1 and r[4] for r in rows[1:])


def test_reconcile_command_links_in_slices_within_a_small_memory_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same links whole and in slices: the budget is all the pairs' (what the process
    holds already counted as nothing) and too small for the whole lists' pairs."""
    monkeypatch.setattr(memory, "resident_mb", lambda: 0.0)
    monkeypatch.setattr(sliced, "resident_mb", lambda: 0.0)
    paths = write_world(tmp_path, WorldConfig(pipeline_size=600, gop_size=20_000), 12)
    runs = {}
    for memory_mb in ("1000", "1"):
        out = tmp_path / f"links-{memory_mb}.csv"
        args = [str(paths["gop"]), str(paths["pipeline"]), "--out", str(out), "--quiet"]
        result = CliRunner().invoke(app, ["reconcile", *args, "--memory-mb", memory_mb])
        assert result.exit_code == 0, result.output
        runs[memory_mb] = (json.loads(result.output)["slices"], out.read_text("utf-8"))
    assert runs["1000"][0] == 1 and runs["1"][0] > 1
    assert runs["1"][1] == runs["1000"][1]


def test_reconcile_command_writes_the_report_an_official_reads(tmp_path: Path) -> None:
    paths = write_world(tmp_path, WorldConfig(pipeline_size=200, gop_size=3_000), 12)
    out, report = tmp_path / "links.csv", tmp_path / "report.html"
    pipeline, gop = str(paths["pipeline"]), str(paths["gop"])
    args = ["reconcile", pipeline, gop, "--out", str(out), "--report", str(report), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        links = list(csv.DictReader(handle))
    with paths["gop"].open(newline="", encoding="utf-8") as handle:
        status_of = {row["record_id"]: row["status"] for row in csv.DictReader(handle)}
    html = report.read_text("utf-8")
    accepted = [link for link in links if link["decision"] == "accepted"]
    found = len({link["left_record_id"] for link in links})
    assert f"<td>accepted automatically</td><td class=n>{len(accepted):,}</td>" in html
    assert f"<td>pipeline.csv (file)</td><td class=n>200</td><td class=n>{found}</td>" in html
    detained = [status for status in status_of.values() if status == "detained"]
    detained_linked = sum(status_of[link["right_record_id"]] == "detained" for link in accepted)
    assert detained and detained_linked
    row = f"<td>detained</td><td class=n>{len(detained):,}</td><td class=n>{detained_linked}</td>"
    assert row in html
    assert links[0]["left_record_id"] not in html and links[0]["right_record_id"] not in html
