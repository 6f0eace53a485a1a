"""Every request is audited, refused ones included; audit failure means no data leaves."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx
from sqlalchemy import text

from tests.conftest import World
from tests.helpers import PIPELINE_CSV, shared_pipeline
from tlog.checkpoint import NoteSigner, SignatureType


async def _events(
    client: httpx.AsyncClient, world: World, **params: str
) -> list[dict[str, object]]:
    auditor = await world.headers("oversight", purpose="audit")
    response = await client.get("/v1/audit/events", params=params, headers=auditor)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_refused_requests_are_audited(client: httpx.AsyncClient, world: World) -> None:
    cases = [
        ("GET", "/v1/lists", {}, 401),  # no token
        ("GET", "/v1/lists/x/records", {"purpose": None}, 403),  # no purpose
        ("GET", f"/v1/lists/{uuid.uuid4()}", {}, 404),
        ("POST", "/v1/verifications", {"json": {"nonsense": 1}}, 422),
    ]
    for method, path, options, expected in cases:
        request_id = uuid.uuid4().hex
        headers = {"X-Request-Id": request_id}
        if expected != 401:
            headers |= await world.headers(
                "gop", purpose=options.get("purpose", "protection-verification")
            )  # type: ignore[arg-type]
        response = await client.request(method, path, headers=headers, json=options.get("json"))
        assert response.status_code == expected, (path, response.text)
        assert response.headers["x-request-id"] == request_id
        events = await _events(client, world, request_id=request_id)
        assert len(events) == 1, f"expected one audit event for {path}"
        [event] = events
        assert event["status"] == expected
        assert event["outcome"] == "denied"
        assert event["method"] == method
        assert event["reason"]


async def test_event_names_caller_purpose_and_route_template(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    request_id = uuid.uuid4().hex
    headers = await world.headers("unhcr", purpose="reconciliation")
    response = await client.get(
        f"/v1/lists/{list_id}/records", headers={**headers, "X-Request-Id": request_id}
    )
    assert response.status_code == 200, response.text
    client_id = world.client_for("unhcr")[0]
    [event] = await _events(client, world, client_id=client_id, request_id=request_id)
    assert event["route"] == "/v1/lists/{list_id}/records"
    assert event["purpose"] == "reconciliation"
    assert event["agency_id"] == world.unhcr
    assert event["outcome"] == "allowed"
    assert event["token_jti"]
    assert event["disclosure_count"] == 4
    assert "records:read" in str(event["scopes"])


async def test_agency_auditor_sees_own_clients_and_access_to_own_records(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    assert (await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)).status_code == 200
    us_auditor = await world.headers("us_mission", purpose="audit")
    seen = await client.get("/v1/audit/events", params={"list_id": list_id}, headers=us_auditor)
    assert seen.status_code == 200
    assert any(e["agency_id"] == world.unhcr for e in seen.json()["items"])
    gop_auditor = await world.headers("gop", purpose="audit")
    mine = await client.get(
        "/v1/audit/events", params={"agency_id": world.unhcr}, headers=gop_auditor
    )
    assert mine.status_code == 200
    assert mine.json()["items"] == []


async def test_audit_queries_need_the_audit_purpose(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await world.headers("us_mission", purpose="resettlement-processing")
    response = await client.get("/v1/audit/events", headers=headers)
    assert response.status_code == 403


@contextmanager
def table_broken(sync_engine, table: str, operation: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """A real database failure on every `operation` on `table` (not a mock), removed afterwards."""
    dialect = sync_engine.dialect.name
    with sync_engine.begin() as conn:
        if dialect == "sqlite":
            conn.execute(text(
                f"CREATE TRIGGER table_down BEFORE {operation} ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'table down'); END"
            ))  # fmt: skip
        else:
            conn.execute(text(
                "CREATE FUNCTION table_down() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'table down'; END $$"
            ))  # fmt: skip
            conn.execute(text(
                f"CREATE TRIGGER table_down BEFORE {operation} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION table_down()"
            ))  # fmt: skip
    try:
        yield
    finally:
        with sync_engine.begin() as conn:
            if dialect == "sqlite":
                conn.execute(text("DROP TRIGGER table_down"))
            else:
                conn.execute(text(f"DROP TRIGGER table_down ON {table}"))
                conn.execute(text("DROP FUNCTION table_down()"))


def audit_table_broken(sync_engine) -> AbstractContextManager[None]:  # type: ignore[no-untyped-def]
    return table_broken(sync_engine, "audit_event", "INSERT")


async def test_no_data_leaves_when_the_audit_write_fails(
    client: httpx.AsyncClient, world: World, sync_engine
) -> None:  # type: ignore[no-untyped-def]
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    with audit_table_broken(sync_engine):
        response = await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/audit-unavailable")
    # the request and list ids are random hex, which may hold any four digits ("1984")
    request_id = response.json()["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    body = response.text.replace(request_id, "").replace(list_id, "")
    for value in ("Mohammad", "Ahmadzai", "Abdul", "P01234567", "1984"):
        assert value not in body
    again = await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)
    assert again.status_code == 200


async def test_a_write_whose_audit_fails_changes_nothing(
    client: httpx.AsyncClient, world: World, sync_engine
) -> None:  # type: ignore[no-untyped-def]
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    with audit_table_broken(sync_engine):
        response = await client.post(
            f"/v1/lists/{list_id}/imports",
            content=PIPELINE_CSV.encode(),
            headers={**us, "Content-Type": "text/csv", "Idempotency-Key": uuid.uuid4().hex},
        )
    assert response.status_code >= 500
    records = await client.get(f"/v1/lists/{list_id}/records", headers=us)
    assert records.status_code == 200
    assert records.json()["items"] == []


async def test_a_failed_write_logs_where_not_what(
    client: httpx.AsyncClient, world: World, sync_engine, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Database errors quote their statement's parameters; the operational log must not."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    path = f"/v1/lists/{list_id}/records/R1"
    etag = (await client.get(path, headers=us)).headers["etag"]
    capsys.readouterr()
    with table_broken(sync_engine, "record", "UPDATE"):
        response = await client.patch(
            path, json={"given_name": "Zarmina Qaderi"}, headers={**us, "If-Match": etag}
        )
    assert response.status_code == 500
    logged = capsys.readouterr().out
    assert "unhandled_error" in logged
    for value in ("Zarmina", "Qaderi", "Mohammad", "Ahmadzai"):
        assert value not in logged


async def test_writes_committed_with_their_audit_event_name_their_route(
    client: httpx.AsyncClient, world: World
) -> None:
    """A write commits its audit event in its own transaction, before the middleware sees the
    response: the event must name the route all the same (it said `(unmatched)`). Status
    claims and witness revocations, added in session 15, are audited like every route."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
    cosigner = NoteSigner.generate("unhcr.example/audited", SignatureType.COSIGNATURE_V1)
    witness = await client.post(
        "/v1/audit/witnesses",
        json={"verifier_key": cosigner.verifier().verifier_key()},
        headers=admin,
    )
    assert witness.status_code == 201, witness.text
    claim = {"status": "registered", "effective_at": "2026-01-01T00:00:00+05:00"}
    writes = (
        ("/v1/lists", {"name": "x", "kind": "pipeline"}, us, "/v1/lists", 201),
        (
            f"/v1/lists/{list_id}/records/R1/status-claims",
            claim,
            unhcr,
            "/v1/lists/{list_id}/records/{record_id}/status-claims",
            201,
        ),
        (
            f"/v1/audit/witnesses/{witness.json()['id']}/revocation",
            {"reason": "lost"},
            admin,
            "/v1/audit/witnesses/{witness_id}/revocation",
            200,
        ),
    )
    for path, body, headers, route, status in writes:
        request_id = uuid.uuid4().hex
        response = await client.post(
            path, json=body, headers={**headers, "X-Request-Id": request_id}
        )
        assert response.status_code == status, response.text
        [event] = await _events(client, world, request_id=request_id)
        assert (event["route"], event["status"], event["outcome"]) == (route, status, "allowed")


async def test_a_search_in_a_body_is_audited_with_what_it_disclosed(
    client: httpx.AsyncClient, world: World
) -> None:
    """`records:search` files its event under its own route template, with the caller's purpose,
    and discloses exactly the records it found: the filter values are in no event."""
    list_id = await shared_pipeline(client, world)
    request_id = uuid.uuid4().hex
    headers = await world.headers("unhcr", purpose="reconciliation")
    response = await client.post(
        f"/v1/lists/{list_id}/records:search",
        json={"father_name": "Abdul Ghafoor"},
        headers={**headers, "X-Request-Id": request_id},
    )
    assert response.status_code == 200, response.text
    assert [r["record_id"] for r in response.json()["items"]] == ["R1"]
    client_id = world.client_for("unhcr")[0]
    [event] = await _events(client, world, client_id=client_id, request_id=request_id)
    assert event["route"] == "/v1/lists/{list_id}/records:search"
    assert (event["method"], event["purpose"], event["outcome"]) == (
        "POST",
        "reconciliation",
        "allowed",
    )
    assert event["disclosure_count"] == 1
    assert "Ghafoor" not in str(event)
