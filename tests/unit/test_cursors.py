"""Cursors decode only to what this API issues: anything else is a 422 naming `cursor`, never
a value the database refuses later (a naive time, a NUL in a record id: both were 500s)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.cursor import decode_cursor, encode_cursor
from exchange.record_service import _decode_cursor, _encode_cursor
from problems import ProblemError


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@given(
    moment=st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(1970, 1, 1)),
    row_id=st.text(min_size=1, max_size=36),
)
def test_an_audit_cursor_decodes_to_what_was_encoded(moment: dt.datetime, row_id: str) -> None:
    assert decode_cursor(encode_cursor(moment, row_id)) == (moment, row_id)


@pytest.mark.parametrize(
    "cursor", [_b64("2026-01-01T00:00:00|x"), _b64("not a time|x"), "²", _b64("no bar")]
)
def test_an_audit_cursor_it_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(ProblemError) as refused:
        decode_cursor(cursor)
    assert refused.value.invalid_params == [{"name": "cursor", "reason": "malformed"}]


@pytest.mark.parametrize("key", ["R\x001", "x" * 129, "line\nbreak"])
def test_a_record_cursor_holding_no_record_id_of_ours_is_refused(key: str) -> None:
    with pytest.raises(ProblemError):
        _decode_cursor("L1", _encode_cursor("L1", key))
    assert _decode_cursor("L1", _encode_cursor("L1", "US-0001")) == "US-0001"
