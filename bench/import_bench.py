"""Import benchmark: generated 25,000- and 1,000,000-record pipeline lists imported through the
service layer (and the 25,000 also over HTTP to a uvicorn server) on SQLite and PostgreSQL.

Run from the repository root: `python -m bench.import_bench [--sizes 25000 1000000]
[--databases sqlite postgresql] [--hold]`. Prints records/s per run; the last line sums them
up. `--hold` also times what the incremental linker (reconcile.worker) does the first time a
changed record of another list must be compared with the imported list: read it whole, cut it
to a run's view and hold it prepared; and then a poll that finds nothing changed in it."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session

from audit.context import AuditContext
from auth.access import AccessContext
from auth.clients import create_agency, register_client
from auth.keys import ensure_signing_key
from auth.policy import OPERATIONS
from auth.principal import Principal
from bench.afghan_lists import write_pipeline_csv
from bench.servers import fresh_database, uvicorn_server
from database.engine import make_async_engine, make_sync_engine
from database.migrations import upgrade_to_head
from exchange import import_service, service
from reconcile.held_lists import HeldLists
from reconcile.run_records import RunRecords
from reconcile.table import LINK_FIELDS
from schemas.identity import ClientCreate
from schemas.lists import ExchangeListCreate
from schemas.reconciliation import Reconciliation
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind, ListKind, Purpose

AGENCY = "us-mission-bench"


@dataclass(frozen=True, slots=True)
class Result:
    backend: str
    path: str
    records: int
    seconds: float
    # 1-minute load average when the run ended: the machine is shared, figures need their load
    load: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def line(self) -> str:
        return (
            f"{self.backend:10} {self.path:7} {self.records:>9,} records "
            f"in {self.seconds:6.2f} s = {self.rate:>9,.0f} records/s (load {self.load:.2f})"
        )


def _access(operation: str) -> AccessContext:
    principal = Principal(
        client_id="bench",
        subject="bench",
        agency_id=AGENCY,
        agency_kind=AgencyKind.US_MISSION,
        scopes=frozenset({"lists:write", "records:write"}),
        token_jti=uuid.uuid4().hex,
        issuer="bench",
        expires_at=0,
    )
    return AccessContext(
        principal, operation, OPERATIONS[operation], Purpose.RESETTLEMENT_PROCESSING
    )


def _audit(route: str) -> AuditContext:
    return AuditContext(uuid.uuid4().hex, "POST", route, utcnow(), principal=None)


def _prepare(url: str) -> None:
    upgrade_to_head(url)
    engine = make_sync_engine(url)
    with Session(engine) as session:
        create_agency(session, AGENCY, "US mission (bench)", AgencyKind.US_MISSION)
        session.commit()
    engine.dispose()


async def _hold(sessions: async_sessionmaker[Any], list_id: str) -> str:
    """Seconds for the worker to hold the list prepared, then to find it unchanged, and the
    longest the event loop (the API's, in the service) was held up meanwhile."""
    run = Reconciliation(
        owner_agency_id=AGENCY,
        created_by_client_id="bench",
        list_ids=[list_id],
        views={list_id: {"fields": list(LINK_FIELDS)}},
    )
    held = HeldLists()
    seconds = []
    stalls: list[float] = []
    ticker = asyncio.ensure_future(_stalls(stalls))
    for _ in range(2):
        started = time.perf_counter()
        async with sessions() as session:
            prepared = await RunRecords(session, run, held).prepared(list_id)
        seconds.append(time.perf_counter() - started)
    ticker.cancel()
    assert len(prepared[1]) > 0
    return (
        f"held prepared for incremental linking in {seconds[0]:.1f} s "
        f"(read, cut to a view, prepared); found unchanged at the next poll in {seconds[1]:.3f} s"
        f"; the event loop was held up for at most {max(stalls, default=0) * 1000:.0f} ms"
    )


async def _stalls(out: list[float]) -> None:
    """How late each 10 ms sleep wakes up: what a request waiting on this loop would wait."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append(time.perf_counter() - started - 0.01)


async def import_via_service(
    url: str, body: bytes, records: int, backend: str, hold: bool = False
) -> Result:
    _prepare(url)
    engine = make_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        made = await service.create_list(
            session,
            _access("create_list"),
            _audit("/v1/lists"),
            ExchangeListCreate(name="bench", kind=ListKind.PIPELINE),
        )
    started = time.perf_counter()
    async with sessions() as session:
        report = await import_service.import_records(
            session,
            _access("import_records"),
            _audit("/v1/lists/{list_id}/imports"),
            made.id,
            body,
            "text/csv",
            uuid.uuid4().hex,
        )
    elapsed = time.perf_counter() - started
    if hold:
        print(f"{backend:10} {records:,} records {await _hold(sessions, made.id)}", flush=True)
    await engine.dispose()
    assert report.created == records, report
    return Result(backend, "service", records, elapsed, os.getloadavg()[0])


def _client_credentials(url: str) -> tuple[str, str]:
    _prepare(url)
    engine = make_sync_engine(url)
    with Session(engine) as session:
        ensure_signing_key(session)
        data = ClientCreate(name="bench", scopes=["lists:write", "records:write"])
        client, secret = register_client(session, AGENCY, data)
        session.commit()
        client_id = client.id
    engine.dispose()
    assert secret is not None
    return client_id, secret


def import_via_http(url: str, csv_path: Path, records: int, backend: str) -> Result:
    client_id, secret = _client_credentials(url)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    body = csv_path.read_bytes()
    with (
        uvicorn_server(
            "api.main:app", {"DATABASE_URL": url, "SANAD_LOG_LEVEL": "WARNING"}, "/healthz"
        ) as base,
        httpx.Client(base_url=base, timeout=600) as http,
    ):
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Purpose-Of-Use": "resettlement-processing"}
        made = http.post("/v1/lists", json={"name": "bench", "kind": "pipeline"}, headers=headers)
        list_id = made.json()["id"]
        started = time.perf_counter()
        response = http.post(
            f"/v1/lists/{list_id}/imports",
            content=body,
            headers={**headers, "Content-Type": "text/csv", "Idempotency-Key": uuid.uuid4().hex},
        )
        elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text[:500]
    return Result(backend, "http", records, elapsed, os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 1_000_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sanad-import-bench-") as tmp:
        for size in args.sizes:
            started = time.perf_counter()
            csv_path = write_pipeline_csv(Path(tmp) / f"pipeline-{size}.csv", size, args.seed)
            megabytes = csv_path.stat().st_size / 1e6
            print(f"generated {size:,} records ({megabytes:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
            for backend in args.databases:
                with fresh_database(backend) as url:
                    body = csv_path.read_bytes()
                    result = asyncio.run(import_via_service(url, body, size, backend, args.hold))
                results.append(result)
                print(result.line(), flush=True)
                if size <= 25_000:
                    with fresh_database(backend) as url:
                        result = import_via_http(url, csv_path, size, backend)
                    results.append(result)
                    print(result.line(), flush=True)
    summary = "; ".join(
        f"{r.backend}/{r.path} {r.records:,} {r.rate:,.0f} rec/s "
        f"({r.seconds:.1f} s, load {r.load:.1f})"
        for r in results
    )
    print(f"import bench: {summary}")


if __name__ == "__main__":
    main()
