"""RFC 9162 Merkle tree: hashing, an append-only builder, proofs generated from a store of
perfect-subtree nodes, and proof verification with transparency-dev/merkle's semantics."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1 hash of one log entry: SHA-256(0x00 || entry)."""
    return sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1 hash of an interior node: SHA-256(0x01 || left || right)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many entries (sha256 inlined to save a Python call per leaf)."""
    return [sha256(_LEAF_PREFIX + entry).digest() for entry in entries]


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Root of the tree whose leaves have these hashes, computed level by level."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        parents = [
            sha256(_NODE_PREFIX + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=False)
        ]
        if len(level) & 1:
            # An unpaired last node lies on the right border: RFC 9162 promotes it unchanged.
            parents.append(level[-1])
        level = parents
    return level[0]


@dataclass(frozen=True, slots=True)
class Node:
    """Hash of the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int
    hash: bytes


class NodeReader(Protocol):
    """Read access to stored perfect-subtree hashes; level 0 holds the leaf hashes."""

    def get_node(self, level: int, index: int) -> bytes:
        """Hash of node (level, index); raises KeyError when it is not stored."""
        ...


class InMemoryNodeStore:
    """NodeReader keeping each level in one bytearray (32 bytes a node, no object per node)."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def put_nodes(self, nodes: Iterable[Node]) -> None:
        """Store nodes in the order a CompactRange yields them."""
        levels = self._levels
        for node in nodes:
            while len(levels) <= node.level:
                levels.append(bytearray())
            row = levels[node.level]
            if node.index * HASH_SIZE != len(row) or len(node.hash) != HASH_SIZE:
                raise ValueError(f"{node} is out of append order or malformed")
            row += node.hash

    def get_node(self, level: int, index: int) -> bytes:
        start = index * HASH_SIZE
        if level >= len(self._levels) or index < 0 or start >= len(self._levels[level]):
            raise KeyError((level, index))
        return bytes(self._levels[level][start : start + HASH_SIZE])


class NodeMap:
    """NodeReader over nodes fetched in advance, e.g. the rows `nodes_needed` asked for."""

    def __init__(self, nodes: Mapping[tuple[int, int], bytes]) -> None:
        self._nodes = nodes

    def get_node(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]


class _LookupRecorder:
    def __init__(self) -> None:
        self.wanted: list[tuple[int, int]] = []

    def get_node(self, level: int, index: int) -> bytes:
        self.wanted.append((level, index))
        return bytes(HASH_SIZE)


def nodes_needed(computation: Callable[[NodeReader], object]) -> list[tuple[int, int]]:
    """The (level, index) nodes a root or proof computation reads, found by a dry run (which
    nodes are read never depends on their hashes), so a database reader can fetch them in one
    query: `nodes_needed(lambda reader: inclusion_proof(reader, index, size))`."""
    recorder = _LookupRecorder()
    computation(recorder)
    return recorder.wanted


class CompactRange:
    """Right edge of an append-only tree: one perfect-subtree hash per set bit of its size."""

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []  # largest (leftmost) subtree first

    @classmethod
    def from_reader(cls, reader: NodeReader, size: int) -> CompactRange:
        """Resume appending at `size` from stored nodes, with one lookup per set bit of size."""
        if size < 0:
            raise ValueError("size must not be negative")
        compact = cls()
        compact._size = size
        compact._peaks = [
            reader.get_node(level, (size >> level) - 1)
            for level in reversed(range(size.bit_length()))
            if (size >> level) & 1
        ]
        return compact

    @property
    def size(self) -> int:
        return self._size

    def append(self, hashed_leaf: bytes) -> list[Node]:
        """Add one leaf hash; return the leaf node and every perfect node it completes."""
        if len(hashed_leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        index = self._size
        level = 0
        digest = hashed_leaf
        new_nodes = [Node(0, index, digest)]
        # Each trailing one bit of the old size is a left sibling this leaf now completes.
        while index & 1:
            digest = node_hash(self._peaks.pop(), digest)
            index >>= 1
            level += 1
            new_nodes.append(Node(level, index, digest))
        self._peaks.append(digest)
        self._size += 1
        return new_nodes

    def extend(self, hashed_leaves: Iterable[bytes]) -> list[Node]:
        """Append many leaf hashes; return all new nodes in storage order."""
        new_nodes: list[Node] = []
        for hashed_leaf in hashed_leaves:
            new_nodes += self.append(hashed_leaf)
        return new_nodes

    def root(self) -> bytes:
        """Root hash of the tree of the current size."""
        if not self._peaks:
            return EMPTY_ROOT
        digest = self._peaks[-1]
        for left in reversed(self._peaks[:-1]):
            digest = node_hash(left, digest)
        return digest


def _subtree_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """Hash of leaves [start, end); start must be a multiple of the power of two >= end - start,
    so the range splits into perfect subtrees of decreasing size, folded right to left."""
    peaks: list[bytes] = []
    while start < end:
        level = (end - start).bit_length() - 1
        peaks.append(reader.get_node(level, start >> level))
        start += 1 << level
    digest = peaks.pop()
    while peaks:
        digest = node_hash(peaks.pop(), digest)
    return digest


def tree_root(reader: NodeReader, size: int) -> bytes:
    """Root of the tree of the first `size` stored leaves (at most one lookup per level)."""
    if size < 0:
        raise ValueError("size must not be negative")
    return EMPTY_ROOT if size == 0 else _subtree_hash(reader, 0, size)


def _audit_path(reader: NodeReader, leaf_index: int, size: int, from_level: int) -> list[bytes]:
    """Sibling hashes from `from_level` to the root on the path of leaf_index in a tree of size."""
    # Below `inner` the paths of leaf_index and of the last leaf differ; above it they coincide
    # and only left siblings exist (a left child on the right border has none).
    inner = (leaf_index ^ (size - 1)).bit_length()
    path: list[bytes] = []
    for level in range(from_level, inner):
        sibling_start = ((leaf_index >> level) ^ 1) << level
        # Only the topmost inner sibling can reach past the border; its hash is then ephemeral.
        sibling_end = min(sibling_start + (1 << level), size)
        path.append(_subtree_hash(reader, sibling_start, sibling_end))
    for level in range(inner, size.bit_length()):
        if (leaf_index >> level) & 1:
            path.append(reader.get_node(level, (leaf_index >> level) - 1))
    return path


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of the first `size` leaves
    (size may be below the stored size; the reader's KeyError surfaces if it is above)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    return _audit_path(reader, index, size, from_level=0)


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 §2.1.4 consistency proof from the tree of size1 to the tree of size2."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"need 0 <= size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        return []
    if size1 == 0:
        raise ValueError("a consistency proof from the empty tree is meaningless")
    # The old tree's last perfect subtree is a node of the new tree; the proof is that node's
    # audit path, preceded by the node itself unless it is the whole old tree (the old root).
    shift = _trailing_zeros(size1)
    proof: list[bytes] = []
    if size1 != 1 << shift:
        proof.append(reader.get_node(shift, (size1 - 1) >> shift))
    proof += _audit_path(reader, size1 - 1, size2, from_level=shift)
    return proof


class ProofError(ValueError):
    """A Merkle proof was refused."""


class RootMismatchError(ProofError):
    """The proof is well formed but leads to a different root."""


def _decompose_path(index: int, size: int) -> tuple[int, int]:
    """Lengths of the inner and border parts of the audit path of leaf index in a tree of size."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def _check_hash_sizes(proof: Sequence[bytes]) -> None:
    # Stricter than transparency-dev (which would only fail on the root comparison): a
    # wrong-length element must never be able to shift bytes between hash inputs.
    if any(len(element) != HASH_SIZE for element in proof):
        raise ProofError("proof elements must be 32-byte hashes")


def _chain_inner(seed: bytes, hashes: Sequence[bytes], index: int) -> bytes:
    for bit, sibling in enumerate(hashes):
        seed = node_hash(sibling, seed) if (index >> bit) & 1 else node_hash(seed, sibling)
    return seed


def _chain_inner_right(seed: bytes, hashes: Sequence[bytes], index: int) -> bytes:
    # Right siblings did not exist yet in the older tree, so only left ones count.
    for bit, sibling in enumerate(hashes):
        if (index >> bit) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, hashes: Sequence[bytes]) -> bytes:
    for sibling in hashes:
        seed = node_hash(sibling, seed)
    return seed


def root_from_inclusion_proof(
    index: int, size: int, hashed_leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """Root implied by an inclusion proof of the leaf hash at index in a tree of size."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is beyond size {size}")
    if len(hashed_leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash has {len(hashed_leaf)} bytes, want {HASH_SIZE}")
    inner, border = _decompose_path(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"wrong proof size {len(proof)}, want {inner + border}")
    _check_hash_sizes(proof)
    digest = _chain_inner(hashed_leaf, proof[:inner], index)
    return _chain_border_right(digest, proof[inner:])


def verify_inclusion(
    index: int, size: int, hashed_leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless proof shows the leaf hash at index in the tree (size, root)."""
    if root_from_inclusion_proof(index, size, hashed_leaf, proof) != root:
        raise RootMismatchError("inclusion proof does not lead to the expected root")


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Root of the tree of size2 implied by a consistency proof from (size1, root1)."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"need 0 <= size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("size1 == size2 but the proof is not empty")
        # The empty tree has exactly one root (as in transparency-dev/merkle's current vectors).
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise RootMismatchError("the root of the empty tree is SHA-256 of nothing")
        return root1
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if not proof:
        raise ProofError("empty proof")
    inner, border = _decompose_path(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    inner -= shift
    # The path starts at the old tree's last perfect subtree; when that subtree is the whole
    # old tree the verifier already has its hash (root1), otherwise the proof carries it first.
    if size1 == 1 << shift:
        seed, path = root1, proof
    else:
        seed, path = proof[0], proof[1:]
    if len(path) != inner + border:
        raise ProofError(f"wrong proof size {len(proof)}")
    _check_hash_sizes(proof)
    mask = (size1 - 1) >> shift
    old_root = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if old_root != root1:
        raise RootMismatchError("consistency proof does not lead to the old root")
    return _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise ProofError unless proof shows tree (size2, root2) extends tree (size1, root1)."""
    if root_from_consistency_proof(size1, size2, proof, root1) != root2:
        raise RootMismatchError("consistency proof does not lead to the new root")
