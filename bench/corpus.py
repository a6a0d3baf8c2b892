"""The benchmark's entries: real signed pactlog entries, deterministic, cached on disk.

Entry ``i`` is a COMMIT statement by one of ``SIGNERS`` actors (round robin), with that actor's
next sequence number and a time that advances one second every ten entries, so that any prefix of
the corpus is a valid log and entry ``n`` is a valid next append to a log of ``n`` entries. Ed25519
signing is deterministic, so entry ``i`` is the same bytes in every run and on every machine.

Entries are generated once, in chunks of ``CHUNK`` entries (one file per chunk, written atomically),
under ``<work>/corpus/``; a log of ``n`` entries reads the first ``n`` entries of the chunks. A file
holds length-prefixed records (2-byte big-endian length, then the entry bytes: entries are at most
64 KiB). Reading streams one chunk at a time, so a reader's memory does not grow with ``n``.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from functools import lru_cache

from ledger import entry as entries
from ledger.note import Signer

VERSION = "v1"  # change when the generator changes, so stale caches are not reused
CHUNK = 10_000
SIGNERS = 100  # a coalition-sized cast: labs, monitors, governors
ORIGIN = "bench.example/log"
T0 = 1_767_268_800  # 2026-01-01T12:00:00Z
ENTRIES_PER_SECOND = 10

_LENGTH = struct.Struct(">H")


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"pactlog-bench/" + label.encode()).digest()


@lru_cache(maxsize=None)
def log_signer() -> Signer:
    """The log's key (its name is the origin)."""
    return Signer(ORIGIN, _seed("log"))


@lru_cache(maxsize=None)
def actor(k: int) -> Signer:
    return Signer(f"lab{k:02d}", _seed(f"actor/{k}"))


def clock() -> float:
    """The log's clock: far enough after T0 that no corpus entry is "in the future"."""
    return float(T0 + 10_000_000)


def make_entry(i: int) -> bytes:
    """The ``i``-th entry of the corpus (0-based), about 370 bytes: close to the smallest a real
    entry can be (~345 bytes with an empty body: the signer's verifier key appears twice and the
    base64 signature takes 88 bytes), so "~300 bytes" is met as nearly as real entries allow."""
    signer = actor(i % SIGNERS)
    statement = entries.make_statement(
        log=ORIGIN,
        type="COMMIT",
        signer=signer.vkey,
        seq=i // SIGNERS + 1,
        time=T0 + i // ENTRIES_PER_SECOND,
        body={"c": hashlib.sha256(b"%d" % i).hexdigest()[:16]},
    )
    return entries.sign(statement, [signer]).raw


# -- the chunk cache -------------------------------------------------------------------------------


def corpus_dir(work: str) -> str:
    return os.path.join(work, "corpus")


def chunk_path(work: str, chunk: int) -> str:
    return os.path.join(corpus_dir(work), f"{VERSION}-{chunk:05d}.bin")


def _generate_chunk(args: tuple[str, int]) -> int:
    work, chunk = args
    path = chunk_path(work, chunk)
    if os.path.exists(path):
        return chunk
    out = bytearray()
    for i in range(chunk * CHUNK, (chunk + 1) * CHUNK):
        data = make_entry(i)
        out += _LENGTH.pack(len(data)) + data
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "wb") as f:
        f.write(out)
    os.replace(temp, path)  # a chunk file is complete or absent
    return chunk


def chunks_for(n: int) -> range:
    return range((n + CHUNK - 1) // CHUNK)


def ensure(work: str, n: int, *, workers: int = 1, say: Callable[[str], None] = print) -> None:
    """Generate the chunks the first ``n`` entries need and are not cached yet.

    ``workers`` > 1 signs in that many processes (generation only: nothing is timed meanwhile)."""
    os.makedirs(corpus_dir(work), exist_ok=True)
    missing = [c for c in chunks_for(n) if not os.path.exists(chunk_path(work, c))]
    if not missing:
        return
    say(f"generating {len(missing) * CHUNK:,} signed entries into {corpus_dir(work)} ({workers} process(es))")
    jobs = [(work, c) for c in missing]
    if workers <= 1:
        for done, job in enumerate(jobs, start=1):
            _generate_chunk(job)
            if done % 10 == 0:
                say(f"  {done * CHUNK:,} entries generated")
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for done, _chunk in enumerate(pool.imap_unordered(_generate_chunk, jobs), start=1):
            if done % 10 == 0:
                say(f"  {done * CHUNK:,} entries generated")


def read(work: str, n: int, start: int = 0) -> Iterator[bytes]:
    """Entries ``start`` .. ``n - 1`` from the cache, one chunk in memory at a time."""
    for chunk in chunks_for(n):
        first = chunk * CHUNK
        if first + CHUNK <= start:
            continue
        with open(chunk_path(work, chunk), "rb") as f:
            blob = f.read()
        offset, i = 0, first
        while offset < len(blob) and i < n:
            (length,) = _LENGTH.unpack_from(blob, offset)
            offset += 2
            if i >= start:
                yield blob[offset : offset + length]
            offset += length
            i += 1
        if i >= n:
            return
