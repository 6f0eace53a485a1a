"""Demo world: the three agencies and joint oversight, their clients, a small pipeline list shared
with UNHCR and Pakistan. Lists and agreements are made through the real HTTP API in-process,
so the demo is audited like any partner's work."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from importlib import resources
from typing import Any

import httpx
from sqlmodel import Session

from api.app_factory import create_app
from auth import clients as client_registry
from auth import operator
from auth.keys import ensure_signing_key
from config.settings import Settings
from database.engine import make_sync_engine
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind, ClientKind

DEMO_AGENCIES = (
    ("us-mission", "US Mission Pakistan (Embassy Islamabad)", AgencyKind.US_MISSION),
    ("unhcr", "UNHCR Pakistan", AgencyKind.UNHCR),
    ("gop", "Government of Pakistan, Ministry of Interior", AgencyKind.GOP),
    ("joint-oversight", "Joint oversight board", AgencyKind.OVERSIGHT),
)

# (agency, name, role, scopes, liaison person)
DEMO_CLIENTS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("us-mission", "pipeline-system", "US mission partner system",
     "lists:read lists:write records:read records:write agreements:write verify admin "
     "letters:read letters:write changes:read subscriptions:write", None),
    ("us-mission", "auditor", "US mission auditor", "audit:read", None),
    ("unhcr", "registration-system", "UNHCR partner system",
     "lists:read lists:write records:read records:write agreements:write verify admin "
     "status:write", None),
    ("unhcr", "liaison", "UNHCR liaison (named person)", "lists:read records:read", "Amina Rahimi"),
    ("gop", "checkpoint", "Pakistani checkpoint officers' system",
     "verify encounters:write status:write changes:read", None),
    ("gop", "auditor", "Government of Pakistan auditor", "audit:read", None),
    ("joint-oversight", "auditor", "Joint-oversight auditor (sees all)", "audit:read", None),
)  # fmt: skip

DEMO_LIST_NAME = "US pipeline members in Pakistan (demo)"


class DemoAlreadySeededError(Exception):
    pass


def _create_identities(settings: Settings) -> list[dict[str, Any]]:
    engine = make_sync_engine(settings.database_url)
    created: list[dict[str, Any]] = []
    with Session(engine) as session:
        if operator.agency_exists(session, "us-mission"):
            raise DemoAlreadySeededError("demo data already exists in this database")
        ensure_signing_key(session)
        for agency_id, name, kind in DEMO_AGENCIES:
            client_registry.create_agency(session, agency_id, name, kind)
        session.flush()
        for agency_id, name, role, scopes, person in DEMO_CLIENTS:
            data = ClientCreate(
                name=name,
                kind=ClientKind.LIAISON if person else ClientKind.SYSTEM,
                person_name=person,
                scopes=scopes.split(),
            )
            client, secret = client_registry.register_client(session, agency_id, data)
            created.append({"client_id": client.id, "client_secret": secret, "role": role,
                            "agency": agency_id, "scopes": scopes})  # fmt: skip
        session.commit()
    engine.dispose()
    return created


def _basic(client: dict[str, Any]) -> str:
    pair = f"{client['client_id']}:{client['client_secret']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


async def _share_demo_list(settings: Settings, mission: dict[str, Any]) -> str:
    app = create_app(settings.model_copy(update={"log_level": "WARNING"}))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.issuer) as http,
    ):
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic(mission)},
        )
        token.raise_for_status()
        auth = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Purpose-Of-Use": "resettlement-processing",
        }
        made = await http.post("/v1/lists", json={"name": DEMO_LIST_NAME, "kind": "pipeline"},
                               headers=auth)  # fmt: skip
        made.raise_for_status()
        list_id: str = made.json()["id"]
        csv_text = resources.files("cli.demo_data").joinpath("pipeline.csv").read_text("utf-8")
        imported = await http.post(
            f"/v1/lists/{list_id}/imports",
            content=csv_text.encode(),
            headers={**auth, "Content-Type": "text/csv", "Idempotency-Key": "demo-seed-1"},
        )
        imported.raise_for_status()
        for agreement in _demo_agreements(list_id):
            response = await http.post("/v1/agreements", json=agreement, headers=auth)
            response.raise_for_status()
    return list_id


def _demo_agreements(list_id: str) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    period = {
        "valid_from": (now - dt.timedelta(days=1)).isoformat(),
        "valid_until": (now + dt.timedelta(days=365)).isoformat(),
    }
    return [
        {
            "list_id": list_id,
            "recipient_agency_id": "unhcr",
            "fields": [
                "given_name",
                "family_name",
                "father_name",
                "name_native",
                "dob",
                "dob_calendar",
                "sex",
                "documents",
                "group_id",
                "relationship",
                "province",
                "district",
                "letter_id",
            ],
            "coarsen": {},
            "purposes": ["protection-verification", "reconciliation", "hotline-assistance"],
            **period,
        },
        {
            "list_id": list_id,
            "recipient_agency_id": "gop",
            "fields": ["given_name", "father_name", "dob", "letter_id"],
            "coarsen": {"dob": "year_only"},
            "purposes": ["protection-verification"],
            **period,
        },
    ]


def seed_demo(settings: Settings) -> dict[str, Any]:
    clients = _create_identities(settings)
    mission = next(c for c in clients if c["agency"] == "us-mission" and "admin" in c["scopes"])
    list_id = asyncio.run(_share_demo_list(settings, mission))
    return {"base_url": settings.issuer, "list_id": list_id, "clients": clients}
