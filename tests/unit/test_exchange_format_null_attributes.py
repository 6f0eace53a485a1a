"""NDJSON `"attributes": null` means no attributes, as null means no value for every other
field (session 24; the row was refused)."""

from __future__ import annotations

from exchange.exchange_format import parse_exchange


def test_null_attributes_in_ndjson_mean_no_attributes() -> None:
    """`null` is "no value" for every field of an NDJSON record, but `"attributes": null` (what
    many JSON serialisers write for an empty map) rejected the whole row."""
    line = b'{"record_id": "A", "given_name": null, "documents": null, "attributes": null}\n'
    parsed = parse_exchange(line, "ndjson")
    assert parsed.rejected == []
    [row] = parsed.rows
    assert row.record_id == "A" and row.values.attributes == {} and row.values.fields == {}
    still_refused = parse_exchange(b'{"record_id": "A", "attributes": "x"}\n', "ndjson")
    assert [(r.row, r.field) for r in still_refused.rejected] == [(1, "attributes")]
