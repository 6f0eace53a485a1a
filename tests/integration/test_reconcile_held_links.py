"""The incremental worker holds a run's standing links between polls (reconcile.standing): it
reads them once, keeps its copy in step with what it stores, and reads them again when a
person's decision changed them in between."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconcile import repository
from tests.conftest import World
from tests.integration.test_reconciliations import (
    _G2,
    GOP_HEADER,
    _by_records,
    _conflict_over_g7,
    _import,
    _links,
    _status_when,
    _three_lists_of_r2,
)

# read before any test counts the worker's reads
_stored_links = repository.standing_links


def _state(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        row["id"]: (
            row["left_record_id"],
            row["right_record_id"],
            row["decision"],
            bool(row["held_for_conflict"]),
            round(float(row["probability"]), 6),
        )
        for row in rows
    }


async def _held_matches_stored(app: FastAPI, run_id: str) -> bool:
    """Whether the worker's copy of the run's links is what the database holds (polled: the
    worker updates its copy just after it commits)."""
    linker = app.state.services.incremental_linker
    for _ in range(50):
        async with app.state.services.sessions() as session:
            stored = _state(await _stored_links(session, run_id))
        held = linker.held_links(run_id)
        if held is not None and _state(held) == stored:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_the_worker_reads_a_run_s_links_once_and_keeps_its_copy_in_step(
    client: httpx.AsyncClient, world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []

    async def counted(session: Any, run_id: str) -> list[dict[str, Any]]:
        reads.append(run_id)
        return await _stored_links(session, run_id)

    monkeypatch.setattr(repository, "standing_links", counted)
    # a late detention record G7 makes a conflict: links held for review, a link added
    run_id, headers, _registrations, detentions, _status = await _conflict_over_g7(client, world)
    assert await _held_matches_stored(app, run_id)
    # Pakistan withdraws G7: its link goes, the held links are released, R2-G2 implied again
    gop = await world.headers("gop", purpose="protection-verification")
    withdrawn = await client.post(
        f"/v1/lists/{detentions}/records/G7/withdrawal", json={"reason": "error"}, headers=gop
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await _status_when(client, headers, run_id, lambda s: not s["conflicts"])
    assert await _held_matches_stored(app, run_id)
    assert ("R2", "G2") in _by_records(await _links(client, headers, run_id))
    # read whole once, at the first change; after that each change reads what it touched
    assert [read for read in reads if read == run_id] == [run_id]


async def test_a_decision_made_between_two_changes_reaches_the_worker(
    client: httpx.AsyncClient, world: World, app: FastAPI
) -> None:
    run_id, headers, _registrations, detentions = await _three_lists_of_r2(client, world, False)
    linker = app.state.services.incremental_linker
    gop = await world.headers("gop", purpose="protection-verification")
    # a first change (a stranger's detention record): the worker now holds the run's links
    await _import(
        client, world, detentions, GOP_HEADER + "G8,Zarghona,Habib,1950,F,,detained\n", gop
    )
    for _ in range(150):
        if linker.held_links(run_id) is not None:
            break
        await asyncio.sleep(0.1)
    assert await _held_matches_stored(app, run_id)
    # a person rejects R2-U2, then G2 arrives with U2's card: with R2-U2 still held as
    # accepted, the worker would imply R2-G2 through U2
    r2_u2 = _by_records(await _links(client, headers, run_id))[("R2", "U2")]
    decided = await client.post(
        f"/v1/links/{r2_u2['link_id']}/decisions", json={"decision": "reject"}, headers=headers
    )
    assert decided.status_code == 200, decided.text
    await _import(client, world, detentions, _G2, gop)
    for _ in range(150):
        pairs = _by_records(await _links(client, headers, run_id))
        if ("U2", "G2") in pairs:
            break
        await asyncio.sleep(0.1)
    assert ("U2", "G2") in pairs
    assert ("R2", "G2") not in pairs
    assert await _held_matches_stored(app, run_id)
