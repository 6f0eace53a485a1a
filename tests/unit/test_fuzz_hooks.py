"""The schemathesis hooks' choice of ids (records keep their list, ending requests draw from
the spent pool and never reach a protected object) and of bodies the service accepts, and which
server output fails a pass."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from contract.fuzz_hooks import (
    accepted_bodies,
    body_substitutions,
    cosignature_bodies,
    ends_an_object,
    reaches_protected,
    subject_bodies,
    substitutions,
)
from contract.schemathesis_run import server_errors

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
    asked = {"list_id": "x", "recipient_agency_id": "y", "fields": ["dob", "phone", "sex"],
             "coarsen": {"dob": "year_only", "phone": "x"}}  # fmt: skip
    ceilings = {"unhcr": ["dob", "sex"], "gop": ["sex"]}
    cut = {a["recipient_agency_id"]: a for a in body_substitutions(POOL, asked, ceilings)}
    assert (cut["unhcr"]["fields"], cut["unhcr"]["coarsen"]) == (
        ["dob", "sex"],
        {"dob": "year_only"},
    )
    assert (cut["gop"]["fields"], cut["gop"]["coarsen"]) == (["sex"], {})


def test_a_subscription_body_gets_the_allowed_address_and_a_valid_secret_or_none() -> None:
    generated = {"url": "x" * 8, "event_types": ["record.created"], "secret": "?", "since": "!"}
    plain, with_secret = accepted_bodies(generated, "http://127.0.0.1:9/hook", ["changes:read"])
    assert plain == {"url": "http://127.0.0.1:9/hook", "event_types": ["record.created"]}
    assert with_secret["since"] == "0"
    assert with_secret["secret"].startswith("whsec_")
    assert len(base64.b64decode(with_secret["secret"].removeprefix("whsec_"))) == 24


def test_a_client_body_holds_only_the_callers_scopes_and_what_its_kind_needs() -> None:
    generated = {"name": "\x00", "kind": "liaison", "scopes": ["x"], "jwks": {}, "person_name": ""}
    system, narrow, liaison = accepted_bodies(generated, "", ["clients:manage", "records:read"])
    assert system == {
        "name": "fuzzed partner system",
        "kind": "system",
        "scopes": ["clients:manage", "records:read"],
    }
    assert narrow["scopes"] == ["clients:manage"]
    assert liaison["kind"] == "liaison" and liaison["person_name"]
    assert accepted_bodies(generated, "", []) == []
    assert accepted_bodies({"name": "n", "list_id": "L1"}, "", ["records:read"]) == []


def test_a_pass_fails_on_the_errors_its_server_logged_and_only_on_those() -> None:
    output = "\n".join(
        (
            '{"event": "webhook_attempt", "level": "info", "outcome": "pending"}',
            '{"error": "IntegrityError", "event": "webhook_attempt_failed", "level": "error"}',
            '{"event": "bulk_read_detected", "level": "warning"}',
            "Traceback (most recent call last):",
            "ERROR:    Exception in ASGI application",
        )
    )
    assert [line[:20] for line in server_errors(output)] == [
        '{"error": "Integrity',
        "Traceback (most rece",
        "ERROR:    Exception ",
    ]
    assert server_errors('{"event": "tlog_checkpoint", "level": "info"}\n') == []


def test_subjects_name_existing_letters_and_reported_times_have_passed() -> None:
    encounter = {"subject": {"person": {}}, "event": "detained", "occurred_at": "2999-01-01"}
    reported, by_letter = subject_bodies(encounter, ["SL-1"])
    assert reported["subject"] == {"person": {}} and by_letter["subject"] == {"letter_id": "SL-1"}
    assert reported["occurred_at"] == by_letter["occurred_at"] < dt.datetime.now(dt.UTC).isoformat()
    [claim] = subject_bodies({"status": "detained", "effective_at": "2999-01-01"}, ["SL-1"])
    assert claim["status"] == "detained" and claim["effective_at"] < "2999"
    assert subject_bodies({"document": {"type": "x"}, "person": None}, ["SL-1", "SL-2"]) == [
        {"letter_id": "SL-1"},
        {"letter_id": "SL-2"},
    ]
    assert subject_bodies({"name": "n"}, ["SL-1"]) == []


def test_a_cosignature_body_carries_a_cosigned_note_and_nothing_else_does() -> None:
    notes = ["origin\n7\nroot\n\n— log sig\n— witness sig\n"]
    assert cosignature_bodies({"note": "anything"}, notes) == [{"note": notes[0]}]
    assert cosignature_bodies({"note": "x", "reason": "y"}, notes) == []
    assert cosignature_bodies({"list_id": "L"}, notes) == []
