"""Shared steps of the transparency-log tests: a separate database and app when a test must own
the whole log (tampering, a stalled sequencer), waiting for sequencing, re-deriving leaves."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from api.app_factory import create_app
from auth.keys import ensure_signing_key
from bench.servers import fresh_database as empty_database
from config.settings import Settings
from database.engine import make_sync_engine
from database.migrations import upgrade_to_head
from tests.conftest import TEST_ISSUER, World, build_world
from transparency.leaf import encode_leaf

POSTGRES = os.environ.get("SANAD_TEST_DATABASE", "sqlite") == "postgresql"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A database of its own, built by the migrations, for a test that owns the whole log."""
    with empty_database("postgresql" if POSTGRES else "sqlite") as url:
        upgrade_to_head(url)
        yield url


@dataclass
class OwnApp:
    app: FastAPI
    http: httpx.AsyncClient
    world: World
    engine: Engine


@asynccontextmanager
async def own_app(database_url: str, **settings: Any) -> AsyncIterator[OwnApp]:
    """The app over HTTP on its own database, with settings overridden."""
    engine = make_sync_engine(database_url)
    with Session(engine) as session:
        ensure_signing_key(session)
        session.commit()
    config = Settings(
        database_url=database_url, issuer=TEST_ISSUER, log_level="WARNING", **settings
    )
    app = create_app(config)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
                world = await asyncio.to_thread(build_world, lambda: Session(engine), http)
                yield OwnApp(app, http, world, engine)
    finally:
        engine.dispose()


async def events_of(http: httpx.AsyncClient, world: World, request_id: str) -> list[dict[str, Any]]:
    """The events of one request, as the joint-oversight auditor sees them."""
    auditor = await world.headers("oversight", purpose="audit")
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat()
    params = {"since": recent, "limit": "1000"}
    found: list[dict[str, Any]] = []
    while True:
        response = await http.get("/v1/audit/events", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [e for e in page["items"] if e["request_id"] == request_id]
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


async def sequenced_event(
    http: httpx.AsyncClient, world: World, request_id: str, within: float = 5.0
) -> dict[str, Any]:
    """The audit event of a request once the sequencer gave it a leaf index."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await events_of(http, world, request_id)
        if found and found[0]["leaf_index"] is not None:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"not sequenced: {found}"
        await asyncio.sleep(0.1)


def _parse_times(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "occurred_at": dt.datetime.fromisoformat(row["occurred_at"])}


def leaf_hash_of(event: dict[str, Any], disclosures: list[dict[str, Any]]) -> bytes:
    """What an auditor computes from the API's event and its disclosures (docs: leaf format)."""
    entry = encode_leaf(_parse_times(event), [_parse_times(d) for d in disclosures])
    return sha256(b"\x00" + entry).digest()


def decode_hash(text: str) -> bytes:
    return base64.b64decode(text)


async def latest_checkpoint(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await http.get("/v1/audit/checkpoints/latest", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_reader(world: World, kind: str = "oversight") -> dict[str, str]:
    # checkpoints and proofs carry no personal data: no purpose of use is needed
    return await world.headers(kind, purpose=None, scopes=["audit:read"])


async def checkpoint_covering(
    http: httpx.AsyncClient, headers: dict[str, str], leaf_index: int
) -> dict[str, Any]:
    """The latest checkpoint, once the log has grown past `leaf_index`."""
    for _ in range(50):
        latest = await latest_checkpoint(http, headers)
        if latest["size"] > leaf_index:
            return latest
        await asyncio.sleep(0.1)
    raise AssertionError("no checkpoint covers the leaf")


async def disclosures_of(
    http: httpx.AsyncClient, world: World, list_id: str, event: dict[str, Any]
) -> list[dict[str, Any]]:
    """An event's disclosure rows of one list, as the joint-oversight auditor reads them."""
    auditor = await world.headers("oversight", purpose="audit")
    shown = await http.get(
        "/v1/audit/disclosures", params={"list_id": list_id, "limit": 1000}, headers=auditor
    )
    return [d for d in shown.json()["items"] if d["event_id"] == event["id"]]


async def inclusion_proof(
    http: httpx.AsyncClient, headers: dict[str, str], leaf_index: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first checkpoint covering a leaf, and the leaf's inclusion proof in it (200)."""
    latest = await checkpoint_covering(http, headers, leaf_index)
    proof = await http.get(
        "/v1/audit/proofs/inclusion",
        params={"leaf_index": leaf_index, "tree_size": latest["size"]},
        headers=headers,
    )
    assert proof.status_code == 200, proof.text
    body: dict[str, Any] = proof.json()
    return latest, body
