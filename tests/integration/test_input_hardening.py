"""Input that once reached a 500 (or worse, failed other callers' requests) is refused as a
problem naming where it was, never echoing the value: a Purpose-Of-Use header with a control
character, a body nested past the parser's depth, an import row with a lone surrogate or a key
given twice, a timestamp whose UTC equivalent is outside the years 1-9999, a feed cursor past
a 64-bit integer, and a CSV whose first row is data rather than a header."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from audit.context import AuditContext
from audit.writer import AuditWriteError
from config.settings import Settings
from database.engine import is_sqlite
from tests.conftest import World
from tests.helpers import agreement_body, shared_pipeline

# the UTC equivalents of these are in the years 0 and 10000, which Python cannot represent
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+14:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"
VERIFY = "/v1/verifications"


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith("/" + slug)
    return problem


def _names(problem: dict[str, Any]) -> list[str]:
    return [param["name"] for param in problem.get("invalid_params", [])]


async def _audit_event(client: httpx.AsyncClient, world: World, request_id: str) -> dict[str, Any]:
    auditor = await world.headers("oversight", purpose="audit")
    response = await client.get(
        "/v1/audit/events", params={"request_id": request_id}, headers=auditor
    )
    assert response.status_code == 200, response.text
    [event] = response.json()["items"]
    result: dict[str, Any] = event
    return result


# --- 1. Purpose-Of-Use -------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose",
    [b"x\x00", b"protection-verification\x1f", b"audit\x7f", b"caf\xe9", b"a" * 65],
    ids=["NUL", "unit separator", "DEL", "Latin-1", "65 characters"],
)
async def test_a_purpose_that_is_not_short_printable_ascii_is_refused_and_audited(
    client: httpx.AsyncClient, world: World, purpose: bytes
) -> None:
    token = (await world.headers("gop"))["Authorization"]
    # the checkpoint's lean route and an ordinary one read the header the same way
    for method, path, body in (
        ("POST", VERIFY, {"letter_id": "LTR-1"}),
        ("GET", "/v1/lists", None),
    ):
        request_id = uuid.uuid4().hex
        headers = {"Authorization": token, "Purpose-Of-Use": purpose, "X-Request-Id": request_id}
        response = await client.request(method, path, json=body, headers=headers)
        problem = _problem(response, 403, "purpose-not-allowed")
        assert _names(problem) == ["Purpose-Of-Use"]
        event = await _audit_event(client, world, request_id)
        assert (event["status"], event["reason"]) == (403, "purpose-not-allowed")
        assert event["purpose"] is None  # not stored as sent


async def test_a_bad_purpose_does_not_fail_the_requests_it_shares_an_audit_commit_with(
    client: httpx.AsyncClient, world: World
) -> None:
    await shared_pipeline(client, world)
    good = await world.headers("gop", purpose="protection-verification")
    bad = {**good, "Purpose-Of-Use": "x\x00"}

    async def verify(headers: dict[str, str]) -> int:
        response = await client.post(VERIFY, json={"letter_id": "LTR-1"}, headers=headers)
        return response.status_code

    statuses = await asyncio.gather(*(verify(bad if i == 20 else good) for i in range(40)))
    assert statuses[20] == 403
    assert statuses[:20] + statuses[21:] == [200] * 39


async def test_an_audit_row_the_database_refuses_fails_alone_not_its_batch(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, world: World
) -> None:
    writer = app.state.services.audit_writer
    contexts = [
        AuditContext(uuid.uuid4().hex, "GET", "/v1/lists", dt.datetime.now(dt.UTC))
        for _ in range(6)
    ]
    contexts[4].event_id = contexts[1].event_id  # a key already taken: refused by both databases
    refused = {4}
    if not is_sqlite(settings.database_url):
        contexts[2].purpose = "x\x00"  # what an unchecked header did (SQLite stores a NUL)
        refused.add(2)
    results = await asyncio.gather(
        *(writer.write(ctx, 200) for ctx in contexts), return_exceptions=True
    )
    assert {i for i, result in enumerate(results) if result is not None} == refused
    assert all(isinstance(results[i], AuditWriteError) for i in refused)
    auditor = await world.headers("oversight", purpose="audit")
    for i, ctx in enumerate(contexts):
        found = await client.get(
            "/v1/audit/events", params={"request_id": ctx.request_id}, headers=auditor
        )
        assert len(found.json()["items"]) == (0 if i in refused else 1), i


# --- 2. a body nested past the parser's depth ----------------------------------------------


async def test_a_body_nested_too_deep_is_a_400_on_the_checkpoint_route_as_elsewhere(
    client: httpx.AsyncClient, world: World
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    headers = {
        **await world.headers("gop", purpose="protection-verification"),
        "Content-Type": "application/json",
    }
    lean = await client.post(VERIFY, content=nested, headers=headers)
    # an ordinary route with a JSON body, parsed by FastAPI itself
    us = {**await world.headers("us_mission"), "Content-Type": "application/json"}
    standard = await client.post("/v1/lists", content=nested, headers=us)
    for response in (lean, standard):
        problem = _problem(response, 400, "invalid-request")
        assert problem["detail"] == "There was an error parsing the body"


# --- 3 and 4. NDJSON rows: lone surrogates, keys given twice -------------------------------


async def _new_list(client: httpx.AsyncClient, world: World) -> tuple[str, dict[str, str]]:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    assert made.status_code == 201, made.text
    return made.json()["id"], us


async def _import_ndjson(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str, body: str
) -> httpx.Response:
    return await client.post(
        f"/v1/lists/{list_id}/imports",
        content=body.encode(),
        headers={
            **headers,
            "Content-Type": "application/x-ndjson",
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )


async def _record_ids(client: httpx.AsyncClient, headers: dict[str, str], list_id: str) -> set[str]:
    response = await client.get(f"/v1/lists/{list_id}/records", headers=headers)
    assert response.status_code == 200, response.text
    return {record["record_id"] for record in response.json()["items"]}


async def test_a_lone_surrogate_in_an_import_row_rejects_the_file_naming_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id, us = await _new_list(client, world)
    # written as JSON escapes: the only way a lone surrogate reaches a UTF-8 body
    lines = [
        r'{"record_id": "S1", "given_name": "Secretname\ud800b"}',
        r'{"record_id": "S2\udfff", "given_name": "Ahmad"}',
        r'{"record_id": "S3", "note": "\ud83d\ude00 a pair is fine"}',
    ]
    response = await _import_ndjson(client, us, list_id, "\n".join(lines))
    problem = _problem(response, 422, "import-rejected")
    assert [(r["row"], r["field"]) for r in problem["rejected"]] == [
        (1, "given_name"),
        (2, "record_id"),
    ]
    assert "Secretname" not in response.text
    assert await _record_ids(client, us, list_id) == set()


async def test_a_key_given_twice_in_an_import_row_rejects_the_file(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id, us = await _new_list(client, world)
    body = '{"record_id": "D3", "record_id": "D4"}\n{"record_id": "D5", "given_name": "Ahmad"}'
    response = await _import_ndjson(client, us, list_id, body)
    problem = _problem(response, 422, "import-rejected")
    assert [(r["row"], r["field"], r["reason"]) for r in problem["rejected"]] == [
        (1, "record_id", "is given twice")
    ]
    assert await _record_ids(client, us, list_id) == set()


# --- 5. timestamps at the edge of the range ----------------------------------------------


async def test_an_agreement_period_outside_the_utc_range_is_a_422_naming_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id, us = await _new_list(client, world)
    body = agreement_body(list_id, world.unhcr, ["given_name"], ["protection-verification"])
    for name, moment in (("valid_from", BEFORE_YEAR_ONE), ("valid_until", AFTER_YEAR_9999)):
        response = await client.post("/v1/agreements", json={**body, name: moment}, headers=us)
        assert _names(_problem(response, 422, "validation-failed")) == [f"body.{name}"]


async def test_an_encounter_or_claim_time_outside_the_utc_range_is_a_422_naming_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    encounter = {
        "subject": {"letter_id": "LTR-1"},
        "event": "detained",
        "occurred_at": BEFORE_YEAR_ONE,
    }
    response = await client.post("/v1/encounters", json=encounter, headers=gop)
    assert _names(_problem(response, 422, "validation-failed")) == ["body.occurred_at"]
    claim = {"status": "detained", "effective_at": BEFORE_YEAR_ONE}
    path = f"/v1/lists/{list_id}/records/R1/status-claims"
    response = await client.post(path, json=claim, headers=gop)
    assert _names(_problem(response, 422, "validation-failed")) == ["body.effective_at"]


@pytest.mark.parametrize("path", ["/v1/audit/events", "/v1/audit/disclosures"])
async def test_an_audit_window_outside_the_utc_range_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, world: World, path: str
) -> None:
    auditor = await world.headers("oversight", purpose="audit")
    for name, moment in (("since", BEFORE_YEAR_ONE), ("until", AFTER_YEAR_9999)):
        response = await client.get(path, params={name: moment}, headers=auditor)
        assert _names(_problem(response, 422, "validation-failed")) == [f"query.{name}"]
    # the very edges, in UTC or without an offset (read as UTC), are times like any other
    edges = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59"}
    assert (await client.get(path, params=edges, headers=auditor)).status_code == 200


# --- 6. a feed cursor past a 64-bit integer ------------------------------------------------


async def test_a_feed_cursor_past_a_64_bit_integer_is_refused_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    us = await world.headers("us_mission")
    response = await client.get("/v1/changes", params={"since": str(2**63)}, headers=us)
    assert _names(_problem(response, 422, "validation-failed")) == ["since"]
    # the largest a sequence number holds, but ahead of the feed: refused too, not a 500
    largest = await client.get("/v1/changes", params={"since": str(2**63 - 1)}, headers=us)
    assert _names(_problem(largest, 422, "validation-failed")) == ["since"]


# --- 7. a CSV whose first row is data -------------------------------------------------------


async def test_a_csv_header_that_repeats_a_name_is_refused_by_position_not_value(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id, us = await _new_list(client, world)
    body = "R1,Ahmad Shah,Ahmad Shah,1990\nR2,Gul,Gul,1991\n"
    response = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=body.encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": uuid.uuid4().hex},
    )
    problem = _problem(response, 422, "import-rejected")
    reasons = [r["reason"] for r in problem["rejected"]]
    assert "header repeats a column name: columns 2 and 3" in reasons
    assert "Ahmad" not in json.dumps(problem)
