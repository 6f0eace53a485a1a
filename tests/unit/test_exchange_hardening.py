"""NDJSON rows the parser once took silently or passed on to crash later: a lone surrogate
(a `\\udXXX` escape no UTF-8 text can hold; orjson and the database refuse it) and a key given
twice (json.loads keeps the last). Both reject the row naming the field, never the value. And
a CSV header is described by column positions, never by its cells: a file whose first row is
data would otherwise echo personal data."""

from __future__ import annotations

import pytest

from exchange.exchange_format import parse_exchange

NOT_UNICODE = "is not valid Unicode text (a lone surrogate)"
NAME_NOT_UNICODE = "has a field name that is not valid Unicode text (a lone surrogate)"


def _rejections(*lines: str) -> list[tuple[int, str | None, str]]:
    result = parse_exchange("\n".join(lines).encode(), "ndjson")
    assert result.rows == [] or result.rejected == []
    return [(r.row, r.field, r.reason) for r in result.rejected]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (r'{"record_id": "S1", "given_name": "a\ud800b"}', "given_name"),
        (r'{"record_id": "S1\udc00"}', "record_id"),
        (r'{"record_id": "S1", "documents": [{"type": "passport", "number": "P\udbff1"}]}',
         "documents"),
        (r'{"record_id": "S1", "documents": "passport:P\ud8001"}', "documents"),
        (r'{"record_id": "S1", "employer": "ACME \udfff"}', "employer"),
        (r'{"record_id": "S1", "employer": {"name": ["\ud800"]}}', "employer"),
        (r'{"record_id": "S1", "attributes": {"employer": "\ud800"}}', "employer"),
        (r'{"record_id": "S1", "attributes": {"\ud800": "x"}}', None),
        (r'{"record_id": "S1", "\ud800": "x"}', None),
    ],
)  # fmt: skip
def test_a_lone_surrogate_rejects_the_row_naming_the_field(line: str, field: str | None) -> None:
    # a name that cannot be written back is not named: the row is rejected as a whole
    reason = NOT_UNICODE if field else NAME_NOT_UNICODE
    assert _rejections(line) == [(1, field, reason)]


def test_surrogate_pairs_and_escaped_text_are_taken() -> None:
    line = r'{"record_id": "S1", "given_name": "\u0041hmad", "note": "\ud83d\ude00 \\ud800"}'
    result = parse_exchange(line.encode(), "ndjson")
    assert result.rejected == []
    [row] = result.rows
    assert row.values.fields["given_name"] == "Ahmad"
    assert row.values.attributes["note"] == "\U0001f600 \\ud800"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"record_id": "D3", "record_id": "D4"}', "record_id"),
        ('{"record_id": "D3", "dob": "1990", "dob": "1991"}', "dob"),
        ('{"record_id": "D3", "note": "a", "note": "b"}', "note"),
        ('{"record_id": "D3", "attributes": {"note": "a", "note": "b"}}', "note"),
        ('{"record_id": "D3", "documents": [{"type": "passport", "number": "P1", "number": "P2"}]}',
         "documents"),
        ('{"record_id": "D3", "note": {"a": 1, "a": 2}}', "note"),
    ],
)  # fmt: skip
def test_a_key_given_twice_rejects_the_row(line: str, field: str) -> None:
    [(row, name, reason)] = _rejections(line)
    assert (row, name) == (1, field)
    assert "twice" in reason


def test_a_key_given_twice_is_reported_as_a_case_variant_is() -> None:
    exact = _rejections('{"record_id": "D3", "given_name": "A", "given_name": "B"}')
    variant = _rejections('{"record_id": "D3", "given_name": "A", "Given_Name": "B"}')
    assert exact == variant == [(1, "given_name", "is given twice")]


def test_a_csv_header_is_described_by_positions_never_by_its_cells() -> None:
    data = b"R1,Ahmad Shah,Ahmad Shah,1990,1990\nR2,Gul,Gul,1991,1991\n"
    reasons = [r.reason for r in parse_exchange(data, "csv").rejected]
    assert reasons == [
        "header has no record_id column",
        "header repeats a column name: columns 2 and 3; columns 4 and 5",
    ]
    header = b"record_id,given_name,Given_Name,x,x\n"
    [rejection] = parse_exchange(header, "csv").rejected
    assert rejection.reason == "header repeats a column name: columns 2 and 3; columns 4 and 5"
