"""Full audit of a stored log: recompute everything from the entry bytes and compare.

The audit streams the entries once (constant memory: O(log n) tree state plus one stripe per level)
and checks, in this order of evidence:

1. every entry decodes, is bound to this log, carries valid signatures, and the admission rules hold
   along the log (each signer's sequence numbers increase, times never decrease);
2. every stored tree node equals the hash recomputed from the entries, and no node is missing or extra;
3. every stored checkpoint is signed by the log key for this origin, its root is the recomputed root at
   its size, and each checkpoint is consistent with the next (a consistency proof from stored nodes
   verifies).

It reports the first corrupted entry index: for a bad node, the first leaf under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import checkpoint as checkpoints
from . import merkle, proof
from .entry import decode_entry, verify_signatures
from .errors import PactlogError
from .log import Log
from .store import STRIPE

MAX_PROBLEMS = 20


@dataclass
class AuditReport:
    size: int
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_index: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def flag(self, index: int | None, message: str) -> None:
        if index is not None and (self.first_bad_index is None or index < self.first_bad_index):
            self.first_bad_index = index
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "size": self.size,
            "checkpoints": self.checkpoints,
            "first_bad_index": self.first_bad_index,
            "problems": self.problems,
        }


def audit(log: Log, *, check_signatures: bool = True, progress: Callable[[int], None] | None = None) -> AuditReport:
    report = AuditReport(size=log.size)
    try:
        _audit(log, report, check_signatures, progress)
    except PactlogError as exc:  # e.g. SQLite reports the file itself is damaged
        report.flag(None, f"{type(exc).__name__}: {exc.message}")
    problems = log.store.integrity_check() if report.ok else []
    for problem in problems[:MAX_PROBLEMS]:
        report.flag(None, f"SQLite integrity check: {problem}")
    return report


def _audit(log: Log, report: AuditReport, check_signatures: bool, progress) -> None:
    stored_checkpoints = list(log.store.checkpoints())  # few: one per signing
    report.checkpoints = len(stored_checkpoints)
    wanted_roots = {size: None for size, _ in stored_checkpoints}
    if 0 in wanted_roots:
        wanted_roots[0] = merkle.EMPTY_ROOT

    nodes = _NodeChecker(log, report)
    frontier = merkle.Frontier()
    last_seq: dict[str, int] = {}
    last_time = 0
    leaves = _StoredLeaves(log)
    for index, data in log.store.entries(0, log.size):
        recomputed = merkle.leaf_hash(data)
        stored = leaves.get(index)
        if stored != recomputed:
            report.flag(index, f"entry {index} does not match its stored leaf hash")
        try:
            entry = decode_entry(data)
            statement = entry.statement
            if statement.log != log.origin:
                report.flag(index, f"entry {index} is bound to another log ({statement.log!r})")
            if check_signatures:
                verify_signatures(entry)
            if statement.seq <= last_seq.get(statement.signer, 0):
                report.flag(index, f"entry {index}: sequence number does not increase for its signer")
            if statement.time < last_time:
                report.flag(index, f"entry {index}: time goes backwards")
            last_seq[statement.signer] = statement.seq
            last_time = statement.time
        except PactlogError as exc:
            report.flag(index, f"entry {index} is invalid: {exc.message}")
        # Build the tree over the *stored* leaf hashes, so that a bad interior node is reported at
        # its own position rather than at every ancestor of a bad entry.
        for level, node_index, node in frontier.append(stored or recomputed):
            if level:
                nodes.check(level, node_index, node)
        if frontier.size in wanted_roots:
            wanted_roots[frontier.size] = frontier.root()
        if progress and frontier.size % 10_000 == 0:
            progress(frontier.size)
    nodes.finish(frontier.size)
    if progress:
        progress(frontier.size)

    for signer, seq in last_seq.items():
        stored = log.store.last_seq(signer)
        if stored != seq:
            report.flag(None, f"the signers table says {stored} for a signer whose last logged seq is {seq}")

    previous = None
    for size, note in stored_checkpoints:
        try:
            cp = checkpoints.open_checkpoint(note, [log.verifier], origin=log.origin)[0]
        except PactlogError as exc:
            report.flag(None, f"checkpoint at size {size}: {exc.message}")
            continue
        if cp.size != size or size > log.size:
            report.flag(None, f"checkpoint stored under size {size} is for size {cp.size} (log size {log.size})")
            continue
        if wanted_roots.get(size) != cp.root:
            report.flag(None, f"checkpoint at size {size} does not match the tree recomputed from the entries")
            continue
        if previous is not None:
            try:
                proof.verify_consistency(previous.size, cp.size, previous.root, cp.root,
                                         log.consistency_proof(previous.size, cp.size))
            except PactlogError as exc:
                report.flag(None, f"checkpoints at sizes {previous.size} and {cp.size} are inconsistent: {exc.message}")
        previous = cp


class _StoredLeaves:
    """The stored level-0 hashes, read one stripe at a time."""

    def __init__(self, log: Log):
        self.store = log.store
        self.stripe_number = -1
        self.stripe = b""

    def get(self, index: int) -> bytes | None:
        number, slot = divmod(index, STRIPE)
        if number != self.stripe_number:
            self.stripe_number, self.stripe = number, self.store.stripe(0, number)
        leaf = self.stripe[slot * 32 : slot * 32 + 32]
        return leaf if len(leaf) == 32 else None


class _NodeChecker:
    """Compares the interior nodes computed from the stored leaves with the stored stripes,
    one stripe per level in memory."""

    def __init__(self, log: Log, report: AuditReport):
        self.store = log.store
        self.report = report
        self.pending: dict[int, tuple[int, list[bytes]]] = {}  # level -> (stripe, recomputed hashes)

    def check(self, level: int, index: int, node: bytes) -> None:
        stripe = index // STRIPE
        current = self.pending.get(level)
        if current is not None and current[0] != stripe:
            self._compare(level, *current)
            current = None
        if current is None:
            current = (stripe, [])
            self.pending[level] = current
        current[1].append(node)

    def finish(self, size: int) -> None:
        for level, (stripe, hashes) in sorted(self.pending.items()):
            self._compare(level, stripe, hashes)
        implied = sum((size >> level) // STRIPE for level in range(size.bit_length()))
        stored = self.store.count_full_stripes()
        if stored != implied:
            self.report.flag(None, f"the database holds {stored} full node stripes, the entries imply {implied}")

    def _compare(self, level: int, stripe: int, hashes: list[bytes]) -> None:
        stored = self.store.stripe(level, stripe)
        expected = b"".join(hashes)
        if stored == expected:
            return
        for slot, node in enumerate(hashes):
            if stored[slot * 32 : slot * 32 + 32] != node:
                index = stripe * STRIPE + slot
                first_leaf = index << level
                self.report.flag(first_leaf, f"stored tree node (level {level}, index {index}) does not match "
                                             f"the entries (first leaf {first_leaf})")
                return
        self.report.flag(stripe * STRIPE << level, f"stored tree level {level} stripe {stripe} has extra bytes")
