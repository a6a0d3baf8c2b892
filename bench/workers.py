"""Jobs that run in a fresh Python process each: ``python -m bench.workers JOB JSON-ARGS``.

A fresh process per job makes its peak resident memory (VmHWM) its own, so that memory
growth from one log size to another is measured, and keeps one job's caches from warming the next.
Each job prints one JSON object on its last line of output. :func:`run_job` starts one and waits:
the benchmark never runs two measuring processes at once.
"""

from __future__ import annotations

import inspect
import json
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

from . import corpus
from .stats import peak_rss_bytes, stopwatch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_job(job: str, **args) -> dict:
    """Run ``job`` in a fresh interpreter and return its JSON result (raises if it fails)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workers", job, json.dumps(args)],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark job {job} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def file_bytes(path: str) -> int:
    """The database's size on disk, with its WAL (and rollback journal) if any."""
    return sum(os.path.getsize(path + s) for s in ("", "-wal", "-journal") if os.path.exists(path + s))


def _counted(datas: Iterator[bytes], totals: list[int]) -> Iterator[bytes]:
    for data in datas:
        totals[0] += 1
        totals[1] += len(data)
        yield data


# -- jobs --------------------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have been waited for (the signature
    workers of a parallel import)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _stream_kwargs(log, workers: int | None) -> dict:
    """``workers=`` for ``append_stream`` when this version of the log takes it (None: its default)."""
    if workers is None:
        return {}
    if "workers" not in inspect.signature(log.append_stream).parameters:
        raise RuntimeError("this version of Log.append_stream has no workers parameter")
    return {"workers": workers}


def job_import(db: str, work: str, n: int, batch: int, workers: int | None, verify_sample: int) -> dict:
    """Bulk-ingest the first ``n`` corpus entries into a new log with ``append_stream`` (``workers``:
    its signature-checking processes, None for the library's default), sign a checkpoint, then
    measure the machine's single-core Ed25519 verification rate on the same entries' signatures."""
    from ledger.log import Log

    from .baseline import ed25519_verify_rate, prepare_signature_checks

    rss_before = peak_rss_bytes()
    signer = corpus.log_signer()
    log = Log.create(db, signer, clock=corpus.clock)
    kwargs = _stream_kwargs(log, workers)
    totals = [0, 0]
    appended = 0
    cpu_before = _cpu_seconds()
    with stopwatch() as elapsed:
        for result in log.append_stream(_counted(corpus.read(work, n), totals), batch_size=batch, **kwargs):
            appended += result.new
    seconds = elapsed()
    cpu = _cpu_seconds() - cpu_before
    log.sign_checkpoint(signer)
    size = log.size
    log.close()
    rss_after = peak_rss_bytes()
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if appended != n or size != n:
        raise RuntimeError(f"imported {appended} entries, log size {size}, expected {n}")

    bytes_with_wal = file_bytes(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    bytes_checkpointed = file_bytes(db)

    result = {
        "n": n,
        "workers": workers,
        "seconds": seconds,
        "rate": n / seconds,
        "cpu_seconds": cpu,
        "entry_bytes": totals[1],
        "db_bytes_before_checkpoint": bytes_with_wal,
        "db_bytes": bytes_checkpointed,
        "rss_before": rss_before,
        "rss_peak": rss_after,
        "children_rss_peak": children_peak,
    }
    if verify_sample:
        checks = prepare_signature_checks(corpus.read(work, min(n, verify_sample)))
        result["verify_rate"] = ed25519_verify_rate(checks)
        result["verify_sample"] = len(checks)
    return result


def job_pymerkle_import(db: str, work: str, n: int) -> dict:
    """pymerkle's bulk append (``SqliteTree.append_entries``: hash and insert, one transaction)."""
    from pymerkle import SqliteTree

    rss_before = peak_rss_bytes()
    tree = SqliteTree(db)
    with stopwatch() as elapsed:
        size = tree.append_entries(corpus.read(work, n))
    seconds = elapsed()
    tree.close()
    if size != n:
        raise RuntimeError(f"pymerkle holds {size} entries, expected {n}")
    return {"n": n, "seconds": seconds, "rate": n / seconds, "db_bytes": file_bytes(db),
            "rss_before": rss_before, "rss_peak": peak_rss_bytes()}


def job_audit(db: str) -> dict:
    """``ledger.audit.audit`` of a whole log: every entry decoded and its signatures verified, every
    node and checkpoint recomputed."""
    from ledger.audit import audit
    from ledger.log import Log

    rss_before = peak_rss_bytes()
    log = Log.open(db)
    with stopwatch() as elapsed:
        report = audit(log)
    seconds = elapsed()
    size = log.size
    log.close()
    if not report.ok:
        raise RuntimeError(f"audit failed: {report.problems}")
    return {"n": size, "seconds": seconds, "rate": size / seconds,
            "rss_before": rss_before, "rss_peak": peak_rss_bytes()}


def job_replay(db: str) -> dict:
    """Stream every entry of a log in order and decode it (what a rules-engine replay reads)."""
    from ledger.entry import decode_entry
    from ledger.log import Log

    rss_before = peak_rss_bytes()
    log = Log.open(db)
    count = 0
    with stopwatch() as elapsed:
        for _index, data in log.entries():
            decode_entry(data)
            count += 1
    seconds = elapsed()
    log.close()
    return {"n": count, "seconds": seconds, "rate": count / seconds,
            "rss_before": rss_before, "rss_peak": peak_rss_bytes()}


JOBS = {
    "import": job_import,
    "pymerkle_import": job_pymerkle_import,
    "audit": job_audit,
    "replay": job_replay,
}


def main(argv: list[str]) -> None:
    job, args = argv[0], json.loads(argv[1])
    result = JOBS[job](**args)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
