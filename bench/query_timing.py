"""What the query benches share: a fresh database per backend built by the migrations, rows
written into it straight, PostgreSQL's statistics as autovacuum would leave them, and each
named query timed through a session of its own (median of `repeats`, in ms), printed."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.servers import fresh_database
from database.engine import make_async_engine
from database.migrations import upgrade_to_head

Query = Callable[[AsyncSession], Awaitable[object]]
# given a migrated database's URL, writes the bench's rows and names the queries to time
Prepare = Callable[[str], Mapping[str, Query]]


def analyse_if_postgresql(engine: Engine) -> None:
    """The statistics autovacuum would have gathered; SQLite is left as a deployment finds it,
    without any."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


async def median_ms(url: str, queries: Mapping[str, Query], repeats: int) -> dict[str, float]:
    engine = make_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    figures = {}
    for name, query in queries.items():
        times = []
        for _ in range(repeats):
            async with sessions() as session:
                started = time.perf_counter()
                await query(session)
                times.append((time.perf_counter() - started) * 1000)
        figures[name] = statistics.median(times)
    await engine.dispose()
    return figures


def time_on_each_backend(
    backends: list[str], prepare: Prepare, repeats: int
) -> dict[str, dict[str, float]]:
    """backend -> query name -> median ms, each backend in a fresh database, printed as it goes."""
    results = {}
    for backend in backends:
        with fresh_database(backend) as url:
            upgrade_to_head(url)
            started = time.perf_counter()
            queries = prepare(url)
            print(f"{backend}: loaded in {time.perf_counter() - started:.0f} s")
            figures = asyncio.run(median_ms(url, queries, repeats))
            width = max(map(len, figures), default=0)
            for name, ms in figures.items():
                print(f"  {name:<{width}} {ms:>10.1f} ms")
            results[backend] = figures
    return results
