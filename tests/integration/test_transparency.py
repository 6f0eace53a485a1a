"""The audit transparency log over HTTP: signed checkpoints, proofs that verify with tlog against
them, leaf indexes on audit events, the witness cosignature flow, and failing closed when the
sequencer falls behind."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from config.settings import Settings
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.transparency_helpers import (
    audit_reader,
    decode_hash,
    disclosures_of,
    events_of,
    fresh_database,
    inclusion_proof,
    latest_checkpoint,
    leaf_hash_of,
    own_app,
    sequenced_event,
)
from tlog.checkpoint import (
    NoteSigner,
    NoteVerifier,
    SignatureType,
    cosign_checkpoint,
    open_checkpoint,
)
from tlog.merkle import verify_consistency, verify_inclusion
from transparency.export import export_log
from transparency.keys import LogKeyPlace, existing_log_signer
from transparency.witness import (
    WitnessConfig,
    register_witness_key,
    revoke_witness_key,
    witness_once,
)
from transparency.witness_key import new_witness_key


async def test_latest_checkpoint_is_a_signed_c2sp_note(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await audit_reader(world)
    latest = await latest_checkpoint(client, headers)
    log_key = NoteVerifier.from_verifier_key(latest["log_key"])
    verified = open_checkpoint(latest["note"].encode(), log_key)
    assert verified.checkpoint.size == latest["size"]
    assert verified.checkpoint.origin == latest["origin"] == log_key.name
    assert base64.b64encode(verified.checkpoint.root_hash).decode() == latest["root_hash"]
    plain = await client.get(
        "/v1/audit/checkpoints/latest", headers={**headers, "Accept": "text/plain"}
    )
    assert plain.headers["content-type"].startswith("text/plain")
    assert open_checkpoint(plain.content, log_key).checkpoint.size >= latest["size"]


async def test_an_audit_event_carries_its_leaf_index_and_its_inclusion_verifies(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    request_id = uuid.uuid4().hex
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    response = await client.get(
        f"/v1/lists/{list_id}/records", headers={**unhcr, "X-Request-Id": request_id}
    )
    assert response.status_code == 200
    event = await sequenced_event(client, world, request_id)
    disclosures = await disclosures_of(client, world, list_id, event)
    assert len(disclosures) == event["disclosure_count"] == 4
    expected_leaf = leaf_hash_of(event, disclosures)

    headers = await audit_reader(world, "unhcr")
    latest, body = await inclusion_proof(client, headers, event["leaf_index"])
    assert decode_hash(body["leaf_hash"]) == expected_leaf
    hashes = [decode_hash(h) for h in body["proof"]]
    assert len(hashes) <= latest["size"].bit_length()
    verify_inclusion(
        event["leaf_index"], latest["size"], expected_leaf, hashes, decode_hash(latest["root_hash"])
    )


async def test_consistency_proofs_link_checkpoints(client: httpx.AsyncClient, world: World) -> None:
    headers = await audit_reader(world)
    first = await latest_checkpoint(client, headers)
    request_id = uuid.uuid4().hex
    await client.get("/v1/lists", headers={**headers, "X-Request-Id": request_id})
    await sequenced_event(client, world, request_id)
    second = await latest_checkpoint(client, headers)
    assert second["size"] > first["size"]
    proof = await client.get(
        "/v1/audit/proofs/consistency",
        params={"first": first["size"], "second": second["size"]},
        headers=headers,
    )
    assert proof.status_code == 200, proof.text
    verify_consistency(
        first["size"],
        second["size"],
        [decode_hash(h) for h in proof.json()["proof"]],
        decode_hash(first["root_hash"]),
        decode_hash(second["root_hash"]),
    )
    by_size = await client.get(f"/v1/audit/checkpoints/{first['size']}", headers=headers)
    assert by_size.json()["root_hash"] == first["root_hash"]


async def test_proof_requests_outside_the_log_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await audit_reader(world)
    size = (await latest_checkpoint(client, headers))["size"]
    cases = [
        ("/v1/audit/proofs/inclusion", {"leaf_index": 5, "tree_size": 5}, 422),
        ("/v1/audit/proofs/inclusion", {"leaf_index": 0, "tree_size": size + 10**6}, 404),
        ("/v1/audit/proofs/consistency", {"first": 3, "second": 2}, 422),
        ("/v1/audit/proofs/consistency", {"first": 1, "second": size + 10**6}, 404),
        ("/v1/audit/checkpoints/123456789", {}, 404),
    ]
    for path, params, status in cases:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    no_token = await client.get("/v1/audit/checkpoints/latest")
    assert no_token.status_code == 401


async def _witness(
    client: httpx.AsyncClient, world: World, kind: str, tmp_path: Path, log_key: str
) -> WitnessConfig:
    """A witness of an agency: key generated and registered by the agency's admin client."""
    client_id, secret = world.client_for(kind)
    signer = new_witness_key(f"{world.agencies[kind]}.example/witness", tmp_path / f"{kind}.key")
    registered = await register_witness_key(client, client_id, secret, signer)
    assert registered["agency_id"] == world.agencies[kind]
    return WitnessConfig(client_id, secret, signer, tmp_path / f"{kind}.state.json", log_key)


async def test_each_agency_witnesses_and_the_checkpoint_carries_all_three_cosignatures(
    client: httpx.AsyncClient, world: World, tmp_path: Path
) -> None:
    headers = await audit_reader(world)
    log_key = (await latest_checkpoint(client, headers))["log_key"]
    witnesses = [
        await _witness(client, world, kind, tmp_path, log_key)
        for kind in ("us_mission", "unhcr", "gop")
    ]
    for config in witnesses:
        outcome = await witness_once(client, config)
        assert outcome.size > 0
    # later rounds check consistency from what each one cosigned before
    request_id = uuid.uuid4().hex
    await client.get("/v1/lists", headers={**headers, "X-Request-Id": request_id})
    await sequenced_event(client, world, request_id)
    sizes = {(await witness_once(client, config)).size for config in witnesses}
    if len(sizes) > 1:  # the log grew between rounds: bring everyone to the same checkpoint
        sizes = {(await witness_once(client, config)).size for config in witnesses}
    size = max(sizes)
    checkpoint = (await client.get(f"/v1/audit/checkpoints/{size}", headers=headers)).json()
    agencies = {c["agency_id"] for c in checkpoint["cosignatures"]}
    mine = {world.us, world.unhcr, world.gop}
    if agencies >= mine:
        witness_keys = [config.signer.verifier() for config in witnesses]
        verified = open_checkpoint(
            checkpoint["note"].encode(), NoteVerifier.from_verifier_key(log_key), witness_keys
        )
        assert len(verified.cosignatures) == 3
    registered = await client.get("/v1/audit/witnesses", headers=headers)
    names = {w["name"] for w in registered.json()["items"]}
    assert {config.signer.name for config in witnesses} <= names


async def test_cosignatures_that_are_not_ours_are_refused(
    client: httpx.AsyncClient, world: World, tmp_path: Path
) -> None:
    headers = await audit_reader(world)
    latest = await latest_checkpoint(client, headers)
    unhcr = await _witness(client, world, "unhcr", tmp_path, latest["log_key"])
    gop_headers = await audit_reader(world, "gop")
    path = f"/v1/audit/checkpoints/{latest['size']}/cosignatures"
    # a witness of UNHCR cannot cosign on Pakistan's behalf
    note = cosign_checkpoint(latest["note"].encode(), unhcr.signer, 1_800_000_000).decode()
    refused = await client.post(path, json={"note": note}, headers=gop_headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/cosignature-refused")
    # a checkpoint that is not this log's (another root) is refused
    origin, size, _ = latest["note"].split("\n")[:3]
    forged_text = f"{origin}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"
    forged = cosign_checkpoint(
        (forged_text + "\n" + latest["note"].split("\n\n", 1)[1]).encode(),
        unhcr.signer,
        1_800_000_000,
    ).decode()
    unhcr_headers = await audit_reader(world, "unhcr")
    refused = await client.post(path, json={"note": forged}, headers=unhcr_headers)
    assert refused.status_code == 422, refused.text
    accepted = await client.post(path, json={"note": note}, headers=unhcr_headers)
    assert accepted.status_code == 201, accepted.text
    assert world.unhcr in {c["agency_id"] for c in accepted.json()["cosignatures"]}


async def test_witness_registration_rules(client: httpx.AsyncClient, world: World) -> None:
    admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
    plain_key = NoteSigner.generate("unhcr.example/not-a-cosigner").verifier().verifier_key()
    response = await client.post(
        "/v1/audit/witnesses", json={"verifier_key": plain_key}, headers=admin
    )
    assert response.status_code == 422
    cosigner = NoteSigner.generate("unhcr.example/w", SignatureType.COSIGNATURE_V1)
    body = {"verifier_key": cosigner.verifier().verifier_key()}
    assert (await client.post("/v1/audit/witnesses", json=body, headers=admin)).status_code == 201
    again = await client.post("/v1/audit/witnesses", json=body, headers=admin)
    assert again.status_code == 409
    reader = await audit_reader(world, "unhcr")
    assert (await client.post("/v1/audit/witnesses", json=body, headers=reader)).status_code == 403


async def test_personal_data_stops_and_readyz_says_why_when_the_log_falls_behind() -> None:
    """A deployment whose sequencer has stopped (here: disabled) must stop serving personal
    data once the backlog is older than the bound, and resume once the log catches up."""
    with fresh_database() as url:
        async with own_app(
            url,
            transparency_sequencer_enabled=False,
            transparency_max_backlog_seconds=0.5,
            transparency_poll_interval_seconds=0.05,
        ) as own:
            http, world = own.http, own.world
            log = own.app.state.services.transparency
            await asyncio.to_thread(log.sequencer.ensure_log)
            list_id = await shared_pipeline(http, world)  # these requests are queued, unlogged
            await asyncio.sleep(0.8)
            unhcr = await world.headers("unhcr", purpose="reconciliation")
            refused = await http.get(f"/v1/lists/{list_id}/records", headers=unhcr)
            assert refused.status_code == 503
            assert refused.json()["type"].endswith("/audit-log-behind")
            assert "Mohammad" not in refused.text
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert "audit-log-behind" in ready.json()["reasons"]
            assert "unsequenced" in ready.json()["detail"]
            # metadata and the log's own proofs are not personal data: still served
            assert (await http.get("/v1/lists", headers=unhcr)).status_code == 200
            assert (await http.get("/healthz")).status_code == 200
            while (await asyncio.to_thread(log.sequencer.sequence_batch)).integrated:
                pass
            await log.check()
            assert (await http.get("/readyz")).status_code == 200
            again = await http.get(f"/v1/lists/{list_id}/records", headers=unhcr)
            assert again.status_code == 200


async def test_bulk_reads_raise_an_alert_event_and_may_block(settings: Settings) -> None:
    """The insider-export scenario with tiny limits: crossing writes an alert audit event;
    with blocking on, the crossing request gets a 429 problem and no data."""
    for block in (False, True):
        async with own_app(
            settings.database_url, bulk_read_client_daily_limit=3, bulk_read_block=block
        ) as own:
            http, world = own.http, own.world
            list_id = await shared_pipeline(http, world)  # four records
            unhcr = await world.headers("unhcr", purpose="reconciliation")
            request_id = uuid.uuid4().hex
            response = await http.get(
                f"/v1/lists/{list_id}/records", headers={**unhcr, "X-Request-Id": request_id}
            )
            if block:
                assert response.status_code == 429, response.text
                assert response.json()["type"].endswith("/bulk-read-limit")
                assert "Mohammad" not in response.text
            else:
                assert response.status_code == 200
            events = await events_of(http, world, request_id)
            alert = next(e for e in events if e["route"] == "(bulk-read-alert)")
            assert alert["reason"] == "bulk-read-limit-client"
            assert alert["client_id"] == world.client_for("unhcr")[0]
            served = next(e for e in events if e["route"] != "(bulk-read-alert)")
            assert served["status"] == (429 if block else 200)
            assert served["disclosure_count"] == (0 if block else 4)


async def test_a_sequencer_child_that_dies_fails_closed_and_is_replaced() -> None:
    """The sequencer hashes in a child process; killed, the API stops serving personal data
    (the log is not checked), and the next round starts a new child that catches up."""
    with fresh_database() as url:
        async with own_app(
            url, transparency_max_backlog_seconds=0.5, transparency_poll_interval_seconds=0.05
        ) as own:
            http, world = own.http, own.world
            log = own.app.state.services.transparency
            assert log.child is not None, "the sequencer runs in a child process by default"
            list_id = await shared_pipeline(http, world)
            await log.stop()  # no background rounds from here: each round is this test's
            unhcr = await world.headers("unhcr", purpose="reconciliation")
            listed = await http.get("/v1/lists", headers=unhcr)  # queues audit events
            assert listed.status_code == 200
            first = await asyncio.to_thread(log.child.pid)
            os.kill(first, signal.SIGKILL)
            status = await log.check()
            assert status.error == "BrokenProcessPool", status
            await asyncio.sleep(0.8)  # unchecked for longer than the bound
            refused = await http.get(f"/v1/lists/{list_id}/records", headers=unhcr)
            assert refused.status_code == 503, refused.text
            status = await log.check()
            assert status.error is None and status.backlog_events == 0, status
            assert await asyncio.to_thread(log.child.pid) != first
            again = await http.get(f"/v1/lists/{list_id}/records", headers=unhcr)
            assert again.status_code == 200, again.text


async def test_a_revoked_witness_key_counts_nowhere(
    client: httpx.AsyncClient, world: World, tmp_path: Path, sync_engine: Engine
) -> None:
    """UNHCR's witness key leaks: UNHCR revokes it. Its cosignature already on a checkpoint
    leaves the note and the list, a new one is refused, the key cannot come back, and only
    UNHCR's own admin can revoke it (Pakistan's gets 404, a reader 403)."""
    headers = await audit_reader(world)
    latest = await latest_checkpoint(client, headers)
    unhcr = await _witness(client, world, "unhcr", tmp_path, latest["log_key"])
    size = (await witness_once(client, unhcr)).size
    path = f"/v1/audit/checkpoints/{size}"

    def by_unhcr(checkpoint: dict[str, Any]) -> bool:
        return unhcr.signer.name in {c["witness_name"] for c in checkpoint["cosignatures"]}

    assert by_unhcr((await client.get(path, headers=headers)).json())
    listed = (await client.get("/v1/audit/witnesses", headers=headers)).json()["items"]
    [witness] = [w for w in listed if w["name"] == unhcr.signer.name]
    assert witness["revoked_at"] is None
    revocation = f"/v1/audit/witnesses/{witness['id']}/revocation"
    body = {"reason": "the key file was on a stolen laptop"}
    gop_admin = await world.headers("gop", purpose=None, scopes=["admin"])
    assert (await client.post(revocation, json=body, headers=gop_admin)).status_code == 404
    reader = await audit_reader(world, "unhcr")
    assert (await client.post(revocation, json=body, headers=reader)).status_code == 403
    admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
    # as `sanad witness revoke` does it
    revoked = await revoke_witness_key(
        client, *world.client_for("unhcr"), witness["id"], body["reason"]
    )
    assert revoked["revoked_at"] is not None and revoked["revocation_reason"] == body["reason"]
    assert (await client.post(revocation, json=body, headers=admin)).status_code == 409

    checkpoint = (await client.get(path, headers=headers)).json()
    assert not by_unhcr(checkpoint)
    assert f"— {unhcr.signer.name} " not in checkpoint["note"]
    note = cosign_checkpoint(checkpoint["note"].encode(), unhcr.signer, 1_800_000_000).decode()
    refused = await client.post(f"{path}/cosignatures", json={"note": note}, headers=reader)
    assert refused.status_code == 422, refused.text
    again = {"verifier_key": unhcr.signer.verifier().verifier_key()}
    assert (await client.post("/v1/audit/witnesses", json=again, headers=admin)).status_code == 409
    listed = (await client.get("/v1/audit/witnesses", headers=headers)).json()["items"]
    assert [w["revoked_at"] for w in listed if w["id"] == witness["id"]] == [revoked["revoked_at"]]

    # nor in an export, whose header names the keys a verifier trusts unless told otherwise
    with sync_engine.connect() as conn, (tmp_path / "export.ndjson").open("wb") as out:
        export_log(conn, out, existing_log_signer(conn, LogKeyPlace()))
    lines = [json.loads(line) for line in (tmp_path / "export.ndjson").read_text().splitlines()]
    assert unhcr.signer.name not in {w["name"] for w in lines[0]["witnesses"]}
    notes = [line["note"] for line in lines if line["type"] == "checkpoint"]
    assert notes and not any(f"— {unhcr.signer.name} " in note for note in notes)
