"""RFC 9162 §2.1 Merkle tree hashing and tree shape (SHA-256), without proofs.

Hashes (RFC 9162 §2.1.1, identical to RFC 6962 §2.1):

    MTH({})    = SHA-256()                         EMPTY_ROOT
    leaf hash  = SHA-256(0x00 || data)             leaf_hash
    node hash  = SHA-256(0x01 || left || right)    node_hash
    MTH(D_n)   = node_hash(MTH(D[0:k]), MTH(D[k:n])), k = split_point(n)

The distinct 0x00/0x01 prefixes give second-preimage resistance: a leaf can never
be presented as an interior node or the other way round.

Node addressing used across pactlog (the storage layer depends on it): node
``(level, index)`` is the hash of the *perfect* subtree covering leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf hashes. Only
complete perfect subtrees have an address. The hash of a partial subtree on the
right edge of a tree (RFC 9162 allows an unbalanced right edge) is never stored:
it is recomputed as ``fold_right`` of the perfect subtrees that make it up.

See specs/merkle.md for the byte-level description and the vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ledger.errors import InvalidInput, MalformedError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

NodeId = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry, i.e. node (0, index)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``): RFC 9162's ``k``."""
    if n < 2:
        raise InvalidInput(
            f"split_point needs n >= 2, got {n}",
            hint="a tree of 0 or 1 leaves has no split",
            reason="size_out_of_range",
        )
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(begin: int, end: int) -> list[NodeId]:
    """Split the leaf range ``[begin, end)`` into perfect subtrees, left to right, as MTH does.

    Accepted ranges are exactly the subtrees that occur in RFC 9162's MTH, PATH and
    PROOF: ``0 <= begin <= end`` and ``begin`` a multiple of the smallest power of
    two that is ``>= end - begin``. For ``begin == 0`` that is any ``end`` and the
    result is the binary decomposition of ``end`` (largest subtree first); the empty
    range gives ``[]``. MTH of such a range splits off the largest power of two that
    fits, and the remainder is again such a range, so the subtrees come out in
    strictly decreasing size.
    """
    if begin < 0 or end < begin:
        raise InvalidInput(
            f"leaf range [{begin}, {end}) is not a range",
            hint="need 0 <= begin <= end",
            reason="not_a_subtree",
        )
    width = end - begin
    if width and begin % (1 << (width - 1).bit_length()):
        raise InvalidInput(
            f"leaf range [{begin}, {end}) is not a subtree of any RFC 9162 tree",
            hint="begin must be a multiple of the smallest power of two >= end - begin",
            reason="not_a_subtree",
        )
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree roots, left to right, into H(h0, H(h1, H(h2, ...))).

    Given the roots of ``perfect_subtrees(begin, end)`` this is MTH(D[begin:end]),
    because MTH always splits off its largest (leftmost) perfect subtree first. The
    empty list folds to EMPTY_ROOT, the hash of the empty tree.
    """
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        acc = node_hash(hashes[i], acc)
    return acc


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes by the literal recursive definition of RFC 9162 §2.1.1.

    The reference implementation for tests and audits: it shares no code with
    ``Frontier`` or ``fold_right``. O(n) hashes, recursion depth O(log n).
    """
    _check_hashes(hashes, "leaf hash")

    def mth(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return hashes[lo]
        k = split_point(n)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(hashes)) if hashes else EMPTY_ROOT


class Frontier:
    """The compact range of ``[0, size)``: roots of ``perfect_subtrees(0, size)``.

    This is RFC 9162 §2.1.2's stack of "right-edge" subtree roots: enough to append
    leaves and compute the root without reading older nodes. One root per set bit
    of ``size``, largest (leftmost) first.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()):
        hashes = list(hashes)
        if size < 0:
            raise MalformedError(
                f"frontier size {size} is negative",
                hint="a tree size is a count of leaves, >= 0",
                reason="size_out_of_range",
            )
        expected = size.bit_count()
        if len(hashes) != expected:
            raise MalformedError(
                f"a frontier of size {size} has {expected} subtree roots, got {len(hashes)}",
                hint="pass the roots of perfect_subtrees(0, size), left to right",
                reason="wrong_frontier_length",
            )
        _check_hashes(hashes, "frontier hash")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return every node completed by it as (level, index, hash).

        The first is the leaf itself at (0, old size); then one parent per trailing
        1-bit of the old size (each merge completes a perfect subtree). Amortised
        one node hash per append.
        """
        _check_hashes((leaf,), "leaf hash")
        index = self._size
        acc = bytes(leaf)
        completed = [(0, index, acc)]
        level = 0
        while (index >> level) & 1:
            level += 1
            acc = node_hash(self._hashes.pop(), acc)
            completed.append((level, index >> level, acc))
        self._hashes.append(acc)
        self._size = index + 1
        return completed

    def root(self) -> bytes:
        """MTH of the first ``size`` leaves (EMPTY_ROOT for size 0)."""
        return fold_right(self._hashes)

    def copy(self) -> Frontier:
        clone = Frontier.__new__(Frontier)
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, hashes=[{len(self._hashes)} roots])"


def _check_hashes(hashes: Iterable[bytes], what: str) -> None:
    for h in hashes:
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            got = f"{len(h)} bytes" if isinstance(h, (bytes, bytearray)) else type(h).__name__
            raise MalformedError(
                f"{what} must be {HASH_SIZE} bytes, got {got}",
                hint="pass raw SHA-256 digests, not hex or base64 text",
                reason="bad_hash_length",
            )
