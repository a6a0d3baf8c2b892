"""In-process measurements on a log already built (and the pymerkle database holding the same
entries): proof generation, opening, offline bundle verification and single durable appends.

pymerkle's operations that read O(n) leaves are capped by a time budget (``time_within``); every
result says how many samples it rests on, so a capped figure is visible as such.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import nacl.signing
import pymerkle
from pymerkle import SqliteTree

from ledger.bundle import parse_bundle
from ledger.log import Log
from ledger.note import parse_note
from ledger.policy import Policy
from ledger.verify import verify_bundle

from . import corpus
from .baseline import BareBundleWork, BareCommits, prepare_signature_checks
from .stats import median, paused_gc, summary, time_each, time_within


@dataclass
class Settings:
    proof_samples: int  # random queries per proof kind
    open_samples: int  # fresh opens + first proof
    bundle_samples: int  # bundles verified
    append_samples: int  # single durable appends (each system)
    pymerkle_budget: float  # seconds per capped pymerkle measurement
    skip_pymerkle: bool = False


def proof_queries(size: int, count: int, rng: random.Random) -> dict[str, list[tuple[int, int]]]:
    """Random inclusion queries (any index, against the whole tree: what a log proves against its
    latest checkpoint) and random consistency queries (random old <= new sizes, both >= 1)."""
    inclusion = [(rng.randrange(size), size) for _ in range(count)]
    consistency = []
    for _ in range(count):
        old = rng.randint(1, size)
        consistency.append((old, rng.randint(old, size)))
    return {"inclusion": inclusion, "consistency": consistency}


def pactlog_proofs(db: str, queries: dict[str, list[tuple[int, int]]]) -> dict:
    """Median and p99 per proof kind: a first ("cold-ish") pass right after opening the log (SQLite's
    page cache empty; the OS file cache as the import left it), then the same queries again (warm)."""
    results = {}
    for kind, pairs in queries.items():
        log = Log.open(db)
        prove = log.inclusion_proof if kind == "inclusion" else log.consistency_proof
        calls = [lambda a=a, b=b: prove(a, b) for a, b in pairs]
        results[kind] = {"cold": summary(time_each(calls)), "warm": summary(time_each(calls))}
        log.close()
    return results


def pymerkle_proofs(db: str, queries: dict[str, list[tuple[int, int]]], budget: float) -> dict:
    """The same queries to pymerkle (1-based indexes), each kind on a freshly opened tree (empty
    subroot cache), capped at ``budget`` seconds per pass; the warm pass repeats the cold pass's
    queries; a third pass runs with pymerkle's subroot cache disabled. Also times
    ``pymerkle.verify_inclusion`` on some of its inclusion proofs."""
    results = {}
    for kind, pairs in queries.items():
        tree = SqliteTree(db)  # opening scans the table (O(n)); not part of the proof time
        prove = prove_with(tree, kind, pairs)
        cold = time_within(prove, len(pairs), budget)
        warm = time_within(prove, len(cold), budget)
        results[kind] = {"cold": summary(cold), "warm": summary(warm), "budget": budget}
        if kind == "inclusion":
            checks = []
            for a, b in pairs[: min(len(cold), 50)]:
                checks.append((tree.get_leaf(a + 1), tree.get_root(b), tree.prove_inclusion(a + 1, b)))
            results["verify_inclusion"] = summary(
                time_each([lambda c=c: pymerkle.verify_inclusion(*c) for c in checks])
            )
            size = pairs[0][1]
            results["root"] = tree.get_root(size).hex()
        tree.close()
        # Without its in-memory subroot cache pymerkle recomputes every subtree root from the stored
        # leaves: what a stateless server (or a new process per request) would pay. Shown for context.
        tree = SqliteTree(db, disable_cache=True)
        results[kind]["uncached"] = summary(time_within(prove_with(tree, kind, pairs), len(pairs), budget / 2))
        tree.close()
    return results


def prove_with(tree: SqliteTree, kind: str, pairs: list[tuple[int, int]]):
    def prove(k: int):
        a, b = pairs[k]
        return tree.prove_inclusion(a + 1, b) if kind == "inclusion" else tree.prove_consistency(a, b)

    return prove


def open_and_prove(db: str, size: int, count: int, rng: random.Random) -> dict:
    """Open an existing log and produce one inclusion proof, from nothing (a new connection each time)."""
    indexes = [rng.randrange(size) for _ in range(count)]

    def once(index: int) -> None:
        log = Log.open(db)
        log.inclusion_proof(index, size)
        log.close()

    return summary(time_each([lambda i=i: once(i) for i in indexes]))


def pymerkle_open_and_prove(db: str, size: int, count: int, budget: float, rng: random.Random) -> dict:
    indexes = [rng.randrange(size) for _ in range(count)]

    def once(k: int) -> None:
        tree = SqliteTree(db)
        tree.prove_inclusion(indexes[k] + 1, size)
        tree.close()

    return {**summary(time_within(once, count, budget)), "budget": budget}


def bundles(db: str, size: int, count: int, rng: random.Random) -> dict:
    """``verify_bundle`` of single-entry bundles against the log's policy, beside the bare work
    inside it: the entry's and the checkpoint's Ed25519 checks and the leaf and node hashes.

    Each bundle is verified once as a one-shot verifier would (memo caches emptied first: the
    figure the target is judged on), then all again in a row (a process verifying many bundles
    against the same checkpoint, whose note and keys it has already parsed)."""
    log = Log.open(db)
    policy = Policy.for_log(log.store.log_vkey)
    log_key = nacl.signing.VerifyKey(log.verifier.public_key)
    made = [log.bundle([rng.randrange(size)]) for _ in range(count)]
    log.close()

    bare = []
    for data in made:
        (proof,) = parse_bundle(data)
        note = parse_note(proof.checkpoint_note)
        (signature,) = note.signatures
        checks = prepare_signature_checks([proof.extra]) + [(log_key, note.text.encode(), signature.blob)]
        bare.append(BareBundleWork(checks, proof.extra, list(proof.hashes)))

    first = []  # a one-shot verifier: nothing parsed before (the library's memo caches emptied)
    with paused_gc():
        for data in made:
            clear_ledger_caches()
            start = time.perf_counter()
            verify_bundle(data, policy)
            first.append(time.perf_counter() - start)
    repeated = time_each([lambda d=d: verify_bundle(d, policy) for d in made])  # one process, many bundles
    bare_times = time_each([work.run for work in bare])
    return {
        "verify": summary(first),
        "verify_warm": summary(repeated),
        "bare": summary(bare_times),
        "ratio": median(first) / median(bare_times),
        "ratio_warm": median(repeated) / median(bare_times),
        "bundle_bytes": median([len(d) for d in made]),
        "signature_checks": len(bare[0].signatures),
        "hashes": median([w.hash_count for w in bare]),
    }


def clear_ledger_caches() -> None:
    """Empty every memo cache (functools.lru_cache) of the ledger modules: parsed keys and notes."""
    for name, module in list(sys.modules.items()):
        if name == "ledger" or name.startswith("ledger."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def appends(db: str, pymerkle_db: str | None, bare_db: str, size: int, count: int) -> dict:
    """One durable append at a time, interleaved across the three systems so that drift in the
    disk's latency hits all of them alike:

    * pactlog: ``Log.append`` (admission, signature check, tree update, commit) then ``root()``;
    * the bare commit of a row of the same bytes, same pragmas (the floor for any durable append);
    * pymerkle: ``SqliteTree.append_entry`` (hash, insert, commit; its default rollback journal).

    Each system first commits until it is in its steady state (``warm_up``); the figures are of the
    samples after that. Also timed: the entries' own signature checks with prepared keys, the one
    piece of work an append cannot skip beyond the bare commit."""
    datas = [corpus.make_entry(size + k) for k in range(count + MAX_WARMUP)]
    log = Log.open(db, write=True, clock=corpus.clock)
    bare = BareCommits(bare_db)
    tree = SqliteTree(pymerkle_db) if pymerkle_db else None
    fresh = iter(datas)

    def pactlog_append(data: bytes) -> None:
        if not log.append(data).new:
            raise RuntimeError("the benchmark entry was already in the log")
        log.root()

    systems = {"pactlog": pactlog_append, "bare": bare.commit}
    if tree is not None:
        systems["pymerkle"] = tree.append_entry
    warmups = {"pactlog": warm_up(lambda: pactlog_append(next(fresh)), db + "-wal"),
               "bare": warm_up(lambda: bare.commit(datas[0]), bare_db + "-wal")}
    if tree is not None:  # its rollback journal is made and removed at every commit: no steady state to reach
        for _ in range(3):
            tree.append_entry(datas[0])
        warmups["pymerkle"] = 3
    timed = [next(fresh) for _ in range(count)]
    times: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    clock = time.perf_counter
    with paused_gc():
        for k, data in enumerate(timed):
            order = names[k % len(names):] + names[: k % len(names)]  # rotate who goes first
            for name in order:
                start = clock()
                systems[name](data)
                times[name].append(clock() - start)
    log.close()
    bare.close()
    if tree is not None:
        tree.close()
    checks = prepare_signature_checks(timed)
    signature_times = time_each([lambda c=c: c[0].verify(c[1], c[2]) for c in checks])
    out = {name: summary(samples) for name, samples in times.items()}
    out["signature_checks"] = summary(signature_times)
    out["signatures_per_entry"] = len(checks) / len(timed)
    out["warmup"] = warmups
    return out


MAX_WARMUP = 3000   # commits at most before the timed ones (a bare commit writes ~1 page: ~1,000 to wrap)


def warm_up(commit: Callable[[], None], wal: str) -> int:
    """Commit until the WAL has wrapped around: SQLite checkpoints it at 1,000 pages and then
    writes it again from its start, so the file stops growing. A log that has been running a while
    is in that state; in a fresh WAL every commit grows the file, which makes each fsync dearer.
    Returns the number of commits made (at least 3, at most MAX_WARMUP)."""
    steady, previous = 0, -1
    for made in range(1, MAX_WARMUP + 1):
        commit()
        length = os.path.getsize(wal) if os.path.exists(wal) else 0
        steady = steady + 1 if length == previous else 0
        previous = length
        if made >= 3 and steady >= 20:
            return made
    return MAX_WARMUP


def same_root(db: str, size: int, pymerkle_root_hex: str | None) -> bool | None:
    """Whether pactlog and pymerkle computed the same RFC 9162 root over the same entries."""
    if pymerkle_root_hex is None:
        return None
    log = Log.open(db)
    try:
        return log.root(size).hex() == pymerkle_root_hex
    finally:
        log.close()
