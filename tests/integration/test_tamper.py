"""Tampering below the application, as a database superuser with the append-only triggers
switched off (PostgreSQL: session_replication_role = replica; SQLite: triggers dropped and
restored): UPDATE one event, DELETE one, swap two, truncate the tail. Each is caught by
`sanad audit verify` (from the database and from an export), naming the first bad leaf; and when
the insider also rebuilds and re-signs the tree to hide it, by a witness and by verification
against the checkpoint that witness cosigned."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from schemas.types import utcnow
from tests.helpers import shared_pipeline
from tests.transparency_helpers import OwnApp, fresh_database, own_app
from tlog.checkpoint import Checkpoint, sign_checkpoint
from tlog.merkle import CompactRange
from transparency import repository
from transparency.export import export_log, verify_database, verify_export
from transparency.keys import LogKeyPlace, existing_log_signer
from transparency.leaf import encode_leaf
from transparency.witness import (
    WitnessAlarm,
    WitnessConfig,
    WitnessState,
    register_witness_key,
    witness_once,
)
from transparency.witness_key import new_witness_key

TAIL = 3


@contextmanager
def triggers_off(engine: Engine) -> Iterator[Connection]:
    """A superuser's transaction in which the append-only triggers do not fire."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            # and hold the sequencer lock, as an insider racing the sequencer would
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": repository.SEQUENCER_LOCK_KEY}
            )
            yield conn
            return
        triggers = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        for _, sql in triggers:
            conn.execute(text(sql))


def _leaves(conn: Connection) -> list[tuple[int, str]]:
    return [
        (int(i), str(e))
        for i, e in conn.execute(
            text("SELECT leaf_index, event_id FROM tlog_leaf ORDER BY leaf_index")
        )
    ]


def update_one(conn: Connection, leaves: list[tuple[int, str]]) -> int:
    index, event_id = leaves[5]
    conn.execute(
        text(
            "UPDATE audit_event SET status = 200, outcome = 'allowed', reason = 'ok' WHERE id = :id"
        ),
        {"id": event_id},
    )
    conn.execute(
        text("UPDATE audit_event SET client_id = 'someone-else' WHERE id = :id"), {"id": event_id}
    )
    return index


def delete_one(conn: Connection, leaves: list[tuple[int, str]]) -> int:
    index, event_id = leaves[7]
    conn.execute(text("DELETE FROM audit_disclosure WHERE event_id = :id"), {"id": event_id})
    conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id})
    return index


def swap_two(conn: Connection, leaves: list[tuple[int, str]]) -> int:
    (first, a), (second, b) = leaves[4], leaves[9]
    conn.execute(
        text("UPDATE tlog_leaf SET event_id = :tmp WHERE leaf_index = :i"),
        {"tmp": "swap", "i": first},
    )
    conn.execute(
        text("UPDATE tlog_leaf SET event_id = :e WHERE leaf_index = :i"), {"e": a, "i": second}
    )
    conn.execute(
        text("UPDATE tlog_leaf SET event_id = :e WHERE leaf_index = :i"), {"e": b, "i": first}
    )
    return first


def truncate_tail(conn: Connection, leaves: list[tuple[int, str]]) -> int:
    tail = leaves[-TAIL:]
    for index, event_id in tail:
        conn.execute(text("DELETE FROM audit_disclosure WHERE event_id = :id"), {"id": event_id})
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id})
        conn.execute(text("DELETE FROM tlog_leaf WHERE leaf_index = :i"), {"i": index})
    return tail[0][0]


SCENARIOS: dict[str, Callable[[Connection, list[tuple[int, str]]], int]] = {
    "update-one": update_one,
    "delete-one": delete_one,
    "swap-two": swap_two,
    "truncate-tail": truncate_tail,
}


def rebuild_tree(conn: Connection, origin_key: object = None) -> int:
    """The cover-up: re-derive the tree from the events as they now stand (in the current leaf
    order, dropping leaves whose event is gone), replace every stored leaf, node, checkpoint and
    cosignature, and sign a fresh checkpoint with the log's own key (worst case: the key was in
    the database the insider controls)."""
    signer = existing_log_signer(conn, LogKeyPlace())
    kept = [logged for logged in repository.logged_events(conn) if logged.event is not None]
    for table in ("tlog_cosignature", "tlog_checkpoint", "tlog_node", "tlog_leaf"):
        conn.execute(text(f"DELETE FROM {table}"))
    tree = CompactRange()
    leaves, nodes = [], []
    for logged in kept:
        assert logged.event is not None
        digest = sha256(b"\x00" + encode_leaf(logged.event, logged.disclosures)).digest()
        leaves.append((tree.size, str(logged.event["id"]), digest))
        nodes += [(n.level, n.index, n.hash) for n in tree.append(digest)[1:]]
    repository.insert_rows(conn, repository.LEAF, ("leaf_index", "event_id", "leaf_hash"), leaves)
    repository.insert_rows(conn, repository.NODE, ("level", "node_index", "hash"), nodes)
    note = sign_checkpoint(Checkpoint(signer.name, tree.size, tree.root()), signer).decode()
    repository.insert_checkpoint(
        conn,
        {"size": tree.size, "root_hash": tree.root(), "created_at": utcnow(), "signed_note": note},
    )
    return tree.size


@dataclass
class Scene:
    own: OwnApp
    witness: WitnessConfig
    size: int


async def _traffic_witnessed(own: OwnApp, tmp_path: Path) -> Scene:
    """Some audited traffic with disclosures, all sequenced, and a witness that cosigned it."""
    http, world = own.http, own.world
    log = own.app.state.services.transparency
    await asyncio.to_thread(log.sequencer.ensure_log)
    list_id = await shared_pipeline(http, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    for _ in range(6):
        await http.get(f"/v1/lists/{list_id}/records", headers=unhcr)
        await http.get("/v1/lists", headers={"X-Request-Id": uuid.uuid4().hex})  # a 401
    client_id, secret = world.client_for("us_mission")
    signer = new_witness_key("us.example/witness", tmp_path / "us.key")
    await register_witness_key(http, client_id, secret, signer)
    while (await asyncio.to_thread(log.sequencer.sequence_batch)).integrated:
        pass
    latest = (
        await http.get(
            "/v1/audit/checkpoints/latest",
            headers=await world.headers("oversight", purpose=None, scopes=["audit:read"]),
        )
    ).json()
    witness = WitnessConfig(
        client_id, secret, signer, tmp_path / "us.state.json", latest["log_key"]
    )
    outcome = await witness_once(http, witness)
    assert outcome.cosigned and outcome.size == latest["size"] >= 20
    return Scene(own, witness, outcome.size)


def _export_and_verify(engine: Engine, tmp_path: Path, trusted: list[str] = ()):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        signer = existing_log_signer(conn, LogKeyPlace())
        path = tmp_path / "export.ndjson"
        with path.open("wb") as out:
            export_log(conn, out, signer)
    return verify_export(path, trusted=trusted)


def _alarm_records(folder: Path) -> list[Path]:
    return list(folder.glob("us.state.json.alarm-*.json"))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_tampering_is_detected_by_verify_and_by_a_witness(
    scenario: str, tmp_path: Path
) -> None:
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            scene = await _traffic_witnessed(own, tmp_path)
            engine = own.engine
            with engine.connect() as conn:
                assert verify_database(conn).ok, verify_database(conn).summary()
            assert _export_and_verify(engine, tmp_path).ok

            with triggers_off(engine) as conn:
                first_bad = SCENARIOS[scenario](conn, _leaves(conn))
            with engine.connect() as conn:
                report = verify_database(conn)
            assert not report.ok
            assert report.first_bad_leaf == first_bad, report.summary()
            exported = _export_and_verify(engine, tmp_path)
            assert not exported.ok and exported.first_bad_leaf == first_bad, exported.summary()

            # the cover-up: the tree itself is rebuilt and re-signed to match the altered rows
            with triggers_off(engine) as conn:
                rebuild_tree(conn)
            with engine.connect() as conn:
                assert verify_database(conn).ok  # the database alone is now self-consistent...
                trusted = WitnessState.load(scene.witness.state_path)
                assert trusted is not None
                report = verify_database(conn, trusted=[trusted.note])
            assert not report.ok, "...but not with the checkpoint the witness cosigned"
            assert report.first_bad_leaf is not None and report.first_bad_leaf <= first_bad
            assert not _export_and_verify(engine, tmp_path, [trusted.note]).ok
            with pytest.raises(WitnessAlarm):
                await witness_once(own.http, scene.witness)
            assert _alarm_records(tmp_path), "the evidence is kept"
            # and the witness's own state is untouched: it never signs the rewritten tree
            after = WitnessState.load(scene.witness.state_path)
            assert after is not None and after.size == scene.size and after.note == trusted.note


async def test_the_triggers_refuse_changes_to_the_log_and_the_audit(tmp_path: Path) -> None:
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            await _traffic_witnessed(own, tmp_path)
            with own.engine.begin() as conn:  # a revocation to refuse changes to
                conn.execute(
                    text(
                        "INSERT INTO tlog_witness_revocation "
                        "SELECT id, CURRENT_TIMESTAMP, 'test', 'a test' FROM tlog_witness"
                    )
                )
            statements = [
                "UPDATE audit_event SET status = 200",
                "DELETE FROM audit_disclosure",
                "UPDATE tlog_leaf SET leaf_hash = leaf_hash",
                "DELETE FROM tlog_node",
                "DELETE FROM tlog_checkpoint",
                "UPDATE tlog_cosignature SET timestamp = 0",
                "DELETE FROM tlog_witness",
                "UPDATE tlog_log_key SET signer_key = NULL",
                "DELETE FROM tlog_witness_revocation",
                "UPDATE tlog_witness_revocation SET reason = 'none'",
            ]
            if own.engine.dialect.name == "postgresql":
                statements += ["TRUNCATE audit_event CASCADE", "TRUNCATE tlog_leaf"]
            for statement in statements:
                with pytest.raises(Exception, match="append-only"), own.engine.begin() as conn:
                    conn.execute(text(statement))
