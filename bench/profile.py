"""cProfile of pactlog's hot paths, to see where the time of a missed target goes.

    python -m bench.profile [ingest|append|bundle|proof|all] [--n 20000] [--top 25] [--work DIR]

* ingest: ``Log.append_stream`` of ``n`` corpus entries into a new log (batches of 1000), in one
  process (``workers=1``) so that the profile sees the signature checks too;
* append: 300 single durable ``Log.append`` calls on a log of ``n`` entries;
* bundle: 2000 ``verify_bundle`` calls on one-entry bundles;
* proof: 5000 inclusion and 5000 consistency proofs on a log of ``n`` entries.

Prints the top functions by own time and by cumulative time. Profiling slows Python code several
times over but not C code (Ed25519, SHA-256, SQLite), so read the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import os
import pstats
import random
import tempfile

from ledger.log import Log
from ledger.policy import Policy
from ledger.verify import verify_bundle

from . import corpus

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def _build(work: str, db: str, n: int) -> None:
    if os.path.exists(db):  # --db: an existing benchmark log
        return
    log = Log.create(db, corpus.log_signer(), clock=corpus.clock)
    for _ in log.append_stream(corpus.read(work, n)):
        pass
    log.sign_checkpoint(corpus.log_signer())
    log.close()


def _one_process(log: Log) -> dict:
    """Keep every admission check in this process, where cProfile sees it (workers=1)."""
    return {"workers": 1} if "workers" in inspect.signature(log.append_stream).parameters else {}


def _show(title: str, profiler: cProfile.Profile, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        print(f"==== {title}: by {order} ====")
        print(out.getvalue())


def profile_ingest(work: str, db: str, n: int, top: int) -> None:
    if os.path.exists(db):
        raise SystemExit("ingest builds a new log: run it without --db")
    log = Log.create(db, corpus.log_signer(), clock=corpus.clock)
    datas = list(corpus.read(work, n))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in log.append_stream(datas, **_one_process(log)):
        pass
    profiler.disable()
    log.close()
    _show(f"bulk ingestion of {n:,} entries in one process", profiler, top)


def profile_append(work: str, db: str, n: int, top: int) -> None:
    _build(work, db, n)
    log = Log.open(db, write=True, clock=corpus.clock)
    n = log.size
    datas = [corpus.make_entry(n + k) for k in range(300)]
    profiler = cProfile.Profile()
    profiler.enable()
    for data in datas:
        log.append(data)
        log.root()
    profiler.disable()
    log.close()
    _show(f"300 single durable appends at {n:,} entries", profiler, top)


def profile_bundle(work: str, db: str, n: int, top: int) -> None:
    _build(work, db, n)
    rng = random.Random(1)
    log = Log.open(db)
    n = log.store.latest_checkpoint()[0]
    policy = Policy.for_log(log.store.log_vkey)
    made = [log.bundle([rng.randrange(n)]) for _ in range(2000)]
    log.close()
    profiler = cProfile.Profile()
    profiler.enable()
    for data in made:
        verify_bundle(data, policy)
    profiler.disable()
    _show("2000 offline bundle verifications", profiler, top)


def profile_proof(work: str, db: str, n: int, top: int) -> None:
    _build(work, db, n)
    rng = random.Random(2)
    log = Log.open(db)
    n = log.size
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5000):
        log.inclusion_proof(rng.randrange(n), n)
        old = rng.randint(1, n)
        log.consistency_proof(old, rng.randint(old, n))
    profiler.disable()
    log.close()
    _show(f"5000 inclusion + 5000 consistency proofs at {n:,} entries", profiler, top)


PROFILES = {"ingest": profile_ingest, "append": profile_append, "bundle": profile_bundle, "proof": profile_proof}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", default="all", choices=[*PROFILES, "all"])
    parser.add_argument("--n", type=int, default=20_000, help="log size (default 20000)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per table")
    parser.add_argument("--work", default=os.path.join(BENCH_DIR, "work"), help="corpus cache directory")
    parser.add_argument("--db", help="profile append/bundle/proof on this existing benchmark log (e.g. one "
                                     "kept by `python -m bench --keep-dbs`) instead of building one of --n entries")
    args = parser.parse_args(argv)
    corpus.ensure(args.work, args.n)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for name, run in PROFILES.items():
            if args.what in (name, "all"):
                run(args.work, args.db or os.path.join(tmp, f"{name}.db"), args.n, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
