"""ledger.merkle: RFC 9162 §2.1 hashing and tree shape against specs/vectors/merkle.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ledger.errors import InvalidInput, MalformedError
from ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    fold_right,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
    split_point,
)

VECTORS = json.loads((Path(__file__).parent.parent / "specs/vectors/merkle.json").read_text())
LEAVES = [bytes.fromhex(leaf["data_hex"]) for leaf in VECTORS["leaves"]]
LEAF_HASHES = [leaf_hash(d) for d in LEAVES]


def _frontier_nodes(leaf_hashes):
    """Every (level, index) -> hash that a Frontier reports while appending the leaves."""
    frontier, nodes = Frontier(), {}
    for h in leaf_hashes:
        for level, index, node in frontier.append(h):
            assert (level, index) not in nodes, "a node was reported complete twice"
            nodes[(level, index)] = node
    return frontier, nodes


# --- hashing vectors ---------------------------------------------------------------------------


def test_constants():
    assert HASH_SIZE == 32
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaf_hashes_of_the_eight_vector_leaves():
    assert [h.hex() for h in LEAF_HASHES] == [leaf["leaf_hash"] for leaf in VECTORS["leaves"]]


def test_hasher_vectors():
    for case in VECTORS["hasher"]["leaf"]:
        assert leaf_hash(case["data_utf8"].encode()).hex() == case["hash"]
    for case in VECTORS["hasher"]["children"]:
        got = node_hash(case["left_utf8"].encode(), case["right_utf8"].encode())
        assert got.hex() == case["hash"]


def test_prefixes_are_the_rfc_bytes():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


def test_perfect_subtree_nodes_at_their_addresses():
    _, nodes = _frontier_nodes(LEAF_HASHES)
    for node in VECTORS["nodes"]:
        level, index = node["level"], node["index"]
        assert nodes[(level, index)].hex() == node["hash"], node["label"]
        covered = LEAF_HASHES[index << level : (index + 1) << level]
        assert root_from_leaf_hashes(covered).hex() == node["hash"], node["label"]
    # The only other complete node of 8 leaves is the whole tree: (3, 0) is the size-8 root.
    assert len(nodes) == len(VECTORS["nodes"]) + 1
    assert nodes[(3, 0)].hex() == VECTORS["roots"][8]["root"]


def test_partial_subtree_is_fold_of_its_perfect_subtrees():
    _, nodes = _frontier_nodes(LEAF_HASHES)
    for sub in VECTORS["subtrees"]:
        ids = perfect_subtrees(sub["begin"], sub["end"])
        assert fold_right([nodes[i] for i in ids]).hex() == sub["hash"], sub["label"]
        assert root_from_leaf_hashes(LEAF_HASHES[sub["begin"] : sub["end"]]).hex() == sub["hash"]


def test_roots_for_sizes_0_to_8():
    frontier = Frontier()
    for case in VECTORS["roots"]:
        size = case["size"]
        assert root_from_leaf_hashes(LEAF_HASHES[:size]).hex() == case["root"]
        while frontier.size < size:
            frontier.append(LEAF_HASHES[frontier.size])
        assert frontier.root().hex() == case["root"]
    assert [c["size"] for c in VECTORS["roots"]] == list(range(9))


def test_large_tree_vectors():
    for case in VECTORS["large_trees"]:
        hashes = [leaf_hash(case["leaf_format"].format(i=i).encode()) for i in range(case["size"])]
        assert root_from_leaf_hashes(hashes).hex() == case["root"]
        frontier, _ = _frontier_nodes(hashes)
        assert frontier.root().hex() == case["root"]


# --- tree shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39), ((1 << 40) + 1, 1 << 40)]
)
def test_split_point(n, k):
    assert split_point(n) == k


@pytest.mark.parametrize("n", [-1, 0, 1])
def test_split_point_needs_two_leaves(n):
    with pytest.raises(InvalidInput) as err:
        split_point(n)
    assert err.value.reason == "size_out_of_range"


@pytest.mark.parametrize(
    ("begin", "end", "ids"),
    [
        (0, 0, []),
        (0, 1, [(0, 0)]),
        (0, 6, [(2, 0), (1, 2)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (0, 8, [(3, 0)]),
        (0, 13, [(3, 0), (2, 2), (0, 12)]),
        (4, 7, [(1, 2), (0, 6)]),  # X: the right edge of the 7-leaf tree
        (6, 7, [(0, 6)]),
        (8, 13, [(2, 2), (0, 12)]),
        (16, 16, []),
    ],
)
def test_perfect_subtrees(begin, end, ids):
    assert perfect_subtrees(begin, end) == ids


def test_perfect_subtrees_of_prefix_is_binary_decomposition():
    for end in range(300):
        ids = perfect_subtrees(0, end)
        set_bits = [1 << b for b in reversed(range(end.bit_length())) if end >> b & 1]
        assert [1 << level for level, _ in ids] == set_bits
        begin = 0
        for level, index in ids:  # contiguous, left to right
            assert index << level == begin
            begin += 1 << level
        assert begin == end


@pytest.mark.parametrize(("begin", "end"), [(1, 3), (2, 5), (4, 9), (3, 5), (-1, 2), (5, 4)])
def test_perfect_subtrees_rejects_ranges_that_are_not_subtrees(begin, end):
    with pytest.raises(InvalidInput) as err:
        perfect_subtrees(begin, end)
    assert err.value.reason == "not_a_subtree"
    assert err.value.hint


def test_fold_right():
    a, b, c = (hashlib.sha256(bytes([i])).digest() for i in range(3))
    assert fold_right([]) == EMPTY_ROOT
    assert fold_right([a]) == a
    assert fold_right([a, b, c]) == node_hash(a, node_hash(b, c))


def test_root_from_leaf_hashes_rejects_bad_hashes():
    for bad in (b"\x00" * 31, b"\x00" * 33, "00" * 32):
        with pytest.raises(MalformedError) as err:
            root_from_leaf_hashes([LEAF_HASHES[0], bad])
        assert err.value.reason == "bad_hash_length"


# --- Frontier -----------------------------------------------------------------------------------


def test_empty_frontier():
    frontier = Frontier()
    assert frontier.size == 0
    assert frontier.hashes == ()
    assert frontier.root() == EMPTY_ROOT


def test_append_reports_every_completed_node():
    frontier = Frontier()
    reported = [[(level, index) for level, index, _ in frontier.append(h)] for h in LEAF_HASHES]
    assert reported == [
        [(0, 0)],
        [(0, 1), (1, 0)],
        [(0, 2)],
        [(0, 3), (1, 1), (2, 0)],
        [(0, 4)],
        [(0, 5), (1, 2)],
        [(0, 6)],
        [(0, 7), (1, 3), (2, 1), (3, 0)],
    ]


def test_frontier_hashes_are_the_prefix_subtree_roots():
    _, nodes = _frontier_nodes(LEAF_HASHES)
    frontier = Frontier()
    for h in LEAF_HASHES:
        frontier.append(h)
        assert frontier.hashes == tuple(nodes[i] for i in perfect_subtrees(0, frontier.size))


def test_frontier_from_stored_nodes_continues_like_the_original():
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(100)]
    full, nodes = _frontier_nodes(hashes)
    for size in range(0, 60):
        resumed = Frontier(size, [nodes[i] for i in perfect_subtrees(0, size)])
        for h in hashes[size:]:
            resumed.append(h)
        assert resumed == full
        assert resumed.root() == root_from_leaf_hashes(hashes)


def test_frontier_copy_is_independent():
    frontier = Frontier()
    frontier.append(LEAF_HASHES[0])
    clone = frontier.copy()
    clone.append(LEAF_HASHES[1])
    assert (frontier.size, clone.size) == (1, 2)
    assert frontier.root() == LEAF_HASHES[0]
    assert clone.root() == bytes.fromhex(VECTORS["roots"][2]["root"])
    assert frontier != clone and "size=1" in repr(frontier)


@pytest.mark.parametrize(
    ("size", "hashes", "reason"),
    [
        (1, [], "wrong_frontier_length"),
        (0, [b"\x00" * 32], "wrong_frontier_length"),
        (3, [b"\x00" * 32], "wrong_frontier_length"),
        (2, [b"\x00" * 31], "bad_hash_length"),
        (2, ["00" * 32], "bad_hash_length"),
        (-1, [], "size_out_of_range"),
    ],
)
def test_frontier_rejects_malformed_state(size, hashes, reason):
    with pytest.raises(MalformedError) as err:
        Frontier(size, hashes)
    assert err.value.reason == reason
    assert err.value.hint


@pytest.mark.parametrize("leaf", [b"", b"\x00" * 31, b"\x00" * 33, "00" * 32, None])
def test_frontier_append_rejects_bad_leaf_hash(leaf):
    frontier = Frontier()
    with pytest.raises(MalformedError) as err:
        frontier.append(leaf)
    assert err.value.reason == "bad_hash_length"
    assert frontier.size == 0
