"""Rules engine figures (issue #4, Performance): a generated coalition log, replayed and queried.

    python -m bench.rules JOB JSON-ARGS         (one job in a fresh process; run.py starts them)

The workload is a plausible coalition: 3 governors, 8 actors (L0..L7), 6 accredited monitors, and
about ``PER_DAY`` entries a day of claims, verifications, transfers, retirements, commitments and
their attestations and appeals, pacts with joins and incidents, self-reports and audits (the mix of
:func:`coalition_events`). Every entry is really signed (deterministic keys), so the log is one that
``pactlog`` itself would admit. Jobs, each in a fresh interpreter so that its peak memory is its own:

* ``replay``  — ``replay(events_of(log.entries()))`` streamed (decode + engine), then the engine alone
  over events decoded beforehand: entries/s on one core, and peak memory of the streamed pass;
* ``sync``    — ``Coalition.open(log).sync()`` on a log with no derived cache (the cold build);
* ``queries`` — ``actor(name, as_of=old day)`` (cache warm), ``explain("level", ...)`` with its
  ``cited`` indexes and their ``bundle``: the first one in the process, then repeated;
* ``incremental`` — on a copy of the log, append one entry and ``sync()`` it, many times, in one
  long-running process: the cost per appended entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.stats import paused_gc, peak_rss_bytes, summary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORIGIN = "example.org/bench-rules"
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z, the coalition's day 0
NOON = 43_200
PER_DAY = 1000  # entries a day
GOVERNORS = ("G1", "G2", "G3")
ACTORS = tuple(f"L{i}" for i in range(8))
MONITORS = tuple(f"M{i}" for i in range(6))
QUERY_ACTOR = "L3"
SMALLEST = 10_000  # below this the log spans under 10 days: no "old day" worth the name
DEFAULT_MAX = 100_000  # larger sizes only with --rules-full (generating 10^6 signed entries is slow)


# -- the workload --------------------------------------------------------------------------------


@cache
def signer(name: str):
    from ledger.note import Signer

    return Signer(name, hashlib.sha256(b"pactlog-bench-rules/" + name.encode()).digest())


def log_signer():
    return signer(ORIGIN)


def clock() -> float:
    """The log's clock: after every entry of the workload (10^6 entries span 1,000 days)."""
    return float(EPOCH + 100 * 365 * 86_400)


def coalition_events(n: int, seed: int = 1) -> Iterator[tuple[int, str, tuple[str, ...], dict]]:
    """The first ``n`` entries as (time, type, signer names, body); names stand for keys in bodies
    too (see :func:`_real`)."""
    rnd = random.Random(seed)
    keys = {x: "@" + x for x in GOVERNORS + ACTORS + MONITORS}  # replaced by vkeys when signing
    yield EPOCH, "GENESIS", ("G1",), {
        "epoch": EPOCH, "governors": {g: keys[g] for g in GOVERNORS}, "actors": {a: keys[a] for a in ACTORS},
        "monitors": {m: keys[m] for m in MONITORS}, "ruleset": {"version": 1, "effective_day": 0, "changes": {}}}
    count, day, emitted = 0, 0, 1

    def at() -> int:
        return EPOCH + day * 86_400 + NOON

    for m in MONITORS:
        emitted += 1
        yield at(), "APPROVE", ("G1", "G2"), {"proposal": {"action": "ACCREDIT", "monitor": m}}
    claims: list[str] = []
    commits: list[str] = []
    pacts: list[str] = []
    while emitted < n:
        if count >= PER_DAY:
            day += 1
            count = 0
            if day % 300 == 0:  # re-accreditation before accreditations lapse
                for m in MONITORS:
                    if emitted < n:
                        emitted += 1
                        yield at(), "APPROVE", ("G1", "G2"), {"proposal": {"action": "ACCREDIT", "monitor": m, "nonce": str(day)}}
                if emitted >= n:
                    break
        count += 1
        i = emitted
        emitted += 1
        r = rnd.random()
        a = rnd.choice(ACTORS)
        if r < 0.15:
            claims.append(f"c{i}")
            yield at(), "CLAIM", (a,), {"actor": a, "id": f"c{i}", "amount": rnd.randint(10, 200)}
        elif r < 0.40 and claims:
            yield at(), "VERIFY", (rnd.choice(MONITORS),), {"claim": rnd.choice(claims[-50:]), "amount": rnd.randint(10, 200)}
        elif r < 0.50:
            yield at(), "TRANSFER", (a,), {"from": a, "to": rnd.choice(ACTORS), "amount": rnd.randint(1, 30)}
        elif r < 0.52:
            yield at(), "RETIRE", (a,), {"actor": a, "amount": rnd.randint(1, 5)}
        elif r < 0.62:
            commits.append(f"k{i}")
            yield at(), "COMMIT", (a,), {"actor": a, "id": f"k{i}", "deadline": day + rnd.randint(0, 20)}
        elif r < 0.85 and commits:
            yield at(), "ATTEST", (rnd.choice(MONITORS),), {"commitment": rnd.choice(commits[-300:]),
                                                           "verdict": rnd.choice(["FULFILLED"] * 4 + ["BREACHED"])}
        elif r < 0.86 and commits:
            yield at(), "APPEAL", (a,), {"commitment": rnd.choice(commits[-300:])}
        elif r < 0.87:
            pacts.append(f"p{i}")
            yield at(), "PACT", (a,), {
                "sponsor": a, "id": f"p{i}", "members": {x: rnd.randint(1, 3) for x in rnd.sample(ACTORS, 4)},
                "min_count": 3, "min_weight_pct": 50, "stake": 5, "bonus": 1, "open_until": day + rnd.randint(1, 10),
                "delay": rnd.randint(0, 3), "retention": 5}
        elif r < 0.92 and pacts:
            yield at(), "JOIN", (a,), {"pact": rnd.choice(pacts[-20:]), "actor": a}
        elif r < 0.93 and pacts:
            yield at(), "INCIDENT", (rnd.choice(MONITORS),), {"pact": rnd.choice(pacts[-20:]), "id": "i", "actor": a,
                                                             "damages": rnd.randint(1, 50)}
        elif r < 0.97:
            yield at(), "SELF_REPORT", (a,), {"actor": a, "metric": "bio_uplift", "value": rnd.randint(40, 60)}
        else:
            yield at(), "AUDIT", (rnd.choice(MONITORS),), {"actor": a, "metric": "bio_uplift", "value": rnd.randint(40, 60)}


def _real(value):
    """The body with every "@name" replaced by that participant's verifier key."""
    if isinstance(value, dict):
        return {k: _real(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("@"):
        return signer(value[1:]).vkey
    return value


def signed_entries(n: int, start: int = 0) -> Iterator[bytes]:
    """Entries ``start``..``n-1`` of the workload, signed (the ones before ``start`` are generated but
    not signed, only counted: each signer's sequence numbers continue where they would be)."""
    from ledger import entry as entries

    seqs: dict[str, int] = {}
    for index, (when, kind, names, body) in enumerate(coalition_events(n)):
        primary = names[0]
        seqs[primary] = seqs.get(primary, 0) + 1
        if index < start:
            continue
        statement = entries.make_statement(log=ORIGIN, type=kind, signer=signer(primary).vkey, seq=seqs[primary],
                                           time=when, body=_real(body))
        yield entries.sign(statement, [signer(x) for x in names]).raw


def db_path(work: str, n: int) -> str:
    return os.path.join(work, f"rules-{n}.db")


def ensure_log(work: str, n: int, say=print) -> str:
    """The signed coalition log of ``n`` entries (built once, kept in the work directory with no
    derived cache: the ``sync`` job builds that)."""
    from ledger.log import Log

    path = db_path(work, n)
    if os.path.exists(path):
        with Log.open(path) as log:
            if log.size == n and log.store.latest_checkpoint() is not None:
                return path
    remove_db(path)
    started = time.perf_counter()
    log = Log.create(path, log_signer(), clock=clock)
    try:
        log.append_many(signed_entries(n), batch_size=5000)
        log.sign_checkpoint(log_signer())
    finally:
        log.close()
    say(f"rules {n:,}: generated and signed the coalition log in {time.perf_counter() - started:.0f} s")
    return path


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".lock", ".derived.lock"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


# -- jobs (each in a fresh process) --------------------------------------------------------------


def job_replay(db: str) -> dict:
    """Full replay on one core: streamed from the log (decode + engine), then the engine alone."""
    from ledger.events import events_of
    from ledger.log import Log
    from ledger.rules import replay

    with Log.open(db) as log:
        n = log.size
        with paused_gc():
            start = time.perf_counter()
            engine = replay(events_of(log.entries()))
            streamed = time.perf_counter() - start
        rss_streamed = peak_rss_bytes()
        day = engine.day
        del engine
        events = list(events_of(log.entries()))
    with paused_gc():
        start = time.perf_counter()
        replay(events)
        engine_only = time.perf_counter() - start
    return {"n": n, "days": day + 1, "streamed_seconds": streamed, "streamed_rate": n / streamed,
            "engine_seconds": engine_only, "engine_rate": n / engine_only, "rss_peak": rss_streamed}


def job_replay_on_disk(db: str) -> dict:
    """Full replay of a log with no usable cache, as a process that can neither use nor write the
    cache does it: the engine's state on a scratch database (ledger.deriver.Scratch)."""
    from ledger.deriver import Scratch, Settings
    from ledger.log import Log

    with Log.open(db) as log:
        n = log.size
        scratch = Scratch()
        try:
            with paused_gc():
                start = time.perf_counter()
                scratch.replay(log.entries(), 0, None, Settings())
                seconds = time.perf_counter() - start
        finally:
            scratch.close()
    return {"seconds": seconds, "rate": n / seconds, "rss_peak": peak_rss_bytes()}


def job_sync(db: str) -> dict:
    """The cold build of the derived cache (what the first query on a fresh log pays)."""
    from ledger.derived import Coalition
    from ledger.log import Log

    with Log.open(db) as log:
        start = time.perf_counter()
        with Coalition.open(log) as coalition:
            result = coalition.sync()
        seconds = time.perf_counter() - start
    return {"n": result.size, "seconds": seconds, "rate": result.applied / seconds, "rss_peak": peak_rss_bytes()}


def job_queries(db: str, samples: int) -> dict:
    """As-of queries and explanations on a log whose derived cache is current."""
    from ledger.derived import Coalition
    from ledger.log import Log

    out: dict = {}
    with Log.open(db) as log:
        start = time.perf_counter()
        coalition = Coalition.open(log)
        coalition.sync()  # a no-op check when the cache is current
        out["open_seconds"] = time.perf_counter() - start
        current = coalition.current_day
        old = current // 2
        out["current_day"], out["old_day"] = current, old
        for label, day in (("old", old), ("current", current)):
            times = []
            with paused_gc():
                for _ in range(samples):
                    t0 = time.perf_counter()
                    coalition.actor(QUERY_ACTOR, day)
                    times.append(time.perf_counter() - t0)
            out[f"actor_{label}"] = summary(times)

        def explain_with_bundle(name: str, day: int) -> dict:
            t0 = time.perf_counter()
            explanation = coalition.explain("level", name, as_of=day)
            t1 = time.perf_counter()
            cited = coalition.cited(explanation)
            data, _ = coalition.bundle(cited)
            t2 = time.perf_counter()
            return {"seconds": t2 - t0, "explain_seconds": t1 - t0, "bundle_seconds": t2 - t1,
                    "cited": len(cited), "bundle_bytes": len(data)}

        # First explanation in the process: restores the engine from the nearest snapshot and replays
        # up to the day (what one `pactlog explain` pays after opening the log); then repeated.
        out["explain_old_first"] = explain_with_bundle(QUERY_ACTOR, old)
        out["explain_old_again"] = [explain_with_bundle(name, old)["seconds"] for name in ("L2", "L4", "L5")]
        out["explain_current_first"] = explain_with_bundle(QUERY_ACTOR, current)
        coalition.close()
    out["rss_peak"] = peak_rss_bytes()
    return out


def job_digest(db: str) -> dict:
    """The whole-state digest as of the middle day, first in a fresh process (nothing memoised:
    the cache build computes no digest): a snapshot restored, the entries to the day replayed, and
    every claim, commitment, pact and ineffective entry streamed through SHA-256."""
    from ledger.derived import Coalition
    from ledger.log import Log

    with Log.open(db) as log:
        coalition = Coalition.open(log)
        day = coalition.current_day // 2
        t0 = time.perf_counter()
        coalition.digest(day)
        seconds = time.perf_counter() - t0
        coalition.close()
    return {"seconds": seconds, "day": day, "rss_peak": peak_rss_bytes()}


def job_incremental(db: str, n: int, appends: int) -> dict:
    """Cost of ``sync()`` per appended entry in a long-running process, on a copy of the log."""
    from ledger.derived import Coalition
    from ledger.log import Log

    copy = db + ".incremental"
    remove_db(copy)
    shutil.copy(db, copy)
    if os.path.exists(db + "-wal"):  # what was committed but not yet checkpointed into the main file
        shutil.copy(db + "-wal", copy + "-wal")
    try:
        extra = list(signed_entries(n + appends + 1, start=n))
        with Log.open(copy, write=True, clock=clock) as log:
            coalition = Coalition.open(log)
            coalition.sync()
            log.append(extra[0])
            t0 = time.perf_counter()
            coalition.sync()  # the first one restores the tip snapshot into memory
            first = time.perf_counter() - t0
            times = []
            for data in extra[1:]:
                log.append(data)
                t0 = time.perf_counter()
                coalition.sync()
                times.append(time.perf_counter() - t0)
            coalition.close()
        times.sort()
        return {**summary(times), "log_size": n, "first_seconds": first, "mean": sum(times) / len(times),
                "p90": times[int(len(times) * 0.9)], "max": times[-1], "rss_peak": peak_rss_bytes()}
    finally:
        remove_db(copy)


JOBS = {"replay": job_replay, "replay_on_disk": job_replay_on_disk, "sync": job_sync, "queries": job_queries,
        "digest": job_digest, "incremental": job_incremental}


def run_job(job: str, **args) -> dict:
    """Run one job in a fresh interpreter and return its JSON result (raises if it fails)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-m", "bench.rules", job, json.dumps(args)],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"rules benchmark job {job} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the driver ----------------------------------------------------------------------------------


def sizes_for(sizes: list[int], full: bool) -> tuple[list[int], list[tuple[int, str]]]:
    """The sizes the rules section measures, and the ones it leaves out with the reason."""
    chosen, skipped = [], []
    for n in sizes:
        if n < SMALLEST:
            skipped.append((n, f"under {SMALLEST:,} entries the log spans under 10 days"))
        elif n > DEFAULT_MAX and not full:
            skipped.append((n, "larger than 10^5 without --rules-full"))
        else:
            chosen.append(n)
    return chosen, skipped


def measure(sizes: list[int], full: bool, quick: bool, work: str, keep_dbs: bool, say=print) -> dict:
    """Every rules figure at each size that applies: {"sizes": {n: {...}}, "skipped": [[n, why]]}."""
    chosen, skipped = sizes_for(sizes, full)
    out: dict = {"sizes": {}, "skipped": skipped, "per_day": PER_DAY, "quick": quick}
    for n in chosen:
        db = ensure_log(work, n, say)
        remove_derived(db)
        r: dict = {}
        say(f"rules {n:,}: full replay (fresh process)")
        r["replay"] = run_job("replay", db=db)
        say(f"rules {n:,}:   {r['replay']['streamed_rate']:,.0f} entries/s streamed, "
            f"{r['replay']['engine_rate']:,.0f}/s engine alone")
        say(f"rules {n:,}: full replay with the state on a scratch database (fresh process)")
        r["replay_on_disk"] = run_job("replay_on_disk", db=db)
        say(f"rules {n:,}: cold derived-cache build (fresh process)")
        r["sync"] = run_job("sync", db=db)
        say(f"rules {n:,}: as-of queries and explain + bundle (fresh process)")
        r["queries"] = run_job("queries", db=db, samples=50 if quick else 500)
        say(f"rules {n:,}: whole-state digest of an old day (fresh process)")
        r["digest"] = run_job("digest", db=db)
        say(f"rules {n:,}: incremental sync per appended entry (fresh process)")
        r["incremental"] = run_job("incremental", db=db, n=n, appends=30 if quick else 300)
        out["sizes"][n] = r
        if not keep_dbs:
            remove_db(db)
    return out


def remove_derived(db: str) -> None:
    """Drop the derived cache so that the ``sync`` job measures a cold build (the log is untouched)."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'derived%'")]
        for name in names:
            conn.execute(f'DROP TABLE "{name}"')
        conn.commit()
    finally:
        conn.close()


if __name__ == "__main__":
    name, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(JOBS[name](**arguments)))
