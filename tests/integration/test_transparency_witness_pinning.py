"""Pinned witness keys must have cosigned the log being verified. A database superuser holding
the log key (kept in the database unless a key file or token is configured) edits an audit
event, rebuilds and re-signs the tree and deletes the cosignatures: the database alone is then
self-consistent, but `sanad audit verify` with the witnesses' keys pinned refuses it, from the
database and from an export, because no pinned witness cosigned any checkpoint of that history.
An honest log verifies, and the report says, per witness, how many leaves lie past the newest
checkpoint it cosigned (the window an insider could still rewrite unseen by it)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.audit import audit_app
from tests.integration.test_tamper import (
    Scene,
    _leaves,
    _traffic_witnessed,
    rebuild_tree,
    triggers_off,
    update_one,
)
from tests.transparency_helpers import fresh_database, own_app
from transparency import repository
from transparency.export import PinnedKeys, export_log, verify_database, verify_export
from transparency.keys import LogKeyPlace, existing_log_signer
from transparency.verify import VerificationReport


def _pinned(engine: Engine, scene: Scene, max_unwitnessed: int | None = None) -> PinnedKeys:
    """The keys an auditor holds from outside the log: the log's and the US witness's."""
    with engine.connect() as conn:
        key = repository.log_key(conn)
    assert key is not None
    witness = scene.witness.signer.verifier().verifier_key()
    return PinnedKeys(key["verifier_key"], (witness,), max_unwitnessed)


def _reports(engine: Engine, tmp_path: Path, pinned: PinnedKeys) -> list[VerificationReport]:
    """Verification of the database, and of an export of it written now."""
    path = tmp_path / "export.ndjson"
    with engine.connect() as conn:
        from_database = verify_database(conn, pinned)
        with path.open("wb") as out:
            export_log(conn, out, existing_log_signer(conn, LogKeyPlace()))
    return [from_database, verify_export(path, pinned)]


async def test_a_rewritten_history_fails_when_witness_keys_are_pinned(tmp_path: Path) -> None:
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            scene = await _traffic_witnessed(own, tmp_path)
            pinned = _pinned(own.engine, scene)
            for report in _reports(own.engine, tmp_path, pinned):
                assert report.ok, report.summary()

            with triggers_off(own.engine) as conn:
                update_one(conn, _leaves(conn))
                rebuild_tree(conn)  # re-signed with the key from the database
            for report in _reports(own.engine, tmp_path, pinned):
                assert not report.ok, report.summary()
                assert any(
                    "no cosignature" in problem and scene.witness.signer.name in problem
                    for problem in report.problems
                ), report.summary()
            # the log's own witness list, unpinned, vouches for nothing: the cover-up holds
            with own.engine.connect() as conn:
                assert verify_database(conn).ok


async def test_the_unwitnessed_tail_is_reported_and_may_be_bounded(tmp_path: Path) -> None:
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            scene = await _traffic_witnessed(own, tmp_path)
            pinned = _pinned(own.engine, scene)
            for report in _reports(own.engine, tmp_path, pinned):
                [coverage] = report.witnesses
                assert (coverage.size, coverage.unwitnessed) == (scene.size, 0)
                assert coverage.timestamp is not None

            # the log grows past what the witness cosigned
            log = own.app.state.services.transparency
            for _ in range(4):
                await own.http.get("/v1/lists", headers={"X-Request-Id": uuid.uuid4().hex})
            while (await asyncio.to_thread(log.sequencer.sequence_batch)).integrated:
                pass
            for report in _reports(own.engine, tmp_path, pinned):
                assert report.ok, report.summary()
                [coverage] = report.witnesses
                tail = report.tree_size - scene.size
                assert tail >= 4 and (coverage.size, coverage.unwitnessed) == (scene.size, tail)
                assert f"{tail} leaves past it" in report.summary()
            tight = _pinned(own.engine, scene, max_unwitnessed=tail - 1)
            for report in _reports(own.engine, tmp_path, tight):
                assert not report.ok
                assert any("--max-unwitnessed" in problem for problem in report.problems)
            for report in _reports(own.engine, tmp_path, _pinned(own.engine, scene, tail)):
                assert report.ok, report.summary()


async def test_the_cli_warns_that_the_log_key_is_in_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sanad audit export` says when the database holds the log's private key, and `verify`
    without pinned witnesses or a trusted checkpoint says what it does not prove."""
    with fresh_database() as url:
        async with own_app(url, transparency_sequencer_enabled=False) as own:
            scene = await _traffic_witnessed(own, tmp_path)
            pinned = _pinned(own.engine, scene)
        monkeypatch.setenv("DATABASE_URL", url)
        runner = CliRunner()
        path = tmp_path / "cli-export.ndjson"
        exported = runner.invoke(audit_app, ["export", "--out", str(path)])
        assert exported.exit_code == 0, exported.output
        assert "the log's private key is stored in the database" in exported.stderr
        unpinned = runner.invoke(audit_app, ["verify", "--export", str(path)])
        assert unpinned.exit_code == 0, unpinned.output
        assert "self-consistent" in unpinned.stderr
        assert pinned.log_key is not None and pinned.witness_keys is not None
        keys = ["--log-key", pinned.log_key, "--witness-key", pinned.witness_keys[0]]
        verified = runner.invoke(audit_app, ["verify", *keys])
        assert verified.exit_code == 0, verified.output
        assert "0 leaves past it" in verified.stdout
        assert "self-consistent" not in verified.stderr
