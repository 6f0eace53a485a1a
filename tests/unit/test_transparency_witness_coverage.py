"""What pinned witness keys demand of an export: each pinned witness must have cosigned a
checkpoint that matches the re-derived tree, and the report gives the leaves past the newest
one (the unwitnessed tail, which `max_unwitnessed` may bound). Also through `sanad audit
verify --export`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from hashlib import sha256
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.audit import audit_app
from tests.unit.test_transparency_export import LOG, WITNESS, _event
from tlog.checkpoint import (
    Checkpoint,
    NoteSigner,
    SignatureType,
    cosign_checkpoint,
    sign_checkpoint,
)
from tlog.merkle import CompactRange
from transparency.export import PinnedKeys, verify_export, write_export
from transparency.leaf import encode_leaf

SIZE = 40
OTHER = NoteSigner.generate("gop.test/witness", SignatureType.COSIGNATURE_V1)
LOG_KEY = LOG.verifier().verifier_key()
WITNESS_KEY = WITNESS.verifier().verifier_key()
COSIGNED_AT = 1_800_000_000


def _export(
    path: Path, cosigners: Mapping[int, Sequence[NoteSigner]], rewritten: int | None = None
) -> Path:
    """SIZE leaves, a checkpoint every 10, cosigned by `cosigners[size]`. With `rewritten`,
    that leaf's event was altered after the witnesses cosigned: the checkpoints they cosigned
    keep the original root, and the others are re-signed over the altered leaves."""
    original, served = CompactRange(), CompactRange()
    leaves, notes = [], []
    for i in range(SIZE + 1):
        if i % 10 == 0:
            root = (original if i in cosigners else served).root()
            note = sign_checkpoint(Checkpoint(LOG.name, i, root), LOG)
            for signer in cosigners.get(i, ()):
                note = cosign_checkpoint(note, signer, COSIGNED_AT)
            notes.append((i, note.decode()))
        if i == SIZE:
            break
        original.append(sha256(b"\x00" + encode_leaf(_event(i), [])).digest())
        encoded = encode_leaf(_event(i) | ({"status": 500} if i == rewritten else {}), [])
        digest = sha256(b"\x00" + encoded).digest()
        leaves.append((i, digest, encoded))
        served.append(digest)
    witnesses = [
        {"name": w.name, "agency_id": "unhcr", "verifier_key": w.verifier().verifier_key()}
        for w in (WITNESS, OTHER)
    ]
    with path.open("wb") as out:
        write_export(out, LOG.name, LOG_KEY, witnesses, notes, leaves, LOG)
    return path


def test_a_pinned_witness_that_cosigned_nothing_fails_verification(tmp_path: Path) -> None:
    export = _export(tmp_path / "e.ndjson", {SIZE: [WITNESS]})
    pinned = PinnedKeys(LOG_KEY, (WITNESS_KEY, OTHER.verifier().verifier_key()))
    report = verify_export(export, pinned)
    assert not report.ok
    assert [(c.name, c.size, c.unwitnessed) for c in report.witnesses] == [
        (WITNESS.name, SIZE, 0),
        (OTHER.name, None, SIZE),
    ]
    assert any("no cosignature" in p and OTHER.name in p for p in report.problems)
    # unpinned, the export's own witness list is used and nothing is required of it
    assert verify_export(export, PinnedKeys(LOG_KEY)).ok


def test_a_cosignature_on_the_empty_tree_vouches_for_nothing(tmp_path: Path) -> None:
    """Every history of a log starts from the same size-0 checkpoint: an insider could keep
    its cosignatures while rewriting everything after it."""
    export = _export(tmp_path / "e.ndjson", {0: [WITNESS]})
    report = verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY,)))
    assert not report.ok
    assert (report.witnesses[0].size, report.witnesses[0].unwitnessed) == (None, SIZE)


def test_the_tail_past_the_newest_cosigned_checkpoint_is_the_exposure(tmp_path: Path) -> None:
    """The witness cosigned size 30; leaf 35 was then rewritten and size 40 re-signed. Nothing
    contradicts it: the report names the 10 unwitnessed leaves, and a bound refuses them."""
    export = _export(tmp_path / "e.ndjson", {10: [WITNESS], 30: [WITNESS]}, rewritten=35)
    report = verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY,)))
    assert report.ok, report.summary()
    [coverage] = report.witnesses
    assert (coverage.size, coverage.timestamp, coverage.unwitnessed) == (30, COSIGNED_AT, 10)
    assert "10 leaves past it" in report.summary()
    bounded = verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY,), max_unwitnessed=9))
    assert not bounded.ok
    assert any("--max-unwitnessed 9" in p for p in bounded.problems), bounded.summary()
    assert verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY,), max_unwitnessed=10)).ok


def test_a_cosigned_checkpoint_that_does_not_match_the_leaves_counts_for_nothing(
    tmp_path: Path,
) -> None:
    """Leaf 5 rewritten after the witness cosigned size 10: that cosignature vouches for
    another history, so it is no evidence for this one."""
    export = _export(tmp_path / "e.ndjson", {10: [WITNESS]}, rewritten=5)
    report = verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY,)))
    assert not report.ok
    assert report.witnesses[0].size is None
    assert any("no cosignature" in p for p in report.problems)


def test_a_trusted_checkpoint_carries_its_witness_cosignature(tmp_path: Path) -> None:
    """A witness's state file holds the note it cosigned: given as a trusted checkpoint, that
    cosignature counts even when the log kept none."""
    export = _export(tmp_path / "e.ndjson", {})
    tree = CompactRange()
    for i in range(SIZE):
        tree.append(sha256(b"\x00" + encode_leaf(_event(i), [])).digest())
    note = sign_checkpoint(Checkpoint(LOG.name, SIZE, tree.root()), LOG)
    cosigned = cosign_checkpoint(note, WITNESS, COSIGNED_AT).decode()
    pinned = PinnedKeys(LOG_KEY, (WITNESS_KEY,))
    assert not verify_export(export, pinned).ok
    report = verify_export(export, pinned, trusted=[cosigned])
    assert report.ok, report.summary()
    assert report.witnesses[0].size == SIZE


def test_a_key_pinned_twice_or_spelled_in_upper_case_is_one_witness(tmp_path: Path) -> None:
    export = _export(tmp_path / "e.ndjson", {SIZE: [WITNESS]})
    name, key_id, key = WITNESS_KEY.split("+", 2)
    upper = f"{name}+{key_id.upper()}+{key}"
    report = verify_export(export, PinnedKeys(LOG_KEY, (WITNESS_KEY, upper, WITNESS_KEY)))
    assert report.ok, report.summary()
    assert len(report.witnesses) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--max-unwitnessed", "5"], "--max-unwitnessed needs --witness-key"),
        (["--witness-key", "not-a-key"], "not a verifier key"),
        (["--witness-key", LOG_KEY], "not a tlog-cosignature/v1 key"),
    ],
)
def test_the_cli_refuses_pins_it_cannot_apply(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    export = _export(tmp_path / "e.ndjson", {SIZE: [WITNESS]})
    result = CliRunner().invoke(audit_app, ["verify", "--export", str(export), *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_the_cli_reports_and_bounds_the_tail(tmp_path: Path) -> None:
    export = _export(tmp_path / "e.ndjson", {30: [WITNESS]})
    pins = ["--export", str(export), "--log-key", LOG_KEY, "--witness-key", WITNESS_KEY]
    result = CliRunner().invoke(audit_app, ["verify", *pins])
    assert result.exit_code == 0, result.output
    assert "cosigned size 30" in result.stdout and "10 leaves past it" in result.stdout
    bounded = CliRunner().invoke(audit_app, ["verify", *pins, "--max-unwitnessed", "3"])
    assert bounded.exit_code == 1, bounded.output
