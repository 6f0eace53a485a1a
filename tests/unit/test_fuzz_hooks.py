"""The schemathesis hooks' choice of ids: records keep their list, ending requests draw from
the spent pool and never reach a protected object."""

from __future__ import annotations

from typing import Any

from contract.fuzz_hooks import (
    body_substitutions,
    ends_an_object,
    reaches_protected,
    substitutions,
)

POOL: dict[str, Any] = {
    "ids": {"list_id": ["L1", "L2"], "letter_id": ["SL-1"], "agency_id": ["unhcr", "gop"]},
    "records": [["L1", "R1"], ["L2", "R9"]],
}


def test_a_record_is_always_drawn_with_its_own_list() -> None:
    assert substitutions(POOL, {"list_id", "record_id"}) == [
        {"list_id": "L1", "record_id": "R1"},
        {"list_id": "L2", "record_id": "R9"},
    ]
    assert substitutions(POOL, {"list_id"}) == [{"list_id": "L1"}, {"list_id": "L2"}]
    assert substitutions(POOL, {"witness_id"}) == []


def test_ending_requests_are_told_apart() -> None:
    assert ends_an_object("DELETE", "/v1/subscriptions/{subscription_id}")
    assert ends_an_object("post", "/v1/lists/{list_id}/records/{record_id}/withdrawal")
    assert not ends_an_object("POST", "/v1/links/{link_id}/decisions")
    assert not ends_an_object("GET", "/v1/letters/{letter_id}/pdf")


def test_protected_objects_are_recognised_by_id_and_by_record() -> None:
    assert reaches_protected(POOL, {"letter_id": "SL-1"})
    assert reaches_protected(POOL, {"list_id": "L2", "record_id": "R9"})
    assert not reaches_protected(POOL, {"list_id": "L2", "record_id": "R1"})
    assert not reaches_protected(POOL, {"letter_id": "SL-2"})


def test_a_body_names_existing_lists_and_records() -> None:
    assert body_substitutions(POOL, {"list_id": "x", "record_id": "y", "valid_days": 3}) == [
        {"list_id": "L1", "record_id": "R1"},
        {"list_id": "L2", "record_id": "R9"},
    ]
    assert body_substitutions(POOL, {"list_ids": []}) == [
        {"list_ids": ["L1", "L2"]},
        {"list_ids": ["L2", "L1"]},
    ]
    assert body_substitutions(POOL, {"list_id": "x"}) == [{"list_id": "L1"}, {"list_id": "L2"}]
    assert body_substitutions(POOL, {"name": "x"}) == []
    agreements = body_substitutions(POOL, {"list_id": "x", "recipient_agency_id": "y"})
    assert [(a["list_id"], a["recipient_agency_id"]) for a in agreements] == [
        ("L1", "unhcr"),
        ("L1", "gop"),
        ("L2", "unhcr"),
        ("L2", "gop"),
    ]
    assert all(a["valid_from"] < a["valid_until"] for a in agreements)
