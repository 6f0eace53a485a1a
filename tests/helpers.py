"""Shared steps of the integration tests: a pipeline list imported and shared through the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.sql import Executable

from tests.conftest import World

PIPELINE_CSV = """record_id,given_name,family_name,father_name,name_native,dob,dob_calendar,sex,nationality,documents,group_id,relationship,province,district,phone,program,stage,letter_id,employer
R1,Mohammad Nabi,Ahmadzai,Abdul Ghafoor,محمد نبی,1984-03-12,gregorian,M,AFG,passport:P01234567;por:PK-0012-3456789,CASE-1,PA,Islamabad,Islamabad,+923001234501,SIV,interview,LTR-1,US Army contractor
R2,Freshta,Ahmadzai,Gul Mohammad,فرشته,1988,gregorian,F,AFG,passport:P01234568,CASE-1,SP,Islamabad,Islamabad,,SIV,interview,LTR-2,
R3,Abdul Rahman,Stanikzai,Noor Ullah,عبدالرحمن,1362,solar_hijri,M,AFG,unhcr:123-45-67890,CASE-2,PA,Khyber Pakhtunkhwa,Peshawar,+923001234504,P2,security checks,LTR-3,NGO staff
R4,Yousuf,Hotak,Sayed Ahmad,یوسف,1979-01-01,gregorian,M,AFG,acc:ACC-0099-1122,CASE-3,PA,Sindh,Karachi,,SIV,administrative processing,LTR-4,Interpreter
"""

UNHCR_FIELDS = ["given_name", "family_name", "father_name", "dob", "documents", "group_id"]
GOP_FIELDS = ["given_name", "father_name", "dob", "letter_id"]
RECORD_METADATA = {"record_id", "list_id", "version", "withdrawn"}


def agreement_body(
    list_id: str,
    recipient: str,
    fields: list[str],
    purposes: list[str],
    coarsen: dict[str, str] | None = None,
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "list_id": list_id,
        "recipient_agency_id": recipient,
        "fields": fields,
        "coarsen": coarsen or {},
        "purposes": purposes,
        "valid_from": (now - dt.timedelta(hours=1)).isoformat(),
        "valid_until": (now + dt.timedelta(days=30)).isoformat(),
    }


async def shared_pipeline(client: httpx.AsyncClient, world: World) -> str:
    """A US pipeline list of four people, shared with UNHCR and with Pakistan (dob year only)."""
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "pipeline", "kind": "pipeline"}, headers=us)
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    imported = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=PIPELINE_CSV.encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert imported.status_code == 201, imported.text
    for body in (
        agreement_body(
            list_id, world.unhcr, UNHCR_FIELDS, ["protection-verification", "reconciliation"]
        ),
        agreement_body(
            list_id, world.gop, GOP_FIELDS, ["protection-verification"], {"dob": "year_only"}
        ),
    ):
        response = await client.post("/v1/agreements", json=body, headers=us)
        assert response.status_code == 201, response.text
    return list_id


async def import_csv(client: httpx.AsyncClient, world: World, list_id: str, csv: str) -> None:
    """Import CSV rows into a list of the US mission's (201 or the test fails)."""
    us = await world.headers("us_mission")
    imported = await client.post(
        f"/v1/lists/{list_id}/imports",
        content=csv.encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert imported.status_code == 201, imported.text


async def add_namesakes(client: httpx.AsyncClient, world: World, list_id: str) -> None:
    """Two brothers (T1, T2) whom a claim of "Jawad s/o Qasim, 1991" fits equally."""
    twins = (
        "record_id,given_name,father_name,dob,letter_id\n"
        "T1,Jawad,Qasem,1991-05-04,LTR-T1\n"
        "T2,Jawad,Qasem,1991-05-04,LTR-T2\n"
    )
    await import_csv(client, world, list_id, twins)


def sqlite_plan(engine: Engine, query: Executable) -> list[str]:
    """SQLite's plan of a query, one step's text each. Skips the test on PostgreSQL, which plans
    on statistics of its own; SQLite keeps none, so its choice of index is what tests pin."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan without statistics; PostgreSQL plans on its own")
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        return [str(row[3]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
