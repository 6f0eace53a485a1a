"""`sanad reconcile LEFT.csv RIGHT.csv --out links.csv` on small generated files."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
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
