"""Property tests of tlog.merkle: proofs generated from the node store for every tree size up to
2048 verify, are RFC 9162 proofs (checked against a literal recursive oracle), stay O(log n),
and are refused once tampered with."""

from collections.abc import Callable
from functools import cache, partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    InMemoryNodeStore,
    NodeMap,
    NodeReader,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    node_hash,
    nodes_needed,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 2048
HASHED_LEAVES = leaf_hashes(f"event {i}".encode() for i in range(MAX_SIZE))
PROPERTY_SETTINGS = settings(max_examples=400, deadline=None)


def build_store(hashed_leaves: list[bytes]) -> tuple[InMemoryNodeStore, list[bytes]]:
    """Store filled by a CompactRange, plus the root it reported after each append."""
    store = InMemoryNodeStore()
    builder = CompactRange()
    roots = [builder.root()]
    for hashed_leaf in hashed_leaves:
        store.put_nodes(builder.append(hashed_leaf))
        roots.append(builder.root())
    return store, roots


STORE, BUILDER_ROOTS = build_store(HASHED_LEAVES)


def largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


@cache
def reference_root(start: int, end: int) -> bytes:
    """MTH(D[start:end]) exactly as RFC 9162 §2.1.1 defines it."""
    if end - start == 1:
        return HASHED_LEAVES[start]
    k = largest_power_of_two_below(end - start)
    return node_hash(reference_root(start, start + k), reference_root(start + k, end))


def reference_path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) of RFC 9162 §2.1.3.1."""
    if end - start == 1:
        return []
    k = largest_power_of_two_below(end - start)
    if m < k:
        return [*reference_path(m, start, start + k), reference_root(start + k, end)]
    return [*reference_path(m - k, start + k, end), reference_root(start, start + k)]


def reference_subproof(m: int, start: int, end: int, whole_old_tree: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1."""
    if m == end - start:
        return [] if whole_old_tree else [reference_root(start, end)]
    k = largest_power_of_two_below(end - start)
    if m <= k:
        return [
            *reference_subproof(m, start, start + k, whole_old_tree),
            reference_root(start + k, end),
        ]
    return [*reference_subproof(m - k, start + k, end, False), reference_root(start, start + k)]


class CountingReader:
    """Wraps the store to count node lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    def get_node(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return STORE.get_node(level, index)


def flip_bit(proof: list[bytes], element: int, byte: int, bit: int) -> list[bytes]:
    tampered = list(proof)
    corrupted = bytearray(tampered[element])
    corrupted[byte] ^= 1 << bit
    tampered[element] = bytes(corrupted)
    return tampered


def sample_points(size: int) -> set[int]:
    """Indices/sizes that exercise both borders, the middle and the power-of-two splits."""
    points = {1, size // 2, size - 1, size}
    power = 1
    while power <= size:
        points |= {power - 1, power, power + 1}
        power <<= 1
    return {p for p in points if 1 <= p <= size}


def test_roots_agree_for_every_size() -> None:
    assert tree_root(STORE, 0) == EMPTY_ROOT == root_from_leaf_hashes([])
    for size in range(1, MAX_SIZE + 1):
        expected = reference_root(0, size)
        assert tree_root(STORE, size) == expected, size
        assert BUILDER_ROOTS[size] == expected, size


@pytest.mark.parametrize("size", sorted(sample_points(MAX_SIZE) | set(range(1, 70))))
def test_root_from_leaf_hashes_matches_reference(size: int) -> None:
    assert root_from_leaf_hashes(HASHED_LEAVES[:size]) == reference_root(0, size)


def test_proofs_for_every_size_verify_and_stay_logarithmic() -> None:
    for size in range(1, MAX_SIZE + 1):
        root = tree_root(STORE, size)
        for index in sample_points(size) - {size} | {0}:
            reader = CountingReader()
            proof = inclusion_proof(reader, index, size)
            assert len(proof) <= (size - 1).bit_length()
            assert reader.lookups <= 2 * size.bit_length()
            verify_inclusion(index, size, HASHED_LEAVES[index], proof, root)
        for old_size in sample_points(size):
            reader = CountingReader()
            proof = consistency_proof(reader, old_size, size)
            assert len(proof) <= (size - 1).bit_length() + 1
            assert reader.lookups <= 2 * size.bit_length() + 1
            verify_consistency(old_size, size, proof, tree_root(STORE, old_size), root)


def test_proofs_equal_the_rfc_definition_for_all_small_trees() -> None:
    for size in range(1, 130):
        for index in range(size):
            assert inclusion_proof(STORE, index, size) == reference_path(index, 0, size)
        for old_size in range(1, size + 1):
            expected = reference_subproof(old_size, 0, size, True)
            assert consistency_proof(STORE, old_size, size) == expected


def test_resumed_builder_continues_the_same_tree() -> None:
    for size in sorted(sample_points(MAX_SIZE - 1)):
        resumed = CompactRange.from_reader(STORE, size)
        assert resumed.root() == BUILDER_ROOTS[size]
        new_nodes = resumed.extend(HASHED_LEAVES[size : size + 3])
        assert resumed.root() == BUILDER_ROOTS[min(size + 3, MAX_SIZE)]
        assert all(node.hash == STORE.get_node(node.level, node.index) for node in new_nodes)


def test_prefetched_nodes_give_the_same_proofs() -> None:
    """What a database reader does: one query for the nodes a dry run asked for."""
    for size in sorted(sample_points(MAX_SIZE)):
        for index, old_size in ((0, 1), (size // 3, size // 2 or 1), (size - 1, size)):
            computations: list[Callable[[NodeReader], object]] = [
                partial(inclusion_proof, index=index, size=size),
                partial(consistency_proof, size1=old_size, size2=size),
                partial(tree_root, size=size),
            ]
            for compute in computations:
                wanted = nodes_needed(compute)
                prefetched = NodeMap({node: STORE.get_node(*node) for node in wanted})
                assert compute(prefetched) == compute(STORE)


def test_out_of_range_requests_are_rejected() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(STORE, 5, 5)
    with pytest.raises(ValueError):
        consistency_proof(STORE, 6, 5)
    with pytest.raises(ValueError):
        consistency_proof(STORE, 0, 5)
    with pytest.raises(KeyError):
        STORE.get_node(0, MAX_SIZE)
    with pytest.raises(ValueError):
        CompactRange().append(b"short")
    with pytest.raises(ValueError):
        InMemoryNodeStore().put_nodes(CompactRange.from_reader(STORE, 5).append(bytes(32)))


@st.composite
def tree_and_leaf(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_SIZE))
    return size, draw(st.integers(0, size - 1))


@st.composite
def old_and_new_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(2, MAX_SIZE))
    return draw(st.integers(1, size2 - 1)), size2


@PROPERTY_SETTINGS
@given(tree_and_leaf(), st.data())
def test_tampered_inclusion_proof_is_refused(case: tuple[int, int], data: st.DataObject) -> None:
    size, index = case
    proof = inclusion_proof(STORE, index, size)
    root = tree_root(STORE, size)
    verify_inclusion(index, size, HASHED_LEAVES[index], proof, root)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
        with pytest.raises(ProofError):
            verify_inclusion(
                index, size, HASHED_LEAVES[index], flip_bit(proof, element, byte, bit), root
            )
        with pytest.raises(ProofError):
            verify_inclusion(index, size, HASHED_LEAVES[index], proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"not logged"), proof, root)


@PROPERTY_SETTINGS
@given(tree_and_leaf(), st.data())
def test_inclusion_proof_for_another_position_is_refused(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    proof = inclusion_proof(STORE, index, size)
    other_index = data.draw(st.integers(0, MAX_SIZE).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(other_index, size, HASHED_LEAVES[index], proof, tree_root(STORE, size))
    # A size only means something together with its root (both come from one checkpoint).
    other_size = data.draw(st.integers(1, MAX_SIZE).filter(lambda s: s != size))
    with pytest.raises(ProofError):
        verify_inclusion(
            index, other_size, HASHED_LEAVES[index], proof, tree_root(STORE, other_size)
        )


@PROPERTY_SETTINGS
@given(old_and_new_sizes(), st.data())
def test_tampered_consistency_proof_is_refused(sizes: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = sizes
    proof = consistency_proof(STORE, size1, size2)
    root1, root2 = tree_root(STORE, size1), tree_root(STORE, size2)
    verify_consistency(size1, size2, proof, root1, root2)
    element = data.draw(st.integers(0, len(proof) - 1))
    byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, flip_bit(proof, element, byte, bit), root1, root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof[:-1], root1, root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root2, root1)
    forked_root1 = node_hash(root1, root1)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, forked_root1, root2)


@PROPERTY_SETTINGS
@given(old_and_new_sizes(), st.data())
def test_consistency_proof_for_other_sizes_is_refused(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = sizes
    proof = consistency_proof(STORE, size1, size2)
    other1 = data.draw(st.integers(1, size2).filter(lambda s: s != size1))
    with pytest.raises(ProofError):
        verify_consistency(other1, size2, proof, tree_root(STORE, other1), tree_root(STORE, size2))
    other2 = data.draw(st.integers(size1, MAX_SIZE).filter(lambda s: s != size2))
    with pytest.raises(ProofError):
        verify_consistency(size1, other2, proof, tree_root(STORE, size1), tree_root(STORE, other2))
