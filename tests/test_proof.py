"""ledger.proof: RFC 9162 proofs against specs/vectors/proofs.json, edge cases, and merkletools."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pytest

from ledger.errors import CorruptionError, InvalidInput, VerificationFailed
from ledger.merkle import EMPTY_ROOT, Frontier, leaf_hash, perfect_subtrees, root_from_leaf_hashes
from ledger.proof import (
    assemble,
    consistency_plan,
    consistency_proof,
    expected_consistency_length,
    expected_inclusion_length,
    inclusion_plan,
    inclusion_proof,
    plan_node_ids,
    root_at,
    root_from_inclusion_proof,
    root_plan,
    verify_consistency,
    verify_inclusion,
)

with warnings.catch_warnings():  # merkletools warns at import that the optional `sha3` is missing
    warnings.simplefilter("ignore")
    from merkletools import MerkleTools

VECTOR_DIR = Path(__file__).parent.parent / "specs/vectors"
PROOFS = json.loads((VECTOR_DIR / "proofs.json").read_text())
MERKLE = json.loads((VECTOR_DIR / "merkle.json").read_text())
LEAF_HASHES = [leaf_hash(bytes.fromhex(leaf["data_hex"])) for leaf in MERKLE["leaves"]]
ROOTS = {case["size"]: bytes.fromhex(case["root"]) for case in MERKLE["roots"]}


def _store(leaf_hashes):
    """A node reader over every complete node of the tree, as the storage layer provides."""
    frontier, nodes = Frontier(), {}
    for h in leaf_hashes:
        nodes.update(((level, index), node) for level, index, node in frontier.append(h))
    return nodes, lambda level, index: nodes[(level, index)]


NODES, GET_NODE = _store(LEAF_HASHES)


def _hex(hashes):
    return [h.hex() for h in hashes]


def _bytes(hexes):
    return [bytes.fromhex(h) for h in hexes]


# --- known-answer vectors -----------------------------------------------------------------------


def test_labels_are_the_merkle_json_nodes():
    by_label = {node["label"]: node["hash"] for node in MERKLE["nodes"] + MERKLE["subtrees"]}
    assert PROOFS["labels"] == by_label


@pytest.mark.parametrize("case", PROOFS["inclusion_published"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_published_inclusion_proofs(case):
    index, size = case["index"], case["size"]
    assert LEAF_HASHES[index].hex() == case["leaf_hash"]
    assert ROOTS[size].hex() == case["root"]
    assert _hex(inclusion_proof(index, size, GET_NODE)) == case["proof"]
    verify_inclusion(LEAF_HASHES[index], index, size, _bytes(case["proof"]), ROOTS[size])


@pytest.mark.parametrize(
    "case", PROOFS["consistency_published"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_published_consistency_proofs(case):
    old, new = case["old_size"], case["new_size"]
    assert (ROOTS[old].hex(), ROOTS[new].hex()) == (case["old_root"], case["new_root"])
    assert _hex(consistency_proof(old, new, GET_NODE)) == case["proof"]
    verify_consistency(old, new, ROOTS[old], ROOTS[new], _bytes(case["proof"]))


def test_derived_table_is_complete_for_n_up_to_8():
    inclusion = {(c["index"], c["size"]) for c in PROOFS["inclusion_table"]}
    consistency = {(c["old_size"], c["new_size"]) for c in PROOFS["consistency_table"]}
    assert inclusion == {(m, n) for n in range(1, 9) for m in range(n)}
    assert consistency == {(m, n) for n in range(2, 9) for m in range(1, n)}


@pytest.mark.parametrize("case", PROOFS["inclusion_table"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_table(case):
    index, size = case["index"], case["size"]
    assert case["proof"] == [PROOFS["labels"][label] for label in case["proof_labels"]]
    assert _hex(inclusion_proof(index, size, GET_NODE)) == case["proof"]
    assert expected_inclusion_length(index, size) == len(case["proof"])
    verify_inclusion(LEAF_HASHES[index], index, size, _bytes(case["proof"]), ROOTS[size])
    assert root_from_inclusion_proof(LEAF_HASHES[index], index, size, _bytes(case["proof"])) == ROOTS[size]


@pytest.mark.parametrize(
    "case", PROOFS["consistency_table"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_consistency_table(case):
    old, new = case["old_size"], case["new_size"]
    assert case["proof"] == [PROOFS["labels"][label] for label in case["proof_labels"]]
    assert _hex(consistency_proof(old, new, GET_NODE)) == case["proof"]
    assert expected_consistency_length(old, new) == len(case["proof"])
    verify_consistency(old, new, ROOTS[old], ROOTS[new], _bytes(case["proof"]))


def test_roots_through_the_node_reader():
    for size, root in ROOTS.items():
        assert root_at(size, GET_NODE) == root
    assert root_at(0, GET_NODE) == EMPTY_ROOT


# --- decided edge cases -------------------------------------------------------------------------


def _run_verification(case):
    if case["kind"] == "inclusion":
        args = (bytes.fromhex(case["leaf_hash"]), case["index"], case["size"], _bytes(case["proof"]))
        verify_inclusion(*args, bytes.fromhex(case["root"]))
    else:
        verify_consistency(
            case["old_size"],
            case["new_size"],
            bytes.fromhex(case["old_root"]),
            bytes.fromhex(case["new_root"]),
            _bytes(case["proof"]),
        )


@pytest.mark.parametrize("case", PROOFS["edge_cases"], ids=lambda c: f"{c['kind']}: {c['name']}")
def test_edge_case_vectors(case):
    if case["expect"] == "ok":
        _run_verification(case)
        return
    with pytest.raises(VerificationFailed) as err:
        _run_verification(case)
    assert type(err.value) is VerificationFailed
    assert err.value.reason == case["expect"]
    assert err.value.hint
    assert err.value.exit_code == 1


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: inclusion_plan(0, 0), "index_out_of_range"),
        (lambda: inclusion_plan(8, 8), "index_out_of_range"),
        (lambda: inclusion_plan(-1, 8), "index_out_of_range"),
        (lambda: inclusion_plan(0, 1 << 64), "size_out_of_range"),
        (lambda: inclusion_plan(0, -1), "size_out_of_range"),
        (lambda: inclusion_proof(3, 3, GET_NODE), "index_out_of_range"),
        (lambda: consistency_plan(8, 7), "old_size_after_new"),
        (lambda: consistency_plan(-1, 7), "size_out_of_range"),
        (lambda: consistency_plan(1, 1 << 64), "size_out_of_range"),
        (lambda: consistency_proof(2, 1, GET_NODE), "old_size_after_new"),
        (lambda: root_plan(-1), "size_out_of_range"),
        (lambda: expected_inclusion_length(5, 5), "index_out_of_range"),
        (lambda: expected_consistency_length(6, 5), "old_size_after_new"),
        (lambda: expected_consistency_length(-1, 5), "size_out_of_range"),
    ],
)
def test_generation_rejects_bad_input(call, reason):
    with pytest.raises(InvalidInput) as err:
        call()
    assert type(err.value) is InvalidInput
    assert err.value.reason == reason
    assert err.value.hint


def test_consistency_plan_is_empty_from_the_empty_tree_and_between_equal_sizes():
    assert consistency_plan(0, 0) == consistency_plan(0, 8) == consistency_plan(5, 5) == []
    assert consistency_proof(0, 8, GET_NODE) == consistency_proof(8, 8, GET_NODE) == []


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: verify_inclusion(LEAF_HASHES[0], -1, 8, [], ROOTS[8]), "index_out_of_range"),
        (lambda: verify_inclusion(LEAF_HASHES[0], 0, 1 << 64, [], ROOTS[8]), "size_out_of_range"),
        (lambda: verify_inclusion(LEAF_HASHES[0].hex(), 0, 1, [], ROOTS[1]), "bad_hash_length"),
        (lambda: verify_inclusion(LEAF_HASHES[0], 0, 1, [], None), "bad_hash_length"),
        (lambda: root_from_inclusion_proof(LEAF_HASHES[0], 0, 2, [b""]), "bad_hash_length"),
        (lambda: root_from_inclusion_proof(LEAF_HASHES[0], 0, 2, []), "wrong_proof_length"),
        (lambda: verify_consistency(-1, 8, EMPTY_ROOT, ROOTS[8], []), "size_out_of_range"),
        (lambda: verify_consistency(1, 1 << 64, ROOTS[1], ROOTS[8], []), "size_out_of_range"),
        (lambda: verify_consistency(1, 2, ROOTS[1], ROOTS[2].hex(), [LEAF_HASHES[1]]), "bad_hash_length"),
    ],
)
def test_verification_rejects_bad_input(call, reason):
    with pytest.raises(VerificationFailed) as err:
        call()
    assert err.value.reason == reason
    assert err.value.hint


def test_exact_length_is_checked_before_hashing(monkeypatch):
    import ledger.proof

    def no_hashing(*_):
        raise AssertionError("hashed before the length check")

    monkeypatch.setattr(ledger.proof, "node_hash", no_hashing)
    with pytest.raises(VerificationFailed, match="expected 3"):
        verify_inclusion(LEAF_HASHES[0], 0, 8, [LEAF_HASHES[1]] * 4, ROOTS[8])
    with pytest.raises(VerificationFailed, match="expected 3"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [LEAF_HASHES[1]] * 2)


# --- assembly from a node store -----------------------------------------------------------------


def test_plan_node_ids_lists_each_node_once():
    plan = [[(1, 2), (0, 6)], [(2, 0)], [(1, 2)]]
    assert plan_node_ids(plan) == [(1, 2), (0, 6), (2, 0)]


def test_every_proof_reads_each_node_once():
    reads = []

    def counting_reader(level, index):
        reads.append((level, index))
        return NODES[(level, index)]

    for size in range(1, 9):
        for index in range(size):
            reads.clear()
            proof = inclusion_proof(index, size, counting_reader)
            assert len(reads) == len(set(reads)) >= len(proof)


def test_assemble_reports_a_missing_node_as_corruption():
    plan = inclusion_plan(0, 8)
    nodes = {node: NODES[node] for node in plan_node_ids(plan)}
    del nodes[(2, 1)]
    with pytest.raises(CorruptionError) as err:
        assemble(plan, nodes)
    assert err.value.reason == "missing_node"
    assert "level 2, index 1" in err.value.message


def test_assemble_reports_a_short_stored_node_as_corruption():
    plan = inclusion_plan(0, 8)
    nodes = {node: NODES[node] for node in plan_node_ids(plan)}
    nodes[(0, 1)] = nodes[(0, 1)][:16]
    with pytest.raises(CorruptionError) as err:
        assemble(plan, nodes)
    assert err.value.reason == "bad_hash_length"


def test_plans_for_the_seven_leaf_tree():
    # RFC 9162 §2.1.5's example tree: the right edge (X = leaves 4..6) is two stored nodes.
    assert inclusion_plan(0, 7) == [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]
    assert inclusion_plan(6, 7) == [[(1, 2)], [(2, 0)]]
    assert consistency_plan(3, 7) == [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]
    assert consistency_plan(4, 7) == [[(1, 2), (0, 6)]]
    assert root_plan(7) == perfect_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]


# --- differential test against merkletools 1.0.3 ------------------------------------------------
#
# merkletools builds its tree level by level: pair neighbours left to right, and
# promote a lone last node unchanged to the next level. Node i of level l then
# covers leaves [i*2^l, min((i+1)*2^l, n)), which is exactly how RFC 9162 MTH
# splits (left part = the largest power of two < n), so for EVERY size the shapes
# agree and only the hashing differs: merkletools uses H(left || right) and takes
# the leaves as given. Feeding it our leaf hashes and a node hash with the 0x01
# prefix makes its roots and audit paths equal to RFC 9162 ones.


class RFC9162MerkleTools(MerkleTools):
    """merkletools with RFC 9162 interior nodes: H(0x01 || left || right)."""

    def __init__(self):
        super().__init__("sha256")
        self.hash_function = lambda data: hashlib.sha256(b"\x01" + bytes(data))


def _merkletools_tree(leaf_hashes):
    tree = RFC9162MerkleTools()
    tree.add_leaf([h.hex() for h in leaf_hashes])
    tree.make_tree()
    return tree


DIFF_LEAVES = [leaf_hash(b"differential %d" % i) for i in range(300)]
DIFF_NODES, DIFF_GET_NODE = _store(DIFF_LEAVES)


def test_merkletools_roots_equal_ours_for_every_size_up_to_300():
    frontier = Frontier()
    for size in range(1, 301):
        frontier.append(DIFF_LEAVES[size - 1])
        theirs = _merkletools_tree(DIFF_LEAVES[:size]).get_merkle_root()
        assert theirs == frontier.root().hex() == root_at(size, DIFF_GET_NODE).hex(), size
    assert root_from_leaf_hashes(DIFF_LEAVES) == frontier.root()


@pytest.mark.parametrize("size", [*range(1, 70), 127, 128, 129, 255, 299, 300])
def test_merkletools_inclusion_paths_equal_ours(size):
    tree = _merkletools_tree(DIFF_LEAVES[:size])
    root = tree.get_merkle_root()
    for index in range(size):
        theirs = tree.get_proof(index)
        ours = inclusion_proof(index, size, DIFF_GET_NODE)
        # Same hashes in the same (leaf to root) order ...
        assert [next(iter(step.values())) for step in theirs] == _hex(ours)
        # ... on the same sides: a sibling is on the left iff it starts before the leaf.
        sides = ["left" if e[0][1] << e[0][0] < index else "right" for e in inclusion_plan(index, size)]
        assert [next(iter(step)) for step in theirs] == sides
        # Each verifier accepts the other's proof.
        their_hashes = _bytes(next(iter(step.values())) for step in theirs)
        verify_inclusion(DIFF_LEAVES[index], index, size, their_hashes, bytes.fromhex(root))
        annotated = [{side: h.hex()} for side, h in zip(sides, ours)]
        assert tree.validate_proof(annotated, DIFF_LEAVES[index].hex(), root)
