"""Two requests at once: where only one may succeed, one does, and the object, its answer and
its change-feed events agree. Races are real on PostgreSQL (SANAD_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import httpx
import pytest

from changes.dispatcher import WebhookDispatcher
from tests.conftest import World
from tests.helpers import PIPELINE_CSV, shared_pipeline
from tests.integration.test_changes_feed import read_all, withdrawn_r4
from tests.letter_helpers import issue_letter
from tests.transparency_helpers import fresh_database, own_app
from tlog.checkpoint import NoteSigner, SignatureType, cosign_checkpoint
from transparency import repository as transparency_repository

ATTEMPTS = 4


def _read_together(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, parties: int
) -> None:
    """Make `parties` requests each read with `module.name` before any goes on: the
    interleaving a race needs, every time rather than now and then."""
    read = getattr(module, name)
    barrier = asyncio.Barrier(parties)

    async def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = await read(*args, **kwargs)
        await asyncio.wait_for(barrier.wait(), 10)
        return found

    monkeypatch.setattr(module, name, read_then_wait)


def _letter_events(items: list[dict[str, Any]], kind: str, letter_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i["type"] == kind and i["data"]["letter_id"] == letter_id]


async def test_two_revocations_of_one_letter_at_once_revoke_it_once(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    us = await world.headers("us_mission")
    path = f"/v1/letters/{letter['letter_id']}/revocation"
    answers = await asyncio.gather(
        *(client.post(path, json={"reason": f"reason {n}"}, headers=us) for n in range(ATTEMPTS))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * (ATTEMPTS - 1), [
        a.text for a in answers
    ]
    won = next(a.json() for a in answers if a.status_code == 200)
    stored = (await client.get(f"/v1/letters/{letter['letter_id']}", headers=us)).json()
    assert (stored["revoked_at"], stored["revocation_reason"]) == (
        won["revoked_at"],
        won["revocation_reason"],
    )
    items, _ = await read_all(client, us)
    assert len(_letter_events(items, "letter.revoked", letter["letter_id"])) == 1


async def test_two_reissues_of_one_letter_at_once_supersede_it_once(
    client: httpx.AsyncClient, world: World
) -> None:
    """As one after the other: the first supersedes the old letter, the second replaces a
    letter revoked already (both 201), and the old letter is revoked once, by the first."""
    list_id = await shared_pipeline(client, world)
    old = await issue_letter(client, world, list_id)
    us = await world.headers("us_mission")
    body = {"list_id": list_id, "record_id": "R1", "replaces": old["letter_id"]}
    answers = await asyncio.gather(
        *(client.post("/v1/letters", json=body, headers=us) for _ in range(ATTEMPTS))
    )
    assert [a.status_code for a in answers] == [201] * ATTEMPTS, [a.text for a in answers]
    items, _ = await read_all(client, us)
    revoked = _letter_events(items, "letter.revoked", old["letter_id"])
    assert len(revoked) == 1, revoked
    stored = (await client.get(f"/v1/letters/{old['letter_id']}", headers=us)).json()
    assert revoked[0]["data"]["revoked_at"] == stored["revoked_at"].replace("Z", "+00:00")
    successors = {a.json()["letter_id"] for a in answers}
    assert stored["revocation_reason"].removeprefix("superseded by ") in successors


async def test_a_letter_issued_while_its_holder_is_withdrawn_is_not_left_valid(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    withdraw = client.post(
        f"/v1/lists/{list_id}/records/R1/withdrawal", json={"reason": "left"}, headers=us
    )
    issue = client.post("/v1/letters", json={"list_id": list_id, "record_id": "R1"}, headers=us)
    issued, withdrawn = await asyncio.gather(issue, withdraw)
    assert withdrawn.status_code == 200, withdrawn.text
    assert issued.status_code in (201, 409), issued.text
    if issued.status_code == 201:
        letter_id = issued.json()["letter_id"]
        stored = (await client.get(f"/v1/letters/{letter_id}", headers=us)).json()
        assert stored["status"] == "revoked", stored


async def test_two_acknowledgements_at_once_keep_the_first(
    client: httpx.AsyncClient, world: World
) -> None:
    _, withdrawal = await withdrawn_r4(client, world)
    gop = await world.headers("gop", purpose="protection-verification")
    change_id = withdrawal["id"]
    path = f"/v1/changes/{change_id}/acknowledgements"
    answers = await asyncio.gather(*(client.post(path, headers=gop) for _ in range(ATTEMPTS)))
    assert [a.status_code for a in answers] == [200] * ATTEMPTS, [a.text for a in answers]
    assert len({a.json()["acknowledged_at"] for a in answers}) == 1


async def test_two_imports_with_one_idempotency_key_at_once_import_once(
    client: httpx.AsyncClient, world: World
) -> None:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "pipeline", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    headers = {**us, "Content-Type": "text/csv", "Idempotency-Key": "same-key"}
    path = f"/v1/lists/{list_id}/imports"
    answers = await asyncio.gather(
        *(client.post(path, content=PIPELINE_CSV.encode(), headers=headers) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201] * 3, [a.text for a in answers]
    assert sorted(a.json()["replayed"] for a in answers) == [False, True, True]
    assert {a.json()["import_id"] for a in answers} == {answers[0].json()["import_id"]}
    items, _ = await read_all(client, us)
    created = [i for i in items if i["type"] == "record.created" and i["list_id"] == list_id]
    assert len(created) == 4, created


async def test_two_disables_of_one_subscription_at_once_keep_the_first(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    us = await world.headers("us_mission")
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["record.created"]}
    made = await client.post("/v1/subscriptions", json=body, headers=us)
    assert made.status_code == 201, made.text
    path = f"/v1/subscriptions/{made.json()['id']}"
    answers = await asyncio.gather(*(client.delete(path, headers=us) for _ in range(ATTEMPTS)))
    assert [a.status_code for a in answers] == [200] * ATTEMPTS, [a.text for a in answers]
    listed = (await client.get("/v1/subscriptions", headers=us)).json()
    listed = listed["items"] if isinstance(listed, dict) else listed
    stored = next(s for s in listed if s["id"] == made.json()["id"])
    assert {a.json()["disabled_at"] for a in answers} == {stored["disabled_at"]}


async def test_two_revocations_of_one_witness_key_at_once_revoke_it_once(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"unhcr.example/witness-{world.unhcr}"
    signer = NoteSigner.generate(name, SignatureType.COSIGNATURE_V1)
    admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
    body = {"verifier_key": signer.verifier().verifier_key()}
    made = await client.post("/v1/audit/witnesses", json=body, headers=admin)
    assert made.status_code == 201, made.text
    path = f"/v1/audit/witnesses/{made.json()['id']}/revocation"
    _read_together(monkeypatch, transparency_repository, "witness", 2)
    answers = await asyncio.gather(
        *(client.post(path, json={"reason": f"lost {n}"}, headers=admin) for n in range(2))
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]


async def test_one_cosignature_posted_twice_at_once_is_stored_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A witness retrying its post while the first is under way: both are answered as a
    re-post is (201), not with an error from the second insert."""
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            http, world = own.http, own.world
            log = own.app.state.services.transparency
            await asyncio.to_thread(log.sequencer.ensure_log)
            for _ in range(3):
                await http.get("/v1/lists")
            signer = NoteSigner.generate("unhcr.example/witness", SignatureType.COSIGNATURE_V1)
            admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
            body = {"verifier_key": signer.verifier().verifier_key()}
            made = await http.post("/v1/audit/witnesses", json=body, headers=admin)
            assert made.status_code == 201, made.text
            while (await asyncio.to_thread(log.sequencer.sequence_batch)).integrated:
                pass
            reader = await world.headers("unhcr", purpose=None, scopes=["audit:read"])
            latest = (await http.get("/v1/audit/checkpoints/latest", headers=reader)).json()
            path = f"/v1/audit/checkpoints/{latest['size']}/cosignatures"
            note = cosign_checkpoint(latest["note"].encode(), signer, 1_800_000_000).decode()
            _read_together(monkeypatch, transparency_repository, "has_cosignature", 2)
            answers = await asyncio.gather(
                *(http.post(path, json={"note": note}, headers=reader) for _ in range(2))
            )
            assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
