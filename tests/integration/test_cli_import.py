"""`sanad import`: the HTTP import service run from the command line as a named client of the
owning agency, all-or-nothing, audited as the route audits, idempotent by the file's hash."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session
from typer.testing import CliRunner

from auth.clients import disable_client, register_client
from cli.importer import detect_format
from cli.main import app as cli
from config.settings import Settings
from schemas.identity import ClientCreate
from tests.conftest import World
from tests.helpers import PIPELINE_CSV, shared_pipeline

PURPOSE = "resettlement-processing"
# what the audit says of an import whoever made it, and however (HTTP or command line)
SAME_IN_THE_AUDIT = (
    "method", "route", "status", "outcome", "reason", "purpose", "client_id", "subject",
    "agency_id", "scopes", "disclosure_count",
)  # fmt: skip


async def _sanad_import(
    settings: Settings,
    list_id: str,
    path: Path,
    client_id: str,
    purpose: str = PURPOSE,
    quiet: bool = False,
) -> tuple[int, dict[str, Any]]:
    args = ["import", list_id, str(path), "--client-id", client_id, "--purpose", purpose]
    # the command runs its own event loop: keep it off the test's
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [*args, "--quiet"] if quiet else args,
        env={"DATABASE_URL": settings.database_url},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert (result.stderr == "") == quiet  # the progress bar goes to stderr, the report not
    return result.exit_code, json.loads(result.stdout)


async def _new_list(client: httpx.AsyncClient, world: World) -> str:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    return list_id


async def _records(client: httpx.AsyncClient, world: World, list_id: str) -> list[dict[str, Any]]:
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/lists/{list_id}/records", headers=us)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _event(client: httpx.AsyncClient, world: World, request_id: str) -> dict[str, Any]:
    auditor = await world.headers("oversight", purpose="audit")
    response = await client.get(
        "/v1/audit/events", params={"request_id": request_id}, headers=auditor
    )
    assert response.status_code == 200, response.text
    [event] = response.json()["items"]
    return dict(event)


async def test_an_imported_file_is_read_back_over_http_and_a_rerun_replays(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    list_id = await _new_list(client, world)
    members = tmp_path / "members.csv"
    members.write_text(PIPELINE_CSV, "utf-8")
    client_id = world.client_for("us_mission")[0]

    code, report = await _sanad_import(settings, list_id, members, client_id)
    assert code == 0, report
    assert report["status"] == "imported" and report["format"] == "csv"
    assert (report["received"], report["created"], report["updated"]) == (4, 4, 0)
    assert report["replayed"] is False
    assert report["idempotency_key"] == hashlib.sha256(members.read_bytes()).hexdigest()
    records = {r["record_id"]: r for r in await _records(client, world, list_id)}
    assert sorted(records) == ["R1", "R2", "R3", "R4"]
    assert records["R1"]["attributes"] == {"employer": "US Army contractor"}
    assert records["R3"]["dob_calendar"] == "solar_hijri"

    code, again = await _sanad_import(settings, list_id, members, client_id)
    assert code == 0, again
    assert again["replayed"] is True and again["import_id"] == report["import_id"]
    assert len(await _records(client, world, list_id)) == 4

    # audited as the route audits the same import (and its replay) made over HTTP
    request_id = uuid.uuid4().hex
    over_http = await client.post(
        f"/v1/lists/{await _new_list(client, world)}/imports",
        content=PIPELINE_CSV.encode(),
        headers={
            **await world.headers("us_mission"),
            "Content-Type": "text/csv",
            "Idempotency-Key": uuid.uuid4().hex,
            "X-Request-Id": request_id,
        },
    )
    assert over_http.status_code == 201, over_http.text
    expected = await _event(client, world, request_id)
    for run in (report, again):
        event = await _event(client, world, str(run["request_id"]))
        assert {k: event[k] for k in SAME_IN_THE_AUDIT} == {
            k: expected[k] for k in SAME_IN_THE_AUDIT
        }
        assert event["status"] == 201 and event["outcome"] == "allowed"
        assert event["route"] == "/v1/lists/{list_id}/imports"


async def test_one_bad_row_imports_nothing_and_names_row_and_field_only(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    list_id = await _new_list(client, world)
    lines = PIPELINE_CSV.splitlines()
    bad = lines[2].replace(",F,", ",female,").replace("1988", "19-88")
    members = tmp_path / "members.csv"
    members.write_text("\n".join([lines[0], lines[1], bad, lines[3]]), "utf-8")

    code, report = await _sanad_import(
        settings, list_id, members, world.client_for("us_mission")[0]
    )
    assert code == 1
    assert report["status"] == "rejected" and report["received"] == 3
    assert {(r["row"], r["field"]) for r in report["rejected"]} == {(2, "dob"), (2, "sex")}
    shown = json.dumps(report).replace(list_id, "")  # a random UUID may hold "19-88"
    for value in ("female", "19-88", "Freshta"):
        assert value not in shown
    assert await _records(client, world, list_id) == []
    event = await _event(client, world, report["request_id"])
    assert (event["status"], event["outcome"], event["reason"]) == (
        422,
        "denied",
        "import-rejected",
    )


async def test_unknown_disabled_foreign_and_unentitled_clients_are_refused(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    sync_session: Callable[[], Session],
    tmp_path: Path,
) -> None:
    list_id = await _new_list(client, world)
    shared = await shared_pipeline(client, world)
    members = tmp_path / "members.csv"
    members.write_text(PIPELINE_CSV.replace("Yousuf", "Yusuf"), "utf-8")

    def clients() -> tuple[str, str]:
        with sync_session() as session:
            data = ClientCreate(name="reader", scopes=["lists:read", "records:read"])
            reader, _ = register_client(session, world.us, data)
            retired, _ = register_client(
                session, world.us, ClientCreate(name="old", scopes=["records:write"])
            )
            disable_client(session, world.us, retired.id, "test")
            session.commit()
            return reader.id, retired.id

    reader, retired = await asyncio.to_thread(clients)
    unhcr = world.client_for("unhcr")[0]
    cases = [
        (list_id, "no-such-client", "unauthenticated", 401, None),
        (list_id, retired, "unauthenticated", 401, None),
        (list_id, reader, "insufficient-scope", 403, world.us),
        (list_id, unhcr, "not-found", 404, world.unhcr),  # not shared with UNHCR
        (shared, unhcr, "agency-not-entitled", 403, world.unhcr),  # shared with it, not its own
    ]
    for target, client_id, problem, status, agency in cases:
        # a purpose UNHCR's agreement allows: the refusal is for the list, not the purpose
        code, report = await _sanad_import(
            settings, target, members, client_id, "reconciliation", quiet=True
        )
        assert code == 1, (client_id, report)
        assert (report["status"], report["problem"]) == ("refused", problem), report
        event = await _event(client, world, report["request_id"])
        assert (event["status"], event["outcome"], event["reason"]) == (status, "denied", problem)
        assert event["agency_id"] == agency
    assert await _records(client, world, list_id) == []
    assert "Yusuf" not in json.dumps(await _records(client, world, shared))


async def test_ndjson_is_recognised_by_its_content(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    lines = [
        {
            "record_id": "N1",
            "given_name": "Zarghuna",
            "dob": "1370-05",
            "dob_calendar": "solar_hijri",
        },
        {"record_id": "N2", "given_name": "Wais", "sex": "M", "documents": "passport:X1"},
    ]
    members = tmp_path / "members.txt"  # an extension that says nothing
    members.write_text("\n".join(json.dumps(line) for line in lines), "utf-8")
    assert detect_format(members, members.read_bytes()) == "ndjson"
    assert detect_format(tmp_path / "x.txt", b"\xef\xbb\xbf record_id,given_name\n") == "csv"
    assert detect_format(tmp_path / "x.jsonl", b"record_id\n") == "ndjson"  # the name wins

    list_id = await _new_list(client, world)
    code, report = await _sanad_import(
        settings, list_id, members, world.client_for("us_mission")[0]
    )
    assert code == 0, report
    assert (report["format"], report["created"]) == ("ndjson", 2)
