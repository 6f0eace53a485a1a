"""The signed NDJSON export of the log, and verification of an export or of the database.

Export lines, in order: a header (origin, log key, witness keys, tree size); every checkpoint
with its cosignatures; one line per leaf (`leaf_index`, stored `leaf_hash`, then the leaf
`entry`, written as the exact bytes that were hashed); and a trailer whose note, signed by the
log key, carries the SHA-256 of every line before it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from schemas.types import utcnow
from tlog.checkpoint import (
    NoteError,
    NoteSigner,
    NoteVerifier,
    SignatureType,
    SignedNote,
    open_note,
)
from transparency import repository
from transparency.leaf import LeafEncodingError, encode_leaf, timestamp_text
from transparency.notes import b64, cosigned_note
from transparency.verify import (
    TreeAuditor,
    VerificationReport,
    WitnessRule,
    check_stored_nodes,
    decode_hash,
)

EXPORT_FORMAT = "sanad-audit-export/v1"
_ENTRY_MARK = b',"entry":'


@dataclass(frozen=True, slots=True)
class ExportSummary:
    tree_size: int
    checkpoints: int
    sha256: str


def _checkpoint_notes(conn: Connection) -> list[tuple[int, str]]:
    by_size: dict[int, list[RowMapping]] = defaultdict(list)
    for row in repository.cosignatures(conn):
        by_size[int(row["size"])].append(row)
    return [
        (int(row["size"]), cosigned_note(row["signed_note"], by_size[int(row["size"])]))
        for row in repository.checkpoints(conn)
    ]


def _entries(conn: Connection) -> Iterator[tuple[repository.LoggedEvent, bytes | None, str]]:
    """Each stored leaf with its entry re-derived from the audit rows and encoded (None, with
    the reason, when its event is gone or cannot be encoded)."""
    for logged in repository.logged_events(conn):
        if logged.event is None:
            yield logged, None, "its audit event is missing"
            continue
        try:
            yield logged, encode_leaf(logged.event, logged.disclosures), ""
        except LeafEncodingError as exc:
            yield logged, None, f"not a valid leaf: {exc}"


def _trailer_text(origin: str, size: int, digest: bytes) -> str:
    return f"{EXPORT_FORMAT}\n{origin}\n{size}\n{b64(digest)}\n"


def export_log(conn: Connection, out: IO[bytes], signer: NoteSigner) -> ExportSummary:
    """Write the export of everything up to the latest checkpoint (use one snapshot)."""
    key = repository.log_key(conn)
    if key is None:
        raise LookupError("this database has no transparency log yet")
    notes = _checkpoint_notes(conn)
    size = notes[-1][0]
    witnesses = [
        {"name": w["name"], "agency_id": w["agency_id"], "verifier_key": w["verifier_key"]}
        for w in repository.witnesses_in_force(conn)
    ]
    leaves = (
        (logged.leaf_index, logged.leaf_hash, encoded)
        for logged, encoded, _ in _entries(conn)
        if logged.leaf_index < size
    )
    return write_export(out, key["origin"], key["verifier_key"], witnesses, notes, leaves, signer)


def write_export(
    out: IO[bytes],
    origin: str,
    log_key: str,
    witnesses: list[dict[str, str]],
    notes: list[tuple[int, str]],
    leaves: Iterable[tuple[int, bytes, bytes | None]],
    signer: NoteSigner,
) -> ExportSummary:
    """The export format itself: header, checkpoints, leaves (index, stored hash, and the
    entry's logged bytes, last on the line), and the trailer signing the SHA-256 of it all.
    A verifier hashes the entry bytes as they stand, with no re-encoding."""
    size = notes[-1][0]
    hasher = sha256()

    def emit(obj: object) -> None:
        line = orjson.dumps(obj) + b"\n"
        hasher.update(line)
        out.write(line)

    emit(
        {
            "type": "header",
            "format": EXPORT_FORMAT,
            "origin": origin,
            "log_key": log_key,
            "tree_size": size,
            "exported_at": timestamp_text(utcnow()),
            "witnesses": witnesses,
        }
    )
    for checkpoint_size, note in notes:
        emit({"type": "checkpoint", "size": checkpoint_size, "note": note})
    for leaf_index, leaf_hash, encoded in leaves:
        entry = orjson.Fragment(encoded) if encoded is not None else None
        emit(
            {"type": "leaf", "leaf_index": leaf_index, "leaf_hash": b64(leaf_hash), "entry": entry}
        )
    digest = hasher.digest()
    text = _trailer_text(origin, size, digest)
    trailer = SignedNote(text, (signer.sign(text.encode()),)).encode().decode()
    out.write(orjson.dumps({"type": "signature", "note": trailer}) + b"\n")
    return ExportSummary(size, len(notes), digest.hex())


def _verifier(key: str, what: str) -> NoteVerifier:
    try:
        return NoteVerifier.from_verifier_key(key)
    except NoteError as exc:
        raise NoteError(f"{what} {key!r} is not a verifier key: {exc}") from None


@dataclass(frozen=True, slots=True)
class PinnedKeys:
    """Keys the verifier trusts from outside the log; None means "take them from the log".

    Pinned witness keys are demanded, not merely checked: each must have cosigned a checkpoint
    that matches the re-derived tree, or verification fails. That is what protects against an
    insider holding the log key, who can rewrite the log, re-sign it and drop every
    cosignature; the log's own witness list is no such evidence. `max_unwitnessed` bounds the
    leaves past each pinned witness's newest cosigned checkpoint (the part of the log an
    insider could still rewrite unseen by that witness)."""

    log_key: str | None = None
    witness_keys: tuple[str, ...] | None = None
    max_unwitnessed: int | None = None

    def __post_init__(self) -> None:
        """Refuse pins that could not be applied: a malformed key, a witness key that cannot
        cosign (it would be ignored, and with it the demand), a bound with nothing to bound."""
        if self.log_key is not None:
            _verifier(self.log_key, "pinned log key")
        for key in self.witness_keys or ():
            if _verifier(key, "pinned witness key").signature_type is not (
                SignatureType.COSIGNATURE_V1
            ):
                raise NoteError(f"pinned witness key {key!r} is not a tlog-cosignature/v1 key")
        if self.max_unwitnessed is not None and (
            self.witness_keys is None or self.max_unwitnessed < 0
        ):
            raise ValueError("max_unwitnessed is a count of leaves, for pinned witness keys")

    def choose(
        self, recorded_log_key: str, recorded_witness_keys: Iterable[str], source: str
    ) -> _Chosen:
        """The keys to verify with (pinned where given, else recorded), what is demanded of the
        witnesses, and any mismatch. Keys compare as keys, whatever the spelling of their ids."""
        problems = []
        recorded = NoteVerifier.from_verifier_key(recorded_log_key)
        log_key = recorded if self.log_key is None else NoteVerifier.from_verifier_key(self.log_key)
        if log_key != recorded:
            problems.append(f"the log key in {source} is not the pinned log key")
        pinned_witnesses = self.witness_keys is not None
        witness_keys = self.witness_keys if pinned_witnesses else tuple(recorded_witness_keys)
        rule = WitnessRule(required=pinned_witnesses, max_unwitnessed=self.max_unwitnessed)
        verifiers = [NoteVerifier.from_verifier_key(key) for key in witness_keys or ()]
        return _Chosen(log_key, verifiers, rule, problems)


@dataclass(frozen=True, slots=True)
class _Chosen:
    log_key: NoteVerifier
    witness_keys: list[NoteVerifier]
    rule: WitnessRule
    problems: list[str]

    def auditor(
        self, notes: Iterable[str], trusted: Iterable[str], keep_nodes: bool = False
    ) -> TreeAuditor:
        return TreeAuditor(self.log_key, self.witness_keys, notes, trusted, keep_nodes, self.rule)


def verify_database(
    conn: Connection, pinned: PinnedKeys = PinnedKeys(), trusted: Iterable[str] = ()
) -> VerificationReport:
    """Re-derive every leaf from audit_event/audit_disclosure, the tree from the leaves, and
    check checkpoints, cosignatures, stored leaf hashes and nodes, and events left unlogged."""
    key = repository.public_log_key(conn)
    if key is None:
        return VerificationReport(problems=["this database has no transparency log"])
    chosen = pinned.choose(
        key["verifier_key"],
        (w["verifier_key"] for w in repository.witnesses_in_force(conn)),
        "the database",
    )
    notes = [note for _, note in _checkpoint_notes(conn)]
    auditor = chosen.auditor(notes, trusted, keep_nodes=True)
    for logged, encoded, problem in _entries(conn):
        auditor.leaf(logged.leaf_index, encoded, logged.leaf_hash, problem)
    report = auditor.finish()
    check_stored_nodes(auditor, repository.stored_nodes(conn), report.tree_size)
    for event_id in repository.unlogged_events(conn, 10):
        report.problems.append(f"audit event {event_id} is neither in the log nor queued for it")
    report.problems[:0] = chosen.problems
    return report


class _ExportReader:
    """Reads an export line by line, hashing exactly the bytes the trailer covers."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)
        self.hasher = sha256()
        self.line = b""

    def next(self) -> dict[str, Any] | None:
        line = next(self._lines, None)
        if line is None:
            return None
        self.line = line
        item: dict[str, Any] = orjson.loads(line)
        if item.get("type") != "signature":
            self.hasher.update(line)
        return item


def verify_export(
    path: Path, pinned: PinnedKeys = PinnedKeys(), trusted: Iterable[str] = ()
) -> VerificationReport:
    """Verify an export file on its own: nothing but the file (and pinned keys) is trusted."""
    with path.open("rb") as lines:
        reader = _ExportReader(lines)
        try:
            return _verify_lines(reader, pinned, trusted)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return VerificationReport(problems=[f"malformed export: {type(exc).__name__}: {exc}"])


def _verify_lines(
    reader: _ExportReader, pinned: PinnedKeys, trusted: Iterable[str]
) -> VerificationReport:
    header = reader.next()
    if header is None or header.get("format") != EXPORT_FORMAT:
        return VerificationReport(problems=["not a Sanad audit export"])
    chosen = pinned.choose(
        header["log_key"], (w["verifier_key"] for w in header["witnesses"]), "the export"
    )
    notes = []
    item = reader.next()
    while item is not None and item["type"] == "checkpoint":
        notes.append(item["note"])
        item = reader.next()
    auditor = chosen.auditor(notes, trusted)
    while item is not None and item["type"] == "leaf":
        entry = _entry_bytes(item, reader.line)
        auditor.leaf(item["leaf_index"], entry, decode_hash(item["leaf_hash"]))
        item = reader.next()
    report = auditor.finish()
    report.problems[:0] = chosen.problems
    if report.tree_size != header["tree_size"]:
        report.problems.append(
            f"header says {header['tree_size']} leaves, found {report.tree_size}"
        )
    report.problems += _trailer_problems(item, chosen.log_key, header["origin"], report, reader)
    return report


def _entry_bytes(item: dict[str, Any], line: bytes) -> bytes | None:
    """The logged bytes of a leaf line's entry: the writer puts `"entry":` last, after fields
    that cannot contain that text, and the whole line has already parsed as JSON."""
    if item["entry"] is None:
        return None
    start = line.index(_ENTRY_MARK) + len(_ENTRY_MARK)
    return line[start : line.rindex(b"}")]


def _trailer_problems(
    item: dict[str, Any] | None,
    verifier: NoteVerifier,
    origin: str,
    report: VerificationReport,
    reader: _ExportReader,
) -> list[str]:
    if item is None or item.get("type") != "signature":
        return ["the export is cut short or reordered: no signature trailer where expected"]
    expected = _trailer_text(origin, report.tree_size, reader.hasher.digest())
    try:
        opened = open_note(item["note"].encode(), [verifier])
    except NoteError as exc:
        return [f"the export's signature is refused: {exc}"]
    if opened.text != expected:
        return ["the export's signature does not cover these bytes (lines were changed)"]
    if reader.next() is not None:
        return ["lines follow the signature trailer"]
    return []
