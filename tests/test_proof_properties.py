"""Properties of ledger.merkle and ledger.proof: every honest proof verifies, every mutation fails.

The reference for roots is ``root_from_leaf_hashes`` (RFC 9162's recursive MTH), and
the reference for the *shape* of a proof is RFC 9162's recursive PATH/SUBPROOF
written out below, independently of the bottom-up plans under test.

One fact the mutation tests must respect: RFC 9162 proofs bind root hashes, not
tree sizes. Changing a tree size while keeping the proof and roots verifies exactly
when the proof has the same shape (the same sides, in the same order) for the
mutated sizes, because the verifier then performs the very same hash computation.
Those mutations are asserted to fail if and only if the shape changes; the sizes
are authenticated by the signed checkpoint that carries (size, root) together.
"""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import VerificationFailed
from ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    leaf_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
    split_point,
)
from ledger.proof import (
    consistency_plan,
    consistency_proof,
    expected_consistency_length,
    expected_inclusion_length,
    inclusion_plan,
    inclusion_proof,
    root_at,
    verify_consistency,
    verify_inclusion,
)

MAX_LEAVES = 3000
LEAVES = [leaf_hash(b"leaf %d" % i) for i in range(MAX_LEAVES)]
OTHER = leaf_hash(b"not in the tree")


def _build_store():
    frontier, nodes = Frontier(), {}
    for h in LEAVES:
        nodes.update(((level, index), node) for level, index, node in frontier.append(h))
    return nodes


NODES = _build_store()


def _reader_for(size):
    """A node reader that, like storage, holds only nodes complete in a tree of ``size``."""

    def get_node(level, index):
        assert (index + 1) << level <= size, f"node ({level}, {index}) is not complete at size {size}"
        return NODES[(level, index)]

    return get_node


@functools.lru_cache(maxsize=None)
def _root(size):
    return root_from_leaf_hashes(LEAVES[:size])


def _flip(h, bit):
    b = bytearray(h)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


def _fails(verify, *args):
    try:
        verify(*args)
    except VerificationFailed:
        return True
    return False


# --- reference shapes: RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF, recursive --------------------


def _path_sides(m, n):
    """Side of each PATH(m, D_n) hash relative to the leaf, leaf to root."""
    if n == 1:
        return ()
    k = split_point(n)
    return _path_sides(m, k) + ("right",) if m < k else _path_sides(m - k, n - k) + ("left",)


def _subproof_shape(m, n, b=True):
    """Role of each SUBPROOF(m, D_n, b) hash: the old subtree itself, or a left/right sibling."""
    if m == n:
        return () if b else ("seed",)
    k = split_point(n)
    if m <= k:
        return _subproof_shape(m, k, b) + ("right",)
    return _subproof_shape(m - k, n - k, False) + ("left",)


def _inclusion_should_verify(index, size, honest_index, honest_size):
    """Whether an honest proof for (honest_index, honest_size) also verifies for (index, size)."""
    return 0 <= index < size and _path_sides(index, size) == _path_sides(honest_index, honest_size)


def _consistency_should_verify(old, new, honest_old, honest_new):
    """Whether the honest proof and roots for (honest_old, honest_new) verify for (old, new)."""
    if not 0 <= old <= new:
        return False
    honest_is_empty = honest_old == 0 or honest_old == honest_new
    if old == 0:  # empty proof, and the old root must be the empty tree's
        return honest_old == 0 and (old != new or honest_new == 0)
    if old == new:  # empty proof and equal roots
        return honest_old == honest_new
    if honest_is_empty:  # 0 < old < new needs a non-empty proof
        return False
    return _subproof_shape(old, new) == _subproof_shape(honest_old, honest_new)


# --- inclusion ------------------------------------------------------------------------------------


@st.composite
def index_and_size(draw):
    size = draw(st.integers(1, MAX_LEAVES))
    return draw(st.integers(0, size - 1)), size


@settings(max_examples=150, deadline=None)
@given(index_and_size(), st.integers(0, 255))
def test_inclusion_proofs_verify_and_every_mutation_fails(case, bit):
    index, size = case
    leaf, root = LEAVES[index], _root(size)
    proof = inclusion_proof(index, size, _reader_for(size))
    assert len(proof) == expected_inclusion_length(index, size)
    verify_inclusion(leaf, index, size, proof, root)

    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], bit)
        assert _fails(verify_inclusion, leaf, index, size, bad, root), f"flipped proof hash {i}"
    assert _fails(verify_inclusion, _flip(leaf, bit), index, size, proof, root)
    assert _fails(verify_inclusion, leaf, index, size, proof, _flip(root, bit))
    assert _fails(verify_inclusion, OTHER, index, size, proof, root)
    if leaf != root:
        assert _fails(verify_inclusion, root, index, size, proof, leaf), "swapped leaf and root"
    for wrong_index in (index - 1, index + 1):
        assert _fails(verify_inclusion, leaf, wrong_index, size, proof, root), f"index {wrong_index}"
    for wrong_size in (size - 1, size + 1):
        should = _inclusion_should_verify(index, wrong_size, index, size)
        accepted = not _fails(verify_inclusion, leaf, index, wrong_size, proof, root)
        assert accepted is should, f"size {wrong_size}"
    if proof:
        assert _fails(verify_inclusion, leaf, index, size, proof[:-1], root), "dropped last hash"
        assert _fails(verify_inclusion, leaf, index, size, proof[1:], root), "dropped first hash"
    assert _fails(verify_inclusion, leaf, index, size, [*proof, OTHER], root), "appended a hash"
    assert _fails(verify_inclusion, leaf, index, size, [OTHER, *proof], root), "prepended a hash"


def test_inclusion_exhaustive_for_small_trees():
    for size in range(1, 65):
        root = _root(size)
        for index in range(size):
            proof = inclusion_proof(index, size, _reader_for(size))
            verify_inclusion(LEAVES[index], index, size, proof, root)
            for other in range(size):  # a proof belongs to one position only
                if other != index:
                    assert _fails(verify_inclusion, LEAVES[index], other, size, proof, root)


# --- consistency: exhaustive for 0 <= m <= n <= 64 --------------------------------------------


def test_consistency_exhaustive_with_mutations():
    for new in range(65):
        new_root = _root(new)
        for old in range(new + 1):
            old_root = _root(old)
            proof = consistency_proof(old, new, _reader_for(new))
            assert len(proof) == expected_consistency_length(old, new)
            verify_consistency(old, new, old_root, new_root, proof)
            _check_consistency_mutations(old, new, old_root, new_root, proof)


def _check_consistency_mutations(old, new, old_root, new_root, proof):
    def fails(*args):
        return _fails(verify_consistency, *args)

    bit = (old * 31 + new * 7) % 256
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], bit)
        assert fails(old, new, old_root, new_root, bad), (old, new, f"flipped proof hash {i}")
    assert fails(old, new, _flip(old_root, bit), new_root, proof), (old, new, "old root")
    # Decided: from the empty tree, any new tree is consistent, so its root is not examined.
    new_root_is_checked = not (old == 0 < new)
    rejected = fails(old, new, old_root, _flip(new_root, bit), proof)
    assert rejected is new_root_is_checked, (old, new, "new root")
    if old_root != new_root:
        assert fails(old, new, new_root, old_root, proof), (old, new, "swapped roots")
    if proof:
        assert fails(old, new, old_root, new_root, proof[:-1]), (old, new, "dropped last hash")
        assert fails(old, new, old_root, new_root, proof[1:]), (old, new, "dropped first hash")
    assert fails(old, new, old_root, new_root, [*proof, OTHER]), (old, new, "appended a hash")
    assert fails(old, new, old_root, new_root, [OTHER, *proof]), (old, new, "prepended a hash")
    for wrong_old, wrong_new in ((old - 1, new), (old + 1, new), (old, new - 1), (old, new + 1)):
        if wrong_old < 0 or wrong_new < 0:
            continue
        should = _consistency_should_verify(wrong_old, wrong_new, old, new)
        got = not fails(wrong_old, wrong_new, old_root, new_root, proof)
        assert got is should, (old, new, "sizes", wrong_old, wrong_new)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, MAX_LEAVES - 1), st.data())
def test_consistency_proofs_verify_in_large_trees(old, data):
    new = data.draw(st.integers(old + 1, MAX_LEAVES))
    proof = consistency_proof(old, new, _reader_for(new))
    verify_consistency(old, new, _root(old), _root(new), proof)
    assert _fails(verify_consistency, old, new, _root(old - 1), _root(new), proof)
    assert _fails(verify_consistency, old, new, _root(old), _root(new - 1), proof)


# --- Frontier and plans -------------------------------------------------------------------------


def test_frontier_root_equals_reference_root_for_every_size():
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT == _root(0)
    for size in range(1, 600):
        frontier.append(LEAVES[size - 1])
        assert frontier.root() == _root(size) == root_at(size, _reader_for(size)), size


@settings(max_examples=50, deadline=None)
@given(st.integers(0, MAX_LEAVES))
def test_frontier_from_stored_nodes_has_reference_root(size):
    frontier = Frontier(size, [NODES[node] for node in perfect_subtrees(0, size)])
    assert frontier.root() == _root(size)
    if size < MAX_LEAVES:
        frontier.append(LEAVES[size])
        assert frontier.root() == _root(size + 1)


def test_every_reported_node_is_the_root_of_its_leaves():
    for (level, index), node in NODES.items():
        if level <= 5 or index < 2:
            assert node == root_from_leaf_hashes(LEAVES[index << level : (index + 1) << level])
    # and every complete node was reported
    assert len(NODES) == sum(MAX_LEAVES >> level for level in range(MAX_LEAVES.bit_length()))


def _assert_partition(entries, pieces, size):
    """Each plan entry is a subtree of RFC 9162 form, made of complete nodes, and together
    with the given pieces the entries cover [0, size) exactly once."""
    covered = list(pieces)
    for entry in entries:
        begin = entry[0][1] << entry[0][0]
        end = begin + sum(1 << level for level, _ in entry)
        assert entry == perfect_subtrees(begin, end)
        for level, index in entry:
            assert (index + 1) << level <= size, "plan uses a node that is not complete"
        covered.append((begin, end))
    covered.sort()
    assert covered[0][0] == 0 and covered[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))


sizes = st.one_of(st.integers(1, 1 << 20), st.integers(1, (1 << 64) - 1))


@settings(max_examples=300, deadline=None)
@given(sizes, st.data())
def test_inclusion_plan_partitions_the_tree(size, data):
    index = data.draw(st.integers(0, size - 1))
    plan = inclusion_plan(index, size)
    assert len(plan) == expected_inclusion_length(index, size)
    _assert_partition(plan, [(index, index + 1)], size)


@settings(max_examples=300, deadline=None)
@given(sizes, st.data())
def test_consistency_plan_partitions_the_tree(new, data):
    old = data.draw(st.integers(1, new))
    plan = consistency_plan(old, new)
    assert len(plan) == expected_consistency_length(old, new)
    if old == new:
        assert plan == []
        return
    power_of_two = old & (old - 1) == 0
    # The old tree's last perfect subtree is the first entry, or the implicit old root.
    _assert_partition(plan, [(0, old)] if power_of_two else [], new)
    if not power_of_two:
        level, index = plan[0][0]
        assert (index + 1) << level == old


def test_plans_match_the_reference_shapes_exhaustively():
    for size in range(1, 129):
        for index in range(size):
            plan = inclusion_plan(index, size)
            sides = tuple("left" if e[0][1] << e[0][0] < index else "right" for e in plan)
            assert sides == _path_sides(index, size)
        for old in range(1, size):
            plan = consistency_plan(old, size)
            seeded = old & (old - 1) != 0  # old not a power of two: its last subtree comes first
            roles = tuple(
                "seed" if seeded and i == 0 else "left" if e[0][1] << e[0][0] < old else "right"
                for i, e in enumerate(plan)
            )
            assert roles == _subproof_shape(old, size)
