"""The transparency log's key in a PKCS#11 token (SoftHSM 2): a log created while a token is
configured keeps its Ed25519 key there, only its label in the database; its checkpoints verify
with the published log key, signed by the sequencer in the API's child process too; and a log
whose key is in a token refuses to sign without it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.app_factory import create_app
from config.settings import Settings
from database.engine import make_sync_engine
from sealing.token_login import TokenSettings
from tests.key_helpers import keys_database
from tlog.checkpoint import NoteVerifier, open_checkpoint
from transparency import repository
from transparency.keys import LogKeyError, LogKeyPlace, existing_log_signer
from transparency.sequencer import Sequencer, make_sequencer_engine

ORIGIN = "sanad.test/token-log"


def _latest_note_verifies(url: str) -> int:
    """The size of the latest checkpoint, after checking it against the log key on record."""
    with make_sync_engine(url).connect() as conn:
        key = repository.log_key(conn)
        assert key is not None
        note = conn.execute(
            select(repository.CHECKPOINT.c.signed_note)
            .order_by(repository.CHECKPOINT.c.size.desc())
            .limit(1)
        ).scalar_one()
    verifier = NoteVerifier.from_verifier_key(key["verifier_key"])
    return open_checkpoint(note.encode(), verifier).checkpoint.size


def test_a_new_log_keeps_its_key_in_the_token(tmp_path: Path, token_key: TokenSettings) -> None:
    url = keys_database(tmp_path)
    place = LogKeyPlace(token=token_key)
    Sequencer(make_sequencer_engine(url), ORIGIN, place).ensure_log()
    with make_sync_engine(url).connect() as conn:
        key = repository.log_key(conn)
        assert key is not None and key["signer_key"].startswith("p11key:")
        signer = existing_log_signer(conn, place)
        assert signer.verifier().verifier_key() == key["verifier_key"]
        with pytest.raises(TypeError, match="never leaves"):
            signer.signer_key()
        with pytest.raises(LogKeyError, match="in a PKCS#11 token"):
            existing_log_signer(conn, LogKeyPlace())
    assert _latest_note_verifies(url) == 0


async def test_the_api_s_child_sequencer_signs_checkpoints_in_the_token(
    tmp_path: Path, token_sealing: TokenSettings
) -> None:
    url = keys_database(tmp_path)
    settings = Settings(database_url=url, transparency_origin=ORIGIN, log_level="WARNING")
    assert settings.transparency_sequencer_in_child_process
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for _ in range(3):  # refused requests are audited too: events for the log
                assert (await http.get("/v1/records")).status_code in (401, 404)
            for _ in range(100):
                if _latest_note_verifies(url) > 0:
                    break
                await asyncio.sleep(0.1)
    with make_sync_engine(url).connect() as conn:
        key = repository.log_key(conn)
        assert key is not None and key["signer_key"].startswith("p11key:")
    assert _latest_note_verifies(url) > 0
