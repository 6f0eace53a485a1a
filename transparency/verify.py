"""Offline verification of the whole log: re-derive every leaf from its audit event, rebuild the
tree, and check every checkpoint signature and cosignature, each checkpoint's root, and any
checkpoints trusted from elsewhere (a witness's state). Reports the first bad leaf, and for each
witness key the newest checkpoint it cosigned that matches the tree (pinned witness keys must
have one: a log signed only by its own key proves nothing against whoever holds that key)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha256

from tlog.checkpoint import (
    NoteError,
    NoteVerifier,
    SignatureType,
    VerifiedSignature,
    open_checkpoint,
)
from tlog.merkle import CompactRange, InMemoryNodeStore

_LEAF_PREFIX = b"\x00"


_EXPOSURE = (
    "  (the leaves past a witness's newest cosigned checkpoint are the window in which whoever "
    "holds the log key can rewrite the log unseen by that witness)"
)


@dataclass(frozen=True, slots=True)
class WitnessCoverage:
    """How far one witness vouches for the log: the newest checkpoint it cosigned whose root
    matches the re-derived tree (None: none does), its cosignature time (POSIX seconds), and
    the leaves past it, which it has not seen."""

    name: str
    key_id: str  # hex, as in the verifier key
    size: int | None
    timestamp: int | None
    unwitnessed: int

    @property
    def label(self) -> str:
        return f"{self.name}+{self.key_id}"

    def line(self) -> str:
        if self.size is None:
            seen = "no cosignature on a checkpoint of this log"
        else:
            at = dt.datetime.fromtimestamp(self.timestamp or 0, dt.UTC).isoformat()
            seen = f"cosigned size {self.size} at {at.replace('+00:00', 'Z')}"
        return f"  witness {self.label}: {seen}; {self.unwitnessed} leaves past it unwitnessed"


@dataclass(frozen=True, slots=True)
class WitnessRule:
    """What verification demands of its witness keys. `required`: each must have cosigned a
    checkpoint matching the re-derived tree (for keys pinned from outside; the log's own list
    is no evidence against whoever can edit the log). `max_unwitnessed`: at most that many
    leaves may lie past the newest such checkpoint."""

    required: bool = False
    max_unwitnessed: int | None = None


@dataclass(slots=True)
class VerificationReport:
    tree_size: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    first_bad_leaf: int | None = None
    problems: list[str] = field(default_factory=list)
    witnesses: list[WitnessCoverage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        head = (
            f"log verification {verdict}: {self.tree_size} leaves, {self.checkpoints} "
            f"checkpoints, {self.cosignatures} cosignatures checked"
        )
        if self.first_bad_leaf is not None:
            head += f"; first bad leaf: {self.first_bad_leaf}"
        coverage = [w.line() for w in self.witnesses] + ([_EXPOSURE] if self.witnesses else [])
        problems = [f"  - {problem}" for problem in self.problems[:50]]
        return "\n".join([head, *coverage, *problems])


@dataclass(frozen=True, slots=True)
class _Head:
    size: int
    root_hash: bytes
    source: str
    cosignatures: tuple[VerifiedSignature, ...]


class TreeAuditor:
    """Consumes the leaves in index order and checks them against every checkpoint."""

    def __init__(
        self,
        log_key: NoteVerifier,
        witness_keys: Iterable[NoteVerifier],
        checkpoint_notes: Iterable[str],
        trusted_notes: Iterable[str] = (),
        keep_nodes: bool = False,
        rule: WitnessRule = WitnessRule(),
    ) -> None:
        self.report = VerificationReport()
        self._log_key = log_key
        # one entry per key however it was spelled: two equal keys would make every note
        # they signed "ambiguous"
        self._witness_keys = list(
            dict.fromkeys(
                k for k in witness_keys if k.signature_type is SignatureType.COSIGNATURE_V1
            )
        )
        self._rule = rule
        # per witness (name, key id): (size, cosignature time) of the newest matching head
        self._witnessed: dict[tuple[str, bytes], tuple[int, int]] = {}
        heads = [self._open(note, "checkpoint") for note in checkpoint_notes]
        heads += [self._open(note, "trusted checkpoint") for note in trusted_notes]
        self._heads = sorted((h for h in heads if h is not None), key=lambda h: h.size)
        self._next_head = 0
        self._tree = CompactRange()
        self._last_good_size = 0  # largest checkpoint size whose root matched
        self._last_trusted_size = 0  # the same among checkpoints trusted from elsewhere
        self.nodes = InMemoryNodeStore() if keep_nodes else None
        self._check_heads_at(0)

    def _open(self, note: str, what: str) -> _Head | None:
        try:
            verified = open_checkpoint(note.encode(), self._log_key, self._witness_keys)
        except NoteError as exc:
            self.report.problems.append(f"{what} signature refused: {exc}")
            return None
        if what == "checkpoint":
            self.report.checkpoints += 1
            self.report.cosignatures += len(verified.cosignatures)
        checkpoint = verified.checkpoint
        return _Head(checkpoint.size, checkpoint.root_hash, what, verified.cosignatures)

    def _bad_leaf(self, index: int, problem: str) -> None:
        if self.report.first_bad_leaf is None or index < self.report.first_bad_leaf:
            self.report.first_bad_leaf = index
        self.report.problems.append(f"leaf {index}: {problem}")

    def leaf(
        self,
        index: int,
        encoded: bytes | None,
        recorded_hash: bytes | None,
        problem: str = "its audit event is missing",
    ) -> None:
        """The next leaf as found: its encoded entry (None, and `problem` says why, when there
        is none to hash), and the hash the log recorded for it, if known."""
        expected = self._tree.size
        if index != expected:
            self._bad_leaf(expected, f"missing or out of order (found leaf {index} next)")
            if index < expected:
                return
            for _ in range(index - expected):
                self._append(bytes(32))  # placeholders keep the later indexes in place
        if encoded is None:
            self._bad_leaf(index, problem)
            digest = recorded_hash or bytes(32)
        else:
            digest = sha256(_LEAF_PREFIX + encoded).digest()
            if recorded_hash is not None and digest != recorded_hash:
                self._bad_leaf(index, "the audit event differs from what was logged")
        self._append(digest)

    def _append(self, digest: bytes) -> None:
        new_nodes = self._tree.append(digest)
        if self.nodes is not None:
            self.nodes.put_nodes(new_nodes)
        self._check_heads_at(self._tree.size)

    def _check_heads_at(self, size: int) -> None:
        while self._next_head < len(self._heads) and self._heads[self._next_head].size == size:
            self._check_head(self._heads[self._next_head])
            self._next_head += 1

    def _check_head(self, head: _Head) -> None:
        trusted = head.source != "checkpoint"
        if self._tree.root() == head.root_hash:
            self._last_good_size = max(self._last_good_size, head.size)
            if trusted:
                self._last_trusted_size = max(self._last_trusted_size, head.size)
            # A cosignature vouches for the leaves only on a head the leaves reproduce, and not
            # on the empty tree, which every history of this log shares. Heads come in size
            # order, so a later one is newer (a trusted note, e.g. a witness's state file,
            # carries that witness's cosignature too).
            for sig in head.cosignatures if head.size > 0 else ():
                self._witnessed[(sig.name, sig.key_id)] = (head.size, sig.timestamp or 0)
            return
        self.report.problems.append(
            f"{head.source} of size {head.size}: the re-derived root differs"
        )
        if self.report.first_bad_leaf is None:
            # Leaves up to the last matching checkpoint are vouched for, so the change lies
            # after it; when a trusted checkpoint fails, the log's own ones may be forged too.
            vouched = self._last_trusted_size if trusted else self._last_good_size
            self.report.first_bad_leaf = vouched
            self.report.problems.append(
                f"the first altered leaf is at or after {vouched} "
                "(the stored leaf hashes were rewritten too)"
            )

    def finish(self) -> VerificationReport:
        size = self._tree.size
        self.report.tree_size = size
        for head in self._heads[self._next_head :]:
            self.report.problems.append(
                f"{head.source} of size {head.size} but the log has only {size} leaves (truncated)"
            )
            # The log's own checkpoints vouch for the leaves before the cut; when only a
            # trusted one shows it, the log's checkpoints may have been rewritten as well.
            vouched = size if head.source == "checkpoint" else self._last_trusted_size
            if self.report.first_bad_leaf is None or vouched < self.report.first_bad_leaf:
                self.report.first_bad_leaf = vouched
        self.report.witnesses = [self._coverage(key, size) for key in self._witness_keys]
        for coverage in self.report.witnesses:
            self._apply_rule(coverage)
        return self.report

    def _coverage(self, key: NoteVerifier, size: int) -> WitnessCoverage:
        witnessed = self._witnessed.get((key.name, key.key_id))
        newest, timestamp = witnessed if witnessed is not None else (None, None)
        unwitnessed = size - (newest or 0)
        return WitnessCoverage(key.name, key.key_id.hex(), newest, timestamp, unwitnessed)

    def _apply_rule(self, coverage: WitnessCoverage) -> None:
        bound = self._rule.max_unwitnessed
        if self._rule.required and coverage.size is None and coverage.unwitnessed > 0:
            self.report.problems.append(
                f"pinned witness {coverage.label} has no cosignature on a checkpoint of this "
                "log that matches its leaves: it never vouched for this history"
            )
        elif bound is not None and coverage.unwitnessed > bound:
            self.report.problems.append(
                f"{coverage.unwitnessed} leaves lie past the newest checkpoint witness "
                f"{coverage.label} cosigned (size {coverage.size or 0}), more than "
                f"--max-unwitnessed {bound}"
            )


def check_stored_nodes(
    auditor: TreeAuditor, stored: Iterable[tuple[int, int, bytes]], tree_size: int
) -> None:
    """Compare the interior nodes the log serves proofs from with the re-derived ones."""
    assert auditor.nodes is not None
    expected_counts = {level: tree_size >> level for level in range(1, tree_size.bit_length())}
    counts: dict[int, int] = {}
    wrong = 0
    for level, index, digest in stored:
        counts[level] = counts.get(level, 0) + 1
        try:
            matches = auditor.nodes.get_node(level, index) == digest
        except KeyError:
            matches = False
        if not matches:
            wrong += 1
            if wrong <= 5:
                auditor.report.problems.append(f"stored node ({level}, {index}) is wrong")
    missing = sum(n - counts.get(level, 0) for level, n in expected_counts.items())
    if missing > 0:
        auditor.report.problems.append(f"{missing} stored tree nodes are missing")
    if wrong > 5:
        auditor.report.problems.append(f"{wrong} stored tree nodes are wrong in all")


def decode_hash(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
