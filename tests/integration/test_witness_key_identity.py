"""A witness key is one key however its verifier key is spelled. Its key id is hex, which the
note format reads in either case; the registry compared the raw strings, so the same key with
its key id in upper case was registered again: after its revocation (and its cosignatures
counted again), or by another agency, which made every checkpoint the key's witness cosigned
fail verification as signed by an "ambiguous key". Keys are now stored in their canonical
spelling and are unique by public key and by name and key id, revoked ones included; and
migration c0ffee000016 brings stored rows to that."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from alembic import command
from schemas.types import UtcDateTime
from tests.conftest import World
from tests.integration.test_migrations import empty_database_url  # noqa: F401  (a fixture)
from tests.migration_helpers import T0, database_at
from tests.transparency_helpers import OwnApp, fresh_database, own_app
from tlog.checkpoint import NoteSigner, SignatureType, cosign_checkpoint
from transparency import repository
from transparency.export import verify_database
from transparency.witness import WitnessConfig, register_witness_key, witness_once

WITNESSES = "/v1/audit/witnesses"


def _cosigner(name: str) -> NoteSigner:
    """A witness key whose hex key id has a letter in it, so it has an upper-case spelling."""
    while True:
        signer = NoteSigner.generate(name, SignatureType.COSIGNATURE_V1)
        if not signer.verifier().key_id.hex().isdigit():
            return signer


def _upper(verifier_key: str) -> str:
    name, key_id, key = verifier_key.split("+", 2)
    return f"{name}+{key_id.upper()}+{key}"


def _renamed(signer: NoteSigner, name: str) -> str:
    """The same public key under another witness name (hence another key id)."""
    return NoteSigner(name, signer.private_key, signer.signature_type).verifier().verifier_key()


@dataclass
class Witnessed:
    own: OwnApp
    witness: WitnessConfig
    size: int
    row: dict[str, Any]


async def _unhcr_witnessed(own: OwnApp, tmp_path: Path) -> Witnessed:
    """A log with some entries, and UNHCR's witness, registered and having cosigned it."""
    http, world = own.http, own.world
    log = own.app.state.services.transparency
    await asyncio.to_thread(log.sequencer.ensure_log)
    for _ in range(3):
        await http.get("/v1/lists")
    client_id, secret = world.client_for("unhcr")
    signer = _cosigner("unhcr.example/witness")
    row = await register_witness_key(http, client_id, secret, signer)
    while (await asyncio.to_thread(log.sequencer.sequence_batch)).integrated:
        pass
    reader = await world.headers("oversight", purpose=None, scopes=["audit:read"])
    latest = (await http.get("/v1/audit/checkpoints/latest", headers=reader)).json()
    witness = WitnessConfig(
        client_id, secret, signer, tmp_path / "unhcr.state.json", latest["log_key"]
    )
    outcome = await witness_once(http, witness)
    assert outcome.cosigned
    return Witnessed(own, witness, outcome.size, row)


async def _register(
    http: httpx.AsyncClient, world: World, kind: str, verifier_key: str
) -> httpx.Response:
    admin = await world.headers(kind, purpose=None, scopes=["admin"])
    return await http.post(WITNESSES, json={"verifier_key": verifier_key}, headers=admin)


@pytest.fixture
def own_database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def test_another_agency_cannot_register_a_witness_key_in_any_spelling(
    own_database: str, tmp_path: Path
) -> None:
    async with own_app(own_database, transparency_sequencer_enabled=False) as own:
        scene = await _unhcr_witnessed(own, tmp_path)
        signer = scene.witness.signer
        key = signer.verifier().verifier_key()
        for spelling in (_upper(key), key, _renamed(signer, "gop.example/witness")):
            taken = await _register(own.http, own.world, "gop", spelling)
            assert taken.status_code == 409, taken.text
            assert "already registered" in taken.json()["detail"]
        with own.engine.connect() as conn:
            report = verify_database(conn)
        assert report.ok, report.summary()
        assert report.witnesses[0].size == scene.size


async def test_a_revoked_witness_key_never_comes_back(own_database: str, tmp_path: Path) -> None:
    async with own_app(own_database, transparency_sequencer_enabled=False) as own:
        http, world = own.http, own.world
        scene = await _unhcr_witnessed(own, tmp_path)
        signer = scene.witness.signer
        key = signer.verifier().verifier_key()
        admin = await world.headers("unhcr", purpose=None, scopes=["admin"])
        revocation = f"{WITNESSES}/{scene.row['id']}/revocation"
        revoked = await http.post(revocation, json={"reason": "leaked"}, headers=admin)
        assert revoked.status_code == 200, revoked.text
        for spelling in (key, _upper(key), _renamed(signer, "unhcr.example/witness-2")):
            again = await _register(http, world, "unhcr", spelling)
            assert again.status_code == 409, again.text
            assert "revoked" in again.json()["detail"]
        # so the leaked key's cosignatures stay refused
        reader = await world.headers("unhcr", purpose=None, scopes=["audit:read"])
        path = f"/v1/audit/checkpoints/{scene.size}"
        note = (await http.get(path, headers=reader)).json()["note"]
        cosigned = cosign_checkpoint(note.encode(), signer, 1_800_000_000).decode()
        refused = await http.post(f"{path}/cosignatures", json={"note": cosigned}, headers=reader)
        assert refused.status_code == 422, refused.text


async def test_a_key_is_stored_in_its_canonical_spelling_and_the_database_keeps_it_unique(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with own_app(own_database, transparency_sequencer_enabled=False) as own:
        await asyncio.to_thread(own.app.state.services.transparency.sequencer.ensure_log)
        signer = _cosigner("gop.example/witness")
        key = signer.verifier().verifier_key()
        created = await _register(own.http, own.world, "gop", _upper(key))
        assert created.status_code == 201, created.text
        assert created.json()["verifier_key"] == key
        assert created.json()["key_id"] == signer.verifier().key_id.hex()

        # two registrations racing past the check: the unique indexes refuse the second
        async def nothing_found(*_: object) -> None:
            return None

        monkeypatch.setattr(repository, "witness_by_identity", nothing_found)
        for spelling in (key, _renamed(signer, "unhcr.example/witness")):
            raced = await _register(own.http, own.world, "unhcr", spelling)
            assert raced.status_code == 409, raced.text


# Rows as a database held them before c0ffee000016, written by name: the tables as of
# c0ffee000015, which later models may no longer describe
_CHECKPOINT = sa.table(
    "tlog_checkpoint",
    sa.column("size", sa.BigInteger()),
    sa.column("root_hash", sa.LargeBinary()),
    sa.column("created_at", UtcDateTime()),
    sa.column("signed_note", sa.Text()),
)
_WITNESS = sa.table(
    "tlog_witness",
    sa.column("id", sa.String()),
    sa.column("agency_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("key_id", sa.String()),
    sa.column("verifier_key", sa.String()),
    sa.column("created_at", UtcDateTime()),
    sa.column("created_by_client_id", sa.String()),
)
_WITNESS_NOW = sa.table(  # as of c0ffee000016
    "tlog_witness",
    *(sa.column(column.name, column.type) for column in _WITNESS.columns),
    sa.column("public_key", sa.LargeBinary()),
)
_REVOCATION = sa.table(
    "tlog_witness_revocation",
    sa.column("witness_id", sa.String()),
    sa.column("revoked_at", UtcDateTime()),
    sa.column("revoked_by_client_id", sa.String()),
    sa.column("reason", sa.String()),
)
_COSIGNATURE = sa.table(
    "tlog_cosignature",
    sa.column("size", sa.BigInteger()),
    sa.column("witness_id", sa.String()),
    sa.column("timestamp", sa.BigInteger()),
    sa.column("signature", sa.LargeBinary()),
    sa.column("received_at", UtcDateTime()),
)
_K1, _K2, _K3 = (_cosigner(f"k{n}.example/witness") for n in (1, 2, 3))
_K1_KEY, _K2_KEY, _K3_KEY = (k.verifier().verifier_key() for k in (_K1, _K2, _K3))
# (id, agency, verifier key as submitted, hours after T0, revoked by its agency, cosigned)
_STORED_BEFORE = [
    ("a", "unhcr", _K1_KEY, 0, False, True),
    ("b", "unhcr", _upper(_K1_KEY), 1, True, True),  # UNHCR re-spelled it, then revoked that
    ("c", "gop", _K2_KEY, 0, False, True),
    ("d", "unhcr", _upper(_K2_KEY), 1, True, True),  # UNHCR took GoP's key, then revoked it
    ("e", "gop", _upper(_K3_KEY), 2, False, False),  # only ever spelled in upper case
    ("f", "unhcr", _renamed(_K3, "unhcr.example/copy"), 3, False, False),  # same key, renamed
]


def test_the_migration_keeps_one_row_a_key_and_its_revocation(
    empty_database_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    """Rows of one key merge into the earliest registration; a revocation by that row's own
    agency under another spelling carries over to it (a revoked key stays revoked), one by
    another agency does not; the dropped rows' cosignatures go with them."""
    with database_at(empty_database_url, "c0ffee000015") as (config, engine):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(_CHECKPOINT),
                [{"size": 1, "root_hash": bytes(32), "created_at": T0, "signed_note": "n"}],
            )
            for id_, agency, key, hours, revoked, cosigned in _STORED_BEFORE:
                name, key_id, _ = key.split("+", 2)
                at = T0 + dt.timedelta(hours=hours)
                conn.execute(
                    sa.insert(_WITNESS),
                    [
                        {
                            "id": id_,
                            "agency_id": agency,
                            "name": name,
                            "key_id": key_id,
                            "verifier_key": key,
                            "created_at": at,
                            "created_by_client_id": "admin",
                        }
                    ],
                )
                if revoked:
                    revocation = {"revoked_by_client_id": "admin", "reason": f"leaked {id_}"}
                    conn.execute(
                        sa.insert(_REVOCATION),
                        [{"witness_id": id_, "revoked_at": at, **revocation}],
                    )
                if cosigned:
                    cosignature = {"timestamp": 1, "signature": b"s", "received_at": at}
                    conn.execute(
                        sa.insert(_COSIGNATURE), [{"size": 1, "witness_id": id_, **cosignature}]
                    )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            witnesses = conn.execute(
                sa.select(_WITNESS.c.id, _WITNESS.c.key_id, _WITNESS.c.verifier_key).order_by(
                    _WITNESS.c.id
                )
            ).all()
            revocations = conn.execute(
                sa.select(_REVOCATION.c.witness_id, _REVOCATION.c.reason)
            ).all()
            cosigned_by = conn.execute(sa.select(_COSIGNATURE.c.witness_id)).scalars().all()
            public_keys = conn.execute(sa.text("SELECT id, public_key FROM tlog_witness")).all()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("UPDATE tlog_witness SET name = 'x'"))
        # the same public key under another name is refused by the database itself
        renamed = NoteSigner("gop.example/copy", _K1.private_key, SignatureType.COSIGNATURE_V1)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.insert(_WITNESS_NOW),
                [
                    {
                        "id": "g",
                        "agency_id": "gop",
                        "name": renamed.name,
                        "key_id": renamed.verifier().key_id.hex(),
                        "verifier_key": renamed.verifier().verifier_key(),
                        "public_key": renamed.public_key,
                        "created_at": T0,
                        "created_by_client_id": "admin",
                    }
                ],
            )
        # down again: the rows stay, in canonical spelling, still append-only
        command.downgrade(config, "c0ffee000015")
        with engine.connect() as conn:
            after_downgrade = conn.execute(sa.select(_WITNESS.c.id).order_by(_WITNESS.c.id))
            assert after_downgrade.scalars().all() == ["a", "c", "e"]
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM tlog_witness_revocation"))
    assert [tuple(w) for w in witnesses] == [
        ("a", _K1.verifier().key_id.hex(), _K1_KEY),
        ("c", _K2.verifier().key_id.hex(), _K2_KEY),
        ("e", _K3.verifier().key_id.hex(), _K3_KEY),
    ]
    assert sorted(tuple(r) for r in revocations) == [("a", "leaked b")]
    assert sorted(cosigned_by) == ["a", "c"]
    signers = {"a": _K1, "c": _K2, "e": _K3}
    assert {id_: bytes(key) for id_, key in public_keys} == {
        id_: signer.verifier().public_key for id_, signer in signers.items()
    }
