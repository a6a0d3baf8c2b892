"""The stateless half of admitting entries to a log, in parallel for bulk submissions.

Admission (specs/entry.md) has checks that need only the entry's bytes — it decodes strictly, it
is bound to this log's origin, its signatures verify — and checks that need the log's state
(duplicates, sequence numbers, time order), which :mod:`ledger.log` makes one entry at a time.
The stateless checks dominate the cost (an Ed25519 verification plus a strict JSON parse per
entry), so a large submission spreads them over worker processes, one per core, while the
writer applies the stateful checks and stores batches in order.

Results keep the submission's order; a failed check travels back as an exception value and is
raised by the writer when it reaches that entry, so the outcome is exactly that of a sequential run.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

from .entry import decode_entry, verify_signatures
from .errors import EntryRejected, PactlogError, VerificationFailed

PARALLEL_MIN_ENTRIES = 2_000  # below this, starting worker processes costs more than it saves
CHUNK = 500  # entries per task sent to a worker


@dataclass(frozen=True, slots=True)
class Checked:
    """What the writer needs of an entry that passed the stateless checks."""

    leaf_hash: bytes
    signer: str
    seq: int
    time: int


def check_entry(data: bytes, origin: str) -> Checked:
    """Decode ``data`` strictly, check it is for ``origin`` and that every signature verifies."""
    entry = decode_entry(data)
    statement = entry.statement
    if statement.log != origin:
        raise EntryRejected(
            f"the entry is for the log {statement.log!r}, not {origin!r}",
            hint="sign it again for this log's origin", reason="wrong_log",
        )
    try:
        verify_signatures(entry)
    except VerificationFailed as exc:
        raise EntryRejected(exc.message, hint=exc.hint, reason=exc.reason) from exc
    return Checked(entry.leaf_hash, statement.signer, statement.seq, statement.time)


def _error_parts(exc: PactlogError) -> tuple:
    return (type(exc), exc.message, exc.hint, exc.reason)


def _check_chunk(datas: list[bytes], origin: str) -> list:
    """Worker task: Checked or the parts of the error, per entry (exceptions with keyword
    arguments do not survive pickling, so errors travel as tuples)."""
    results = []
    for data in datas:
        try:
            results.append(check_entry(data, origin))
        except PactlogError as exc:
            results.append(_error_parts(exc))
    return results


def _as_outcome(result) -> Checked | PactlogError:
    if isinstance(result, Checked):
        return result
    cls, message, hint, reason = result
    return cls(message, hint=hint, reason=reason)


def checked_stream(
    datas: Iterable[bytes], origin: str, *, workers: int | None = None
) -> Iterator[tuple[bytes, Checked | PactlogError]]:
    """Each submitted entry with the outcome of its stateless checks, in submission order.

    Runs in this process until the submission proves large (PARALLEL_MIN_ENTRIES), then in a pool
    of ``workers`` processes (default: one per core) with a few chunks in flight."""
    source = iter(datas)
    head = list(islice(source, PARALLEL_MIN_ENTRIES))
    if len(head) == PARALLEL_MIN_ENTRIES and workers is None:
        workers = os.cpu_count() or 1
    if len(head) < PARALLEL_MIN_ENTRIES or workers < 2:
        for data in head:
            yield data, _checked_here(data, origin)
        if len(head) < PARALLEL_MIN_ENTRIES:
            return
        for data in source:
            yield data, _checked_here(data, origin)
        return
    yield from _checked_in_pool(head, source, origin, workers)


def _checked_here(data: bytes, origin: str) -> Checked | PactlogError:
    try:
        return check_entry(data, origin)
    except PactlogError as exc:
        return exc


def _checked_in_pool(head: list[bytes], source: Iterator[bytes], origin: str, workers: int):
    # fork where there is fork: a spawned worker would re-import the caller's main module (a script
    # without a __main__ guard would run again). The forked workers run only the pure checks above
    # and leave through os._exit, so they never touch the parent's SQLite connection.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    chunks = _chunks(head, source)
    in_flight: deque[tuple[list[bytes], Future]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for chunk in islice(chunks, workers * 2):
            in_flight.append((chunk, pool.submit(_check_chunk, chunk, origin)))
        while in_flight:
            chunk, future = in_flight.popleft()
            following = next(chunks, None)
            if following is not None:
                in_flight.append((following, pool.submit(_check_chunk, following, origin)))
            for data, result in zip(chunk, future.result()):
                yield data, _as_outcome(result)


def _chunks(head: list[bytes], source: Iterator[bytes]) -> Iterator[list[bytes]]:
    for start in range(0, len(head), CHUNK):
        yield head[start : start + CHUNK]
    while chunk := list(islice(source, CHUNK)):
        yield chunk
