"""The append-only log: admission of signed entries, the Merkle tree over them, checkpoints, proofs.

A ``Log`` wraps a :class:`~ledger.store.Store`. Writers keep the tree's right edge (a
:class:`~ledger.merkle.Frontier`, O(log n) hashes) in memory, so appending costs amortised O(1) hash
computations and no tree rebuild; every proof or historical root reads O(log n) stored nodes.

Admission (specs/entry.md): size and canonical encoding, the entry is bound to this log's origin,
duplicates return the existing index (idempotent), signatures verify, each signer's sequence number
strictly increases, times never decrease and are not ahead of the log's clock by more than
``max_skew`` seconds. The clock is injectable so that tests and simulations run on a given time.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import checkpoint as checkpoints
from . import merkle, proof
from .bundle import ConsistencyFile, TlogProof, format_bundle, format_consistency_file
from .admission import Checked, checked_stream
from .entry import Entry, decode_entry
from .errors import BadKey, CorruptionError, EntryRejected, InvalidInput, PactlogError, VerificationFailed
from .note import Signer, parse_vkey
from .store import STRIPE, STRIPE_BYTES, Store, hash_prefix, node_from_stripes

DEFAULT_MAX_SKEW = 300  # seconds an entry's time may run ahead of the log's clock
DEFAULT_BATCH = 1000  # entries per transaction in bulk appends
STRIPE_CACHE_LIMIT = 4096  # stripes kept for proofs (at most 8 MiB)
STRIPE_CACHE_MIN_LEVEL = 6  # stripes of lower levels are read each time they are needed

Clock = Callable[[], float]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Appended:
    """The outcome of submitting one entry."""

    index: int
    leaf_hash: bytes
    new: bool  # False: the same entry was already logged at ``index``

    @property
    def hash_hex(self) -> str:
        return self.leaf_hash.hex()


class Log:
    """An open pactlog log. Use :meth:`create` or :meth:`open`; close it (or use ``with``)."""

    def __init__(self, store: Store, *, clock: Clock | None = None, max_skew: int = DEFAULT_MAX_SKEW):
        self.store = store
        self.origin = store.origin
        self.verifier = parse_vkey(store.log_vkey)
        self.clock = clock or _time.time
        self.max_skew = max_skew
        # The tree as of opening: a reader keeps seeing this size while a writer elsewhere appends.
        size = store.size()
        plan = proof.root_plan(size)
        right_edge = store.nodes(plan)
        self._frontier = merkle.Frontier(size, [right_edge[node] for node in plan])
        self._last_time: int | None = None  # read on the first append: readers never need it
        self._edge: dict[int, tuple[int, bytes]] | None = None  # growing stripes; read on the first append
        self._seq_cache: dict[str, int | None] = {}
        # Stripes read for proofs and roots. A full stripe never changes and a growing one only
        # grows, so a cached copy stays right for every node it holds; a node beyond it is re-read.
        self._stripe_cache: dict[tuple[int, int], bytes] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str, signer: Signer, **kwargs) -> "Log":
        """Create an empty log whose origin is the log key's name (C2SP: key name = origin)."""
        checkpoints.Checkpoint(signer.name, 0, merkle.EMPTY_ROOT)  # validates the origin
        store = Store.create(path, origin=signer.name, log_vkey=signer.vkey)
        return cls(store, **kwargs)

    @classmethod
    def open(cls, path: str, *, write: bool = False, **kwargs) -> "Log":
        store = Store.open(path, write=write)
        try:
            return cls(store, **kwargs)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Log":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._frontier.size

    def root(self, size: int | None = None) -> bytes:
        """The tree head at ``size`` (default: now), from O(log n) stored nodes."""
        if size is None or size == self.size:
            return self._frontier.root()
        self._check_size(size)
        plan = proof.root_plan(size)
        nodes = self._nodes(plan)
        return merkle.fold_right([nodes[n] for n in plan]) if plan else merkle.EMPTY_ROOT

    def _nodes(self, ids: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored nodes, through the stripe cache: O(log n) of them cost at most two queries."""
        cache = self._stripe_cache
        found: dict[tuple[int, int], bytes] = {}
        missing = []
        for node in ids:
            level, index = node
            blob = cache.get((level, index // STRIPE))
            offset = (index % STRIPE) * merkle.HASH_SIZE
            if blob is not None and len(blob) >= offset + merkle.HASH_SIZE:
                found[node] = blob[offset : offset + merkle.HASH_SIZE]
            else:
                missing.append(node)
        if missing:
            blobs = self.store.stripes((level, index // STRIPE) for level, index in missing)
            # Keep only the upper levels: every proof shares them, while a low-level stripe is
            # rarely asked for twice. 4,096 upper stripes cover a tree of about 8 million entries.
            upper = {key: blob for key, blob in blobs.items() if key[0] >= STRIPE_CACHE_MIN_LEVEL}
            if len(cache) + len(upper) > STRIPE_CACHE_LIMIT:
                cache.clear()
            cache.update(upper)
            for node in missing:
                found[node] = node_from_stripes(blobs, node)
        return found

    def entry_bytes(self, index: int) -> bytes:
        self._check_index(index, self.size)
        return self.store.entry(index)

    def entry(self, index: int) -> Entry:
        return decode_entry(self.entry_bytes(index))

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        return self.store.entries(start, self.size if end is None else min(end, self.size))

    def find(self, leaf_hash: bytes) -> int | None:
        """The index of the entry with this leaf hash, or None."""
        for index in self.store.indexes_with_hash_prefix(hash_prefix(leaf_hash)):
            if index < self.size and self._nodes([(0, index)])[(0, index)] == leaf_hash:
                return index
        return None

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        self._check_index(index, size)
        plan = proof.inclusion_plan(index, size)
        return proof.assemble(plan, self._nodes(n for group in plan for n in group))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        self._check_size(new)
        if not 0 <= old <= new:
            raise InvalidInput(
                f"cannot prove consistency from size {old} to size {new}",
                hint="the old size must be between 0 and the new size", reason="bad_sizes",
            )
        plan = proof.consistency_plan(old, new)
        return proof.assemble(plan, self._nodes(n for group in plan for n in group))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise InvalidInput(
                f"tree size {size} is beyond the log's size {self.size}",
                hint="ask for a size between 0 and the current size", reason="size_out_of_range",
            )

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise InvalidInput(
                f"index {index} is not in a tree of size {size}",
                hint=f"indexes run from 0 to {size - 1}" if size else "the tree is empty",
                reason="index_out_of_range",
            )

    # -- appending ----------------------------------------------------------------------------

    def append(self, data: bytes) -> Appended:
        """Admit one entry and commit it durably before returning."""
        return self.append_many([data])[0]

    def append_many(
        self, datas: Iterable[bytes], *, batch_size: int = DEFAULT_BATCH, progress: Progress | None = None,
        workers: int | None = None,
    ) -> list[Appended]:
        """Admit entries in order (see :meth:`append_stream`) and return every outcome.

        A rejected entry raises; ``exc.appended`` lists the outcomes of the batches committed before it."""
        results: list[Appended] = []
        try:
            for result in self.append_stream(datas, batch_size=batch_size, progress=progress, workers=workers):
                results.append(result)
        except PactlogError as exc:
            exc.appended = results  # type: ignore[attr-defined]
            raise
        return results

    def append_stream(
        self, datas: Iterable[bytes], *, batch_size: int = DEFAULT_BATCH, progress: Progress | None = None,
        workers: int | None = None,
    ) -> Iterator[Appended]:
        """Admit entries in order, committing every ``batch_size`` entries, and yield each outcome once
        its batch is committed (durable). Memory stays constant however many entries stream through.

        A rejected entry raises :class:`EntryRejected` (or :class:`MalformedError`) naming its position
        in the submission; its batch is rolled back and earlier batches stay committed. Large
        submissions check signatures in ``workers`` processes (default: one per core; see
        :mod:`ledger.admission`); the outcome is the same as checking them one by one."""
        batch = _Batch(self)
        done = 0
        for position, (data, checked) in enumerate(checked_stream(datas, self.origin, workers=workers), start=1):
            try:
                batch.admit(data, checked)
            except PactlogError as exc:
                exc.message = f"entry #{position} of this submission: {exc.message}"
                raise
            if batch.pending >= batch_size:
                self._commit(batch)
                done += len(batch.results)
                yield from batch.results
                if progress:
                    progress(done)
                batch = _Batch(self)
        if batch.results:
            self._commit(batch)
            done += len(batch.results)
            yield from batch.results
            if progress:
                progress(done)

    def _logged_time(self) -> int:
        """The time of the last logged entry (entries must not go back in time)."""
        if self._last_time is None:
            if self.size == 0:
                self._last_time = 0
            else:
                try:
                    self._last_time = decode_entry(self.store.entry(self.size - 1)).statement.time
                except PactlogError as exc:
                    raise CorruptionError(
                        f"the last logged entry ({self.size - 1}) no longer decodes: {exc.message}",
                        hint="run `pactlog audit`", reason="corrupted_entry",
                    ) from exc
        return self._last_time

    def _last_seq(self, signer: str) -> int | None:
        """A signer's last admitted sequence number (cached: only this writer changes them)."""
        if signer not in self._seq_cache:
            self._seq_cache[signer] = self.store.last_seq(signer)
        return self._seq_cache[signer]

    def _commit(self, batch: "_Batch") -> None:
        if not batch.rows:  # only duplicates: nothing to write
            return
        self.store.write_batch(batch.rows, batch.full_stripes, {level: batch.edge[level] for level in batch.edge_changed},
                               batch.seqs)
        self._seq_cache.update(batch.seqs)
        self._frontier = batch.frontier
        self._last_time = batch.last_time
        self._edge = batch.edge

    def _growing_stripes(self) -> dict[int, tuple[int, bytes]]:
        if self._edge is None:
            self._edge = self.store.edge()
        return self._edge

    # -- checkpoints --------------------------------------------------------------------------

    def sign_checkpoint(self, signer: Signer) -> bytes:
        """Sign a checkpoint of the current tree, after checking that it extends the last one.

        The log never signs two inconsistent checkpoints: the newest stored checkpoint must be
        reproduced by the stored tree, and a consistency proof from it must verify."""
        if signer.vkey != self.store.log_vkey:
            raise BadKey(
                f"the key {signer.vkey} is not this log's key",
                hint=f"sign checkpoints with the key of {self.store.log_vkey}", reason="wrong_log_key",
            )
        size, root = self.size, self._frontier.root()
        latest = self.store.latest_checkpoint()
        if latest is not None:
            old = checkpoints.open_checkpoint(latest[1], [self.verifier], origin=self.origin)[0]
            if old.size == size:
                if old.root != root:
                    raise CorruptionError(
                        f"the stored checkpoint at size {size} does not match the stored tree",
                        hint="run `pactlog audit`", reason="checkpoint_mismatch",
                    )
                return latest[1]
            if old.size > size:
                raise CorruptionError(
                    f"a checkpoint at size {old.size} exists but the log has only {size} entries",
                    hint="entries were removed from the database; run `pactlog audit`", reason="log_truncated",
                )
            try:
                proof.verify_consistency(old.size, size, old.root, root, self.consistency_proof(old.size, size))
            except VerificationFailed as exc:
                raise CorruptionError(
                    f"the tree no longer extends the checkpoint at size {old.size}: {exc.message}",
                    hint="refusing to sign an inconsistent checkpoint; run `pactlog audit`",
                    reason="inconsistent_history",
                ) from exc
        note = checkpoints.sign_checkpoint(checkpoints.Checkpoint(self.origin, size, root), signer)
        self.store.add_checkpoint(size, note)
        return note

    def checkpoint_note(self, size: int | None = None) -> bytes:
        """A stored signed checkpoint: the one at ``size``, or the latest."""
        if size is None:
            latest = self.store.latest_checkpoint()
            if latest is None:
                raise InvalidInput("the log has no signed checkpoint yet", hint="run `pactlog checkpoint`",
                                   reason="no_checkpoint")
            return latest[1]
        note = self.store.checkpoint(size)
        if note is None:
            raise InvalidInput(f"the log never signed a checkpoint at size {size}",
                               hint="list them with `pactlog checkpoint --list`", reason="no_checkpoint")
        return note

    def _open_own_checkpoint(self, note: bytes) -> checkpoints.Checkpoint:
        return checkpoints.open_checkpoint(note, [self.verifier], origin=self.origin)[0]

    # -- offline artefacts --------------------------------------------------------------------

    def bundle(self, indexes: Iterable[int], checkpoint_size: int | None = None) -> bytes:
        """An offline bundle proving each entry against one signed checkpoint (specs/bundle.md)."""
        note = self.checkpoint_note(checkpoint_size)
        cp = self._open_own_checkpoint(note)
        proofs = []
        for index in sorted(set(indexes)):
            if not 0 <= index < cp.size:
                raise InvalidInput(
                    f"entry {index} is not covered by the checkpoint of size {cp.size}",
                    hint="run `pactlog checkpoint` to sign a newer one" if index < self.size
                    else f"indexes run from 0 to {self.size - 1}",
                    reason="index_out_of_range",
                )
            proofs.append(TlogProof(index=index, hashes=tuple(self.inclusion_proof(index, cp.size)),
                                    checkpoint_note=note, extra=self.store.entry(index)))
        if not proofs:
            raise InvalidInput("no entry to prove", hint="name at least one index or entry hash", reason="empty")
        return format_bundle(proofs)

    def consistency_file(self, old_size: int, new_size: int | None = None) -> bytes:
        """A file proving the checkpoint at ``new_size`` (default latest) extends the one at ``old_size``."""
        new_note = self.checkpoint_note(new_size)
        new = self._open_own_checkpoint(new_note)
        old_note = self.checkpoint_note(old_size)
        hashes = self.consistency_proof(old_size, new.size)
        return format_consistency_file(ConsistencyFile(tuple(hashes), old_note, new_note))


class _Batch:
    """Entries admitted but not yet committed, with the tree state they lead to."""

    def __init__(self, log: Log):
        self.log = log
        self.frontier = log._frontier.copy()
        self.last_time = log._logged_time()
        self.rows: list[tuple[int, int, bytes]] = []
        self.full_stripes: dict[tuple[int, int], bytes] = {}
        self.edge = dict(log._growing_stripes())  # level -> (stripe, hashes so far)
        self.edge_changed: set[int] = set()
        self.seqs: dict[str, int] = {}
        self.by_hash: dict[bytes, int] = {}
        self.results: list[Appended] = []

    @property
    def pending(self) -> int:
        return len(self.rows)

    def admit(self, data: bytes, checked: Checked | PactlogError) -> None:
        self.results.append(self._admit(data, checked))

    def _admit(self, data: bytes, checked: Checked | PactlogError) -> Appended:
        """The stateful checks, on an entry whose stateless checks (:mod:`ledger.admission`) ran."""
        log = self.log
        if isinstance(checked, PactlogError):
            if checked.reason == "too_large" or not isinstance(checked, EntryRejected):
                raise checked
            # a rejected signature or origin does not matter if these exact bytes are logged already
            existing = self._existing(merkle.leaf_hash(data))
            if existing is not None:
                return Appended(existing, merkle.leaf_hash(data), new=False)
            raise checked
        leaf = checked.leaf_hash
        existing = self._existing(leaf)
        if existing is not None:
            return Appended(existing, leaf, new=False)
        last = self.seqs.get(checked.signer)
        if last is None:
            last = log._last_seq(checked.signer)
        if last is not None and checked.seq <= last:
            raise EntryRejected(
                f"sequence number {checked.seq} of {_key_name(checked.signer)} is not above its last one ({last})",
                hint=f"sign a new statement with seq > {last}", reason="seq_not_increasing",
            )
        if checked.time < self.last_time:
            raise EntryRejected(
                f"the entry's time {checked.time} is before the last logged time {self.last_time}",
                hint="entries are logged in time order; sign it with a current time", reason="time_regression",
            )
        now = int(log.clock())
        if checked.time > now + log.max_skew:
            raise EntryRejected(
                f"the entry's time {checked.time} is {checked.time - now} s ahead of the log's clock",
                hint=f"at most {log.max_skew} s ahead is accepted; check the signer's clock", reason="time_in_future",
            )
        index = self.frontier.size
        for level, node_index, node in self.frontier.append(leaf):
            self._put_node(level, node_index, node)
        self.rows.append((index, hash_prefix(leaf), data))
        self.by_hash[leaf] = index
        self.seqs[checked.signer] = checked.seq
        self.last_time = checked.time
        return Appended(index, leaf, new=True)

    def _existing(self, leaf: bytes) -> int | None:
        existing = self.by_hash.get(leaf)
        return existing if existing is not None else self.log.find(leaf)

    def _put_node(self, level: int, index: int, node: bytes) -> None:
        """Add a newly completed node to its level's growing stripe; a stripe that fills up moves
        to the full stripes."""
        stripe, slot = divmod(index, STRIPE)
        current, blob = self.edge.get(level, (0, b""))
        if current != stripe or len(blob) != slot * merkle.HASH_SIZE:
            raise CorruptionError(
                f"the stored right edge of tree level {level} (stripe {current}, {len(blob) // merkle.HASH_SIZE} "
                f"hashes) does not continue at node {index}", hint="run `pactlog audit`", reason="edge_mismatch",
            )
        blob += node
        if len(blob) == STRIPE_BYTES:
            self.full_stripes[(level, stripe)] = blob
            self.edge[level] = (stripe + 1, b"")
        else:
            self.edge[level] = (stripe, blob)
        self.edge_changed.add(level)


def _key_name(vkey: str) -> str:
    return vkey.split("+", 1)[0]
