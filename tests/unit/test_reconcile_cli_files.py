"""`sanad reconcile LEFT.csv RIGHT.csv --out links.csv`: it reads a file's header
as an import does (a column the service imports is not silently dropped offline), and refuses a
file it cannot read with one line naming the file and the problem, never a record's values."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

HEADER = "record_id,given_name,family_name,father_name,dob,dob_calendar,sex,documents"
LEFT_ROWS = (
    "R1,Mohammad Nabi,Ahmadzai,Abdul Ghafoor,1984-03-12,gregorian,M,por:PK-0012-3456789\n"
    "R2,Freshta,Ahmadzai,Gul Mohammad,1988,gregorian,F,passport:P01234568\n"
    "R3,Abdul Rahman,Stanikzai,Noor Ullah,1362,solar_hijri,M,unhcr:123-45-67890\n"
)
RIGHT = (
    f"{HEADER}\n"
    "U1,Mohammad Nabi,Ahmadzay,Abdul Ghafur,1984-03-21,,M,por:PK-0012-3456789\n"
    "U2,Freshta,Ahmadzai,Gul Mohammad,1988-01-01,,F,\n"
    "U3,Abdulrahman,Stanikzai,Nur Ullah,1362,solar_hijri,M,unhcr:123-45C67890\n"
)


def _reconcile(tmp_path: Path, left_text: str) -> tuple[int, str, list[list[str]]]:
    """(exit code, output, rows of links.csv or none) of linking `left_text` with RIGHT."""
    left, right, out = tmp_path / "left.csv", tmp_path / "right.csv", tmp_path / "links.csv"
    left.write_text(left_text, "utf-8")
    right.write_text(RIGHT, "utf-8")
    result = CliRunner().invoke(
        app, ["reconcile", str(left), str(right), "--out", str(out), "--quiet"]
    )
    rows = list(csv.reader(out.open(encoding="utf-8"))) if out.exists() else []
    return result.exit_code, result.output, rows


def test_the_offline_command_reads_a_header_as_an_import_does(tmp_path: Path) -> None:
    """`Given_Name` or ` given_name` name the column an import reads as given_name; offline the
    first was dropped without a word (no link, exit 0) and the second crashed in pyarrow."""
    code, output, plain = _reconcile(tmp_path, f"{HEADER}\n{LEFT_ROWS}")
    assert code == 0, output
    pairs = {(row[0], row[1]) for row in plain[1:]}
    assert pairs == {("R1", "U1"), ("R2", "U2"), ("R3", "U3")}
    for header in (HEADER.title().replace("Record_Id", "record_id"), HEADER.replace(",", ", ")):
        code, output, rows = _reconcile(tmp_path, f"{header}\n{LEFT_ROWS}")
        assert code == 0, output
        assert rows == plain, header


def test_a_file_the_command_cannot_read_is_refused_in_one_line_without_its_values(
    tmp_path: Path,
) -> None:
    """A row shorter than the header: a one-line error naming the file (exit 1), no traceback,
    and not the row itself, which pyarrow's message quoted."""
    code, output, rows = _reconcile(tmp_path, f"{HEADER}\n{LEFT_ROWS}R5,Zarghuna Barakzai\n")
    assert code == 1
    assert "left.csv" in output and "Traceback" not in output
    assert "Zarghuna" not in output
    assert rows == []
    code, output, _ = _reconcile(tmp_path, "id;given_name\nR1;X\n")
    assert code == 1 and "no record_id column" in output and "Traceback" not in output


def test_an_output_in_a_missing_directory_is_refused_before_linking(tmp_path: Path) -> None:
    """Refused in one line before any work, not with a traceback once the linking is done."""
    left, right = tmp_path / "left.csv", tmp_path / "right.csv"
    left.write_text(f"{HEADER}\n{LEFT_ROWS}", "utf-8")
    right.write_text(RIGHT, "utf-8")
    for option in ("--out", "--report"):
        missing = tmp_path / "no-such-dir" / "file"
        args = ["reconcile", str(left), str(right), "--quiet", option, str(missing)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, (option, result.output)
        assert "no-such-dir" in result.output and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
