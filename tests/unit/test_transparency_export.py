"""The export file on its own: a faithful export verifies; cutting it, reordering or editing a
line, dropping a checkpoint, a forged cosignature or an unexpected log key are all caught, and
leaf-level changes name the first bad leaf."""

from __future__ import annotations

import datetime as dt
from hashlib import sha256
from pathlib import Path

import pytest

from tlog.checkpoint import (
    Checkpoint,
    NoteSigner,
    SignatureType,
    cosign_checkpoint,
    sign_checkpoint,
)
from tlog.merkle import CompactRange
from transparency.export import PinnedKeys, verify_export, write_export
from transparency.leaf import EVENT_FIELDS, encode_leaf

SIZE = 40
LOG = NoteSigner.generate("test.sanad/audit-log")
WITNESS = NoteSigner.generate("unhcr.test/witness", SignatureType.COSIGNATURE_V1)


def _event(i: int) -> dict[str, object]:
    event: dict[str, object] = {name: f"{name}-{i}" for name in EVENT_FIELDS}
    moment = dt.datetime(2026, 11, 27, tzinfo=dt.UTC) + dt.timedelta(seconds=i)
    return event | {"occurred_at": moment, "status": 200, "disclosure_count": 0}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    tree = CompactRange()
    leaves = []
    notes = [(0, sign_checkpoint(Checkpoint(LOG.name, 0, tree.root()), LOG).decode())]
    for i in range(SIZE):
        encoded = encode_leaf(_event(i), [])
        digest = sha256(b"\x00" + encoded).digest()
        leaves.append((i, digest, encoded))
        tree.append(digest)
        if tree.size % 10 == 0:
            notes.append(
                (
                    tree.size,
                    sign_checkpoint(Checkpoint(LOG.name, tree.size, tree.root()), LOG).decode(),
                )
            )
    last_size, last_note = notes[-1]
    notes[-1] = (last_size, cosign_checkpoint(last_note.encode(), WITNESS, 1_800_000_000).decode())
    witnesses = [
        {
            "name": WITNESS.name,
            "agency_id": "unhcr",
            "verifier_key": WITNESS.verifier().verifier_key(),
        }
    ]
    path = tmp_path / "export.ndjson"
    with path.open("wb") as out:
        write_export(out, LOG.name, LOG.verifier().verifier_key(), witnesses, notes, leaves, LOG)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


PINNED = PinnedKeys(log_key=LOG.verifier().verifier_key())
FIRST_LEAF_LINE = 1 + 5  # header, then checkpoints 0, 10, 20, 30, 40


def test_a_faithful_export_verifies_with_every_checkpoint_and_cosignature(export: Path) -> None:
    report = verify_export(export, PINNED)
    assert report.ok, report.summary()
    assert (report.tree_size, report.checkpoints, report.cosignatures) == (SIZE, 5, 1)


def test_a_cut_export_fails(export: Path) -> None:
    lines = _lines(export)
    report = verify_export(_write(export, lines[:-4]), PINNED)
    assert not report.ok
    assert report.first_bad_leaf == SIZE - 3
    assert any("cut short" in problem for problem in report.problems)


def test_an_edited_entry_names_its_leaf(export: Path) -> None:
    lines = _lines(export)
    lines[FIRST_LEAF_LINE + 12] = lines[FIRST_LEAF_LINE + 12].replace(
        b'"status":200', b'"status":204'
    )
    report = verify_export(_write(export, lines), PINNED)
    assert report.first_bad_leaf == 12
    assert any("does not cover these bytes" in problem for problem in report.problems)


def test_swapped_lines_name_the_first_of_them(export: Path) -> None:
    lines = _lines(export)
    a, b = FIRST_LEAF_LINE + 7, FIRST_LEAF_LINE + 21
    lines[a], lines[b] = lines[b], lines[a]
    assert verify_export(_write(export, lines), PINNED).first_bad_leaf == 7


def test_a_dropped_checkpoint_breaks_the_signature(export: Path) -> None:
    lines = _lines(export)
    del lines[3]
    report = verify_export(_write(export, lines), PINNED)
    assert not report.ok and report.first_bad_leaf is None


def test_another_log_key_or_a_forged_cosignature_is_refused(export: Path) -> None:
    other = PinnedKeys(
        log_key=NoteSigner.generate("test.sanad/audit-log").verifier().verifier_key()
    )
    assert not verify_export(export, other).ok
    lines = _lines(export)
    last_checkpoint = FIRST_LEAF_LINE - 1
    forged = lines[last_checkpoint].replace(
        WITNESS.name.encode() + b" ", WITNESS.name.encode() + b" A"
    )
    report = verify_export(
        _write(export, [*lines[:last_checkpoint], forged, *lines[last_checkpoint + 1 :]]), PINNED
    )
    assert not report.ok


def test_a_trusted_checkpoint_the_log_does_not_contain_is_reported(export: Path) -> None:
    tree = CompactRange()
    for i in range(SIZE + 5):
        tree.append(sha256(b"\x00" + encode_leaf(_event(i), [])).digest())
    longer = sign_checkpoint(Checkpoint(LOG.name, tree.size, tree.root()), LOG).decode()
    report = verify_export(export, PINNED, trusted=[longer])
    assert not report.ok and report.first_bad_leaf is not None
