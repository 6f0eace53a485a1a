"""The leaf format: its fast encoder emits exactly RFC 8785 (checked against rfc8785 itself on
arbitrary values of the leaf domain), covers every audit column, and refuses values outside it."""

from __future__ import annotations

import datetime as dt

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.audit import AuditDisclosure, AuditEvent
from transparency.leaf import (
    DISCLOSURE_FIELDS,
    EVENT_FIELDS,
    LEAF_FORMAT,
    LEAF_FORMAT_WITH_TARGET,
    V1_EVENT_FIELDS,
    LeafEncodingError,
    encode_entry,
    encode_leaf,
    leaf_entry,
    timestamp_text,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(alphabet=st.characters(exclude_categories=["Cs"])),  # Cs: lone surrogates
)


def entries() -> st.SearchStrategy[dict[str, object]]:
    v1 = st.fixed_dictionaries(
        {name: scalars for name in V1_EVENT_FIELDS} | {"format": st.just(LEAF_FORMAT)}
    )
    v2 = st.fixed_dictionaries(
        {name: scalars for name in V1_EVENT_FIELDS}
        | {"target": st.text(alphabet=st.characters(exclude_categories=["Cs"]))}
        | {"format": st.just(LEAF_FORMAT_WITH_TARGET)}
    )
    disclosure = st.fixed_dictionaries({name: scalars for name in DISCLOSURE_FIELDS})
    return st.builds(
        lambda e, d: {**e, "disclosures": d}, v1 | v2, st.lists(disclosure, max_size=3)
    )


@settings(max_examples=500, deadline=None)
@given(entries())
def test_fast_encoding_is_rfc8785(entry: dict[str, object]) -> None:
    assert encode_entry(entry) == rfc8785.dumps(entry)


def test_every_control_character_and_escape_matches_rfc8785() -> None:
    tricky = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029é€𝄞'
    entry = leaf_entry(_event(subject=tricky), [])
    assert encode_entry(entry) == rfc8785.dumps(entry)


def _event(**changes: object) -> dict[str, object]:
    event: dict[str, object] = {name: f"{name}-value" for name in V1_EVENT_FIELDS}
    event |= {"occurred_at": dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC), "status": 200}
    event |= {"disclosure_count": 0}
    return event | changes


def test_leaf_covers_every_column_of_the_audit_tables() -> None:
    assert set(EVENT_FIELDS) == set(AuditEvent.__table__.columns.keys())  # type: ignore[attr-defined]
    disclosure_columns = set(AuditDisclosure.__table__.columns.keys()) - {"event_id"}  # type: ignore[attr-defined]
    assert set(DISCLOSURE_FIELDS) == disclosure_columns


def test_disclosure_order_does_not_matter_and_time_is_normalised() -> None:
    moment = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    rows = [
        {name: f"{name}-{i}" for name in DISCLOSURE_FIELDS} | {"id": f"d{i}", "occurred_at": moment}
        for i in (2, 1, 3)
    ]
    assert encode_leaf(_event(), rows) == encode_leaf(_event(), list(reversed(rows)))
    paris = dt.timezone(dt.timedelta(hours=1))
    assert timestamp_text(dt.datetime(2026, 11, 27, 10, 30, tzinfo=paris)) == (
        "2026-11-27T09:30:00.000000Z"
    )
    # SQLite hands back stored text (UTC without offset); the API, RFC 3339 with Z
    as_stored = leaf_entry(_event(occurred_at="2026-11-27 09:30:00.000000"), [])
    as_served = leaf_entry(_event(occurred_at="2026-11-27T09:30:00Z"), [])
    assert as_stored == as_served == leaf_entry(_event(), [])


@pytest.mark.parametrize(
    "change",
    [
        {"status": 1.5},
        {"status": 2**53},
        {"subject": b"bytes"},
        {"subject": "\ud800"},
        {"extra": "member"},
        {"target": "list_id=L"},  # a v1 leaf names no target
        {"format": "sanad-audit-event/v9"},
        {"format": ["not", "a", "format"]},
    ],
)
def test_values_outside_the_leaf_domain_are_refused(change: dict[str, object]) -> None:
    entry = leaf_entry(_event(), []) | change
    with pytest.raises(LeafEncodingError):
        encode_entry(entry)


def test_naive_datetimes_and_bad_times_are_refused() -> None:
    for bad in (dt.datetime(2026, 1, 1), "yesterday"):
        with pytest.raises(LeafEncodingError):
            leaf_entry(_event(occurred_at=bad), [])


def test_an_event_without_a_target_is_the_v1_leaf_it_always_was() -> None:
    """Leaves logged before `target` existed re-derive byte for byte from their rows, which
    now hold a null target; an event naming objects is a v2 leaf that covers them."""
    before = _event()  # a row as read before the column existed
    assert encode_leaf(before | {"target": None}, []) == encode_leaf(before, [])
    assert leaf_entry(before, [])["format"] == LEAF_FORMAT
    named = leaf_entry(before | {"target": "agreement_id=A1"}, [])
    assert named["format"] == LEAF_FORMAT_WITH_TARGET and named["target"] == "agreement_id=A1"
    assert encode_leaf(before | {"target": "agreement_id=A2"}, []) != encode_entry(named)
    with pytest.raises(LeafEncodingError):  # one row, one encoding: no v2 leaf without target
        encode_entry(leaf_entry(before, []) | {"format": LEAF_FORMAT_WITH_TARGET, "target": None})
