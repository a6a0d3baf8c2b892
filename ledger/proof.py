"""RFC 9162 inclusion and consistency proofs: generation over stored nodes, and verification.

Generation is split in two so that storage can fetch every node a proof needs in
one query (O(log n) reads):

* a *plan* says, per proof hash, which stored perfect-subtree nodes ``(level, index)``
  make it up (pure arithmetic on sizes; see ledger.merkle for the addressing). A
  proof hash is either one complete node or, on the unbalanced right edge of the
  tree, the ``fold_right`` of several;
* ``assemble`` turns a plan plus the fetched nodes into the list of proof hashes.

The plans walk the tree bottom-up like transparency-dev/merkle's ``proof.Inclusion``
and ``proof.Consistency``, and produce exactly RFC 9162 §2.1.3.1 PATH and §2.1.4.1
PROOF (leaf-to-root order). Verification is the literal pseudocode of §2.1.3.2 and
§2.1.4.2, preceded by the input checks decided in specs/merkle.md (hash lengths,
ranges and the exact proof length are checked before any hashing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from ledger.errors import CorruptionError, InvalidInput, VerificationFailed
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, NodeId, fold_right, node_hash, perfect_subtrees

_NODE_PREFIX = b"\x01"  # RFC 9162 §2.1.1: HASH(0x01 || left || right), as in merkle.node_hash
_HASH_TYPES = {bytes, bytearray}  # what _check_hash accepts (exact types: subclasses take the long way)

Plan = list[list[NodeId]]
NodeReader = Callable[[int, int], bytes]

# Tree sizes and indices are uint64 on every wire format (RFC 9162 §4.11/4.12, C2SP).
MAX_SIZE = (1 << 64) - 1


# --- plans: which stored nodes make up each proof hash ---------------------------------------


def inclusion_plan(index: int, size: int) -> Plan:
    """Node ids for PATH(index, D_size), one entry per proof hash, leaf to root."""
    _check_size(size, "tree size", InvalidInput)
    if not 0 <= index < size:
        raise InvalidInput(
            f"leaf index {index} is not in a tree of size {size}",
            hint="ask for a proof of an index below the tree size",
            reason="index_out_of_range",
        )
    return _path_plan(0, index, size)


def consistency_plan(old: int, new: int) -> Plan:
    """Node ids for PROOF(old, D_new), leaf to root; empty when old == 0 or old == new."""
    _check_size(old, "old tree size", InvalidInput)
    _check_size(new, "new tree size", InvalidInput)
    if old > new:
        raise InvalidInput(
            f"old tree size {old} is larger than new tree size {new}",
            hint="a consistency proof goes from a smaller tree to a larger one",
            reason="old_size_after_new",
        )
    if old == 0 or old == new:
        return []
    # The old tree's rightmost perfect subtree ends at `old`; its root plus the path
    # from it to the new root is the proof. When `old` is a power of two that node is
    # the old root itself, which the verifier already has, so it is left out.
    level = (old & -old).bit_length() - 1
    index = (old - 1) >> level
    path = _path_plan(level, index, new)
    return path if index == 0 else [[(level, index)], *path]


def root_plan(size: int) -> list[NodeId]:
    """Node ids whose fold_right is the root of the tree of ``size`` leaves."""
    _check_size(size, "tree size", InvalidInput)
    return perfect_subtrees(0, size)


def _path_plan(level: int, index: int, size: int) -> Plan:
    """Siblings on the path from complete node (level, index) to the root of a tree of ``size``.

    Below ``inner`` (the highest bit where the node's position and the last leaf's
    position differ) every ancestor has a sibling; a right-hand sibling may reach
    past the end of the tree and is then split into its perfect subtrees. Above
    ``inner`` the node is on the right edge: it has a (complete) left sibling where
    its position bit is 1 and is promoted unchanged where it is 0.
    """
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    plan: Plan = []
    for i in range(inner):
        sibling = (index >> i) ^ 1
        lvl = level + i
        begin = sibling << lvl
        if begin + (1 << lvl) <= size:
            plan.append([(lvl, sibling)])
        else:
            plan.append(perfect_subtrees(begin, size))
    for i in range(inner, index.bit_length()):
        if (index >> i) & 1:
            plan.append([(level + i, (index >> i) ^ 1)])
    return plan


def plan_node_ids(plan: Plan) -> list[NodeId]:
    """Every node id a plan needs, once each, in first-use order (for a single fetch)."""
    return list(dict.fromkeys(node for entry in plan for node in entry))


def assemble(plan: Plan, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Proof hashes for ``plan`` from fetched nodes: fold_right of each entry."""
    proof = []
    for entry in plan:
        hashes = []
        for node in entry:
            h = nodes.get(node)
            if h is None:
                raise CorruptionError(
                    f"node (level {node[0]}, index {node[1]}) needed for the proof is missing",
                    hint="the node store lacks a node that a tree of this size must hold; run an audit",
                    reason="missing_node",
                )
            if len(h) != HASH_SIZE:
                raise CorruptionError(
                    f"stored node (level {node[0]}, index {node[1]}) is {len(h)} bytes, not {HASH_SIZE}",
                    hint="the node store is damaged; run an audit",
                    reason="bad_hash_length",
                )
            hashes.append(h)
        proof.append(fold_right(hashes))
    return proof


# --- convenience: plan + fetch + assemble -----------------------------------------------------


def _fetch(ids: Sequence[NodeId], get_node: NodeReader) -> dict[NodeId, bytes]:
    return {node: get_node(*node) for node in ids}


def inclusion_proof(index: int, size: int, get_node: NodeReader) -> list[bytes]:
    """PATH(index, D_size) read through ``get_node(level, index)``."""
    plan = inclusion_plan(index, size)
    return assemble(plan, _fetch(plan_node_ids(plan), get_node))


def consistency_proof(old: int, new: int, get_node: NodeReader) -> list[bytes]:
    """PROOF(old, D_new) read through ``get_node(level, index)``."""
    plan = consistency_plan(old, new)
    return assemble(plan, _fetch(plan_node_ids(plan), get_node))


def root_at(size: int, get_node: NodeReader) -> bytes:
    """MTH of the first ``size`` leaves read through ``get_node`` (EMPTY_ROOT for 0)."""
    ids = root_plan(size)
    return assemble([ids], _fetch(ids, get_node))[0] if ids else EMPTY_ROOT


# --- expected lengths -------------------------------------------------------------------------


def expected_inclusion_length(index: int, size: int) -> int:
    """Number of hashes in PATH(index, D_size); needs 0 <= index < size."""
    if not 0 <= index < size:
        raise InvalidInput(
            f"leaf index {index} is not in a tree of size {size}",
            hint="need 0 <= index < size",
            reason="index_out_of_range",
        )
    return _path_length(index, size - 1)


def expected_consistency_length(old: int, new: int) -> int:
    """Number of hashes in PROOF(old, D_new); 0 when old == 0 or old == new (decided)."""
    if not 0 <= old <= new:
        raise InvalidInput(
            f"no consistency proof from size {old} to size {new}",
            hint="need 0 <= old <= new",
            reason="old_size_after_new" if old > new else "size_out_of_range",
        )
    if old == 0 or old == new:
        return 0
    level = (old & -old).bit_length() - 1
    index = (old - 1) >> level
    return _path_length(index, (new - 1) >> level) + (index != 0)


def _path_length(index: int, last: int) -> int:
    inner = (index ^ last).bit_length()
    return inner + (index >> inner).bit_count()


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) -----------------------------------------------


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (§2.1.3.2 steps 1-4), after the input checks."""
    _check_size(size, "tree size", VerificationFailed)
    _check_leaf_index(index, size)
    _check_hash(leaf_hash, "leaf hash")
    _check_proof(proof, _path_length(index, size - 1))  # expected_inclusion_length, range checked
    return _inclusion_root(leaf_hash, index, size, proof)


def _check_leaf_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise VerificationFailed(
            f"leaf index {index} is not in a tree of size {size}",
            hint="the proof claims a leaf the tree does not have; use a checkpoint that covers it",
            reason="index_out_of_range",
        )


def _inclusion_root(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """root_from_inclusion_proof once its checks have passed."""
    # Literal RFC 9162 §2.1.3.2, with HASH(0x01 || a || b) (merkle.node_hash) written out: this is
    # the hot loop of offline verification, where a Python call costs half as much as the hash.
    sha256 = hashlib.sha256
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # unreachable after the length check; kept as in the RFC
            raise _wrong_length(len(proof), None)
        if fn & 1 or fn == sn:
            r = sha256(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check
        raise _wrong_length(len(proof), None)
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises VerificationFailed. Note: the proof binds the root, not the size; take
    ``size`` and ``root`` together from one verified checkpoint.
    """
    _check_hash(root, "root hash")
    if root_from_inclusion_proof(leaf_hash, index, size, proof) != root:
        raise _not_included(index, size)


def verify_parsed_inclusion(leaf_hash: bytes, index: int, size: int, proof: tuple[bytes, ...], root: bytes) -> None:
    """:func:`verify_inclusion` of a proof that ledger.bundle parsed, against a checkpoint that
    ledger.checkpoint parsed (ledger.verify, for each entry of a bundle).

    Those parsers only produce what the input checks of verify_inclusion accept: sizes and
    indices in the uint64 range, roots and proof hashes that are bytes of 32 (a leaf hash is a
    SHA-256 digest). What remains to check is what a proof can get wrong: the index within the
    size and the proof's length, then the root it leads to."""
    _check_leaf_index(index, size)
    expected = _path_length(index, size - 1)
    if len(proof) != expected:
        raise _wrong_length(len(proof), expected)
    if _inclusion_root(leaf_hash, index, size, proof) != root:
        raise _not_included(index, size)


def _not_included(index: int, size: int) -> VerificationFailed:
    return VerificationFailed(
        f"inclusion proof for leaf {index} does not lead to the root of the tree of size {size}",
        hint="the leaf is not in this tree or the proof is damaged; fetch a fresh proof",
        reason="root_mismatch",
    )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    RFC 9162 §2.1.4.2 for 0 < old_size < new_size; the decided edge cases are:
    old_size > new_size fails; old_size == 0 needs an empty proof and
    old_root == EMPTY_ROOT (any tree extends the empty tree); old_size == new_size
    needs an empty proof and equal roots. Raises VerificationFailed.
    """
    _check_size(old_size, "old tree size", VerificationFailed)
    _check_size(new_size, "new tree size", VerificationFailed)
    if old_size > new_size:
        raise VerificationFailed(
            f"old tree size {old_size} is larger than new tree size {new_size}",
            hint="the log would have shrunk: keep both checkpoints as evidence",
            reason="old_size_after_new",
        )
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_proof(proof, expected_consistency_length(old_size, new_size))
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise _root_mismatch("the root of the empty tree must be SHA-256 of the empty string")
    if old_size == new_size:
        if old_root != new_root:
            raise _root_mismatch(
                f"two different roots for the same tree size {old_size}",
                hint="the log shows a split view: keep both checkpoints as evidence",
            )
        return
    if old_size == 0:
        return  # every tree extends the empty tree
    # Literal RFC 9162 §2.1.4.2 (precondition 0 < old_size < new_size holds here).
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept as in the RFC
            raise _wrong_length(len(proof), None)
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check
        raise _wrong_length(len(proof), None)
    if fr != old_root:
        raise _root_mismatch(f"the proof does not lead to the old root (tree size {old_size})")
    if sr != new_root:
        raise _root_mismatch(f"the proof does not lead to the new root (tree size {new_size})")


# --- input checks -----------------------------------------------------------------------------


def _check_size(size: int, what: str, error: type[InvalidInput] | type[VerificationFailed]) -> None:
    if not 0 <= size <= MAX_SIZE:
        raise error(
            f"{what} {size} is outside 0..2^64-1",
            hint="tree sizes are unsigned 64-bit counts of leaves",
            reason="size_out_of_range",
        )


def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        got = f"{len(h)} bytes" if isinstance(h, (bytes, bytearray)) else type(h).__name__
        raise VerificationFailed(
            f"{what} must be {HASH_SIZE} bytes, got {got}",
            hint="pass raw SHA-256 digests, not hex or base64 text",
            reason="bad_hash_length",
        )


def _check_proof(proof: Sequence[bytes], expected: int) -> None:
    if len(proof) != expected:
        raise _wrong_length(len(proof), expected)
    # The common case in two C loops (types first: len() of anything); else name the first bad hash.
    if not (set(map(type, proof)) <= _HASH_TYPES and set(map(len, proof)) <= {HASH_SIZE}):
        for i, h in enumerate(proof):
            _check_hash(h, f"proof hash {i}")


def _wrong_length(got: int, expected: int | None) -> VerificationFailed:
    wanted = f", expected {expected}" if expected is not None else ""
    return VerificationFailed(
        f"proof has {got} hashes{wanted}",
        hint="the proof does not belong to these tree sizes; fetch a proof for exactly these sizes",
        reason="wrong_proof_length",
    )


def _root_mismatch(message: str, hint: str | None = None) -> VerificationFailed:
    return VerificationFailed(
        message,
        hint=hint or "the trees are not consistent or the proof is damaged; fetch a fresh proof",
        reason="root_mismatch",
    )
