"""Run pactlog's benchmark and write bench/RESULTS.md.

    python -m bench [--sizes 10000,100000,1000000] [--quick] [--out PATH] [--skip-pymerkle]
                    [--rules-full] [--only rules]
    python bench/run.py ...                     (the same)

For each size, in this order (one measuring process at a time; the jobs marked * run in a fresh
subprocess so that their peak memory is their own):

1. * bulk import of the corpus into a new log with the library's default parallelism (the ingestion
   rate, the database size, peak memory), then the machine's Ed25519 verification rate on the same
   entries' signatures; * the same import again restricted to one process (workers=1);
2. * pymerkle's bulk import of the same entries (its database for the comparisons below);
3. inclusion and consistency proofs, cold-ish then warm, pactlog and pymerkle;
4. opening the log and producing a first proof, pactlog and pymerkle;
5. offline verification of bundles, beside their bare cryptography;
6. * audit and * replay of the whole log (their rates and peak memory);
7. single durable appends, interleaved with bare SQLite commits and pymerkle appends (last: they
   grow the databases).

Then the rules engine (issue #4, bench/rules.py) on a generated coalition log at the sizes of 10^4 to
10^5 among --sizes (10^6 too with --rules-full). ``--only rules`` measures just that and updates
section 8 and the summary's rules rows of an existing report (--out) in place.

Entries are generated once and cached under the work directory (default bench/work/, git-ignored);
the databases of a size are deleted when it is done unless --keep-dbs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import corpus, machine, measure, report, rules  # noqa: E402
from bench.workers import run_job  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)

FULL = measure.Settings(proof_samples=3000, open_samples=100, bundle_samples=300, append_samples=300,
                        pymerkle_budget=20.0)
QUICK = measure.Settings(proof_samples=300, open_samples=20, bundle_samples=50, append_samples=30,
                         pymerkle_budget=3.0)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated integers, not {text!r}") from None
    if not sizes or any(size < 2 for size in sizes):
        raise argparse.ArgumentTypeError("every size must be at least 2")
    return sorted(set(sizes))


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="log sizes, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not figures to quote)")
    parser.add_argument("--out", default=os.path.join(BENCH_DIR, "RESULTS.md"), help="the Markdown report")
    parser.add_argument("--skip-pymerkle", action="store_true", help="do not measure pymerkle")
    parser.add_argument("--work", default=os.path.join(BENCH_DIR, "work"),
                        help="cache and database directory (default bench/work)")
    parser.add_argument("--gen-workers", type=int, default=1,
                        help="processes for generating (signing) the corpus; nothing is timed meanwhile")
    parser.add_argument("--batch", type=int, default=1000, help="entries per transaction in the bulk import")
    parser.add_argument("--keep-dbs", action="store_true", help="keep each size's databases in the work directory")
    parser.add_argument("--rules-full", action="store_true",
                        help="measure the rules engine at sizes above 10^5 too (generating 10^6 signed entries is slow)")
    parser.add_argument("--only", choices=["rules"],
                        help="measure only this section and update it in the existing report (--out)")
    parser.add_argument("--seed", type=int, default=20260101, help="seed of the random proof queries")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def measure_size(n: int, args: argparse.Namespace, settings: measure.Settings) -> dict:
    work = args.work
    db = os.path.join(work, f"pactlog-{n}.db")
    pm_db = None if args.skip_pymerkle else os.path.join(work, f"pymerkle-{n}.db")
    remove_db(db)
    if pm_db:
        remove_db(pm_db)
    rng = random.Random(args.seed + n)
    out: dict = {"n": n}

    say(f"{n:,}: bulk import, the library's default parallelism (fresh process)")
    out["import"] = run_job("import", db=db, work=work, n=n, batch=args.batch, workers=None,
                            verify_sample=5_000 if args.quick else 20_000)
    say(f"{n:,}:   {out['import']['rate']:,.0f} entries/s; Ed25519 verify {out['import']['verify_rate']:,.0f}/s")
    say(f"{n:,}: bulk import in one process, workers=1 (fresh process)")
    single_db = os.path.join(work, f"pactlog-{n}-one-process.db")
    remove_db(single_db)
    out["import_one_process"] = run_job("import", db=single_db, work=work, n=n, batch=args.batch, workers=1,
                                        verify_sample=0)
    remove_db(single_db)
    say(f"{n:,}:   {out['import_one_process']['rate']:,.0f} entries/s")
    if pm_db:
        say(f"{n:,}: pymerkle bulk import (fresh process)")
        out["pymerkle_import"] = run_job("pymerkle_import", db=pm_db, work=work, n=n)

    say(f"{n:,}: proofs ({settings.proof_samples} random queries per kind)")
    queries = measure.proof_queries(n, settings.proof_samples, rng)
    out["proofs"] = measure.pactlog_proofs(db, queries)
    if pm_db:
        say(f"{n:,}: pymerkle proofs (at most {settings.pymerkle_budget:g} s per pass)")
        out["pymerkle_proofs"] = measure.pymerkle_proofs(pm_db, queries, settings.pymerkle_budget)
        out["same_root"] = measure.same_root(db, n, out["pymerkle_proofs"]["root"])

    say(f"{n:,}: open + first proof")
    out["open"] = measure.open_and_prove(db, n, settings.open_samples, rng)
    if pm_db:
        out["pymerkle_open"] = measure.pymerkle_open_and_prove(
            pm_db, n, min(settings.open_samples, 10), settings.pymerkle_budget, rng)

    say(f"{n:,}: bundle verification")
    out["bundles"] = measure.bundles(db, n, settings.bundle_samples, rng)

    say(f"{n:,}: audit (fresh process)")
    out["audit"] = run_job("audit", db=db)
    say(f"{n:,}: replay (fresh process)")
    out["replay"] = run_job("replay", db=db)

    say(f"{n:,}: single durable appends ({settings.append_samples} each)")
    out["appends"] = measure.appends(db, pm_db, os.path.join(work, "bare-commit.db"), n, settings.append_samples)

    if not args.keep_dbs:
        remove_db(db)
        if pm_db:
            remove_db(pm_db)
    return out


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    settings = dataclasses.replace(QUICK if args.quick else FULL, skip_pymerkle=args.skip_pymerkle)
    os.makedirs(args.work, exist_ok=True)
    started = time.time()
    info = machine.describe()
    say(machine.line(info))
    if args.only == "rules":
        return rules_only(args)
    corpus.ensure(args.work, max(args.sizes), workers=args.gen_workers, say=say)

    results = {"machine": info, "sizes": {}, "quick": args.quick, "skip_pymerkle": args.skip_pymerkle,
               "settings": vars(settings), "batch": args.batch,
               "revision": machine.revision(os.path.dirname(BENCH_DIR)), "load_before": machine.load_average()}
    for n in args.sizes:
        results["sizes"][n] = measure_size(n, args, settings)
    results["rules"] = rules.measure(args.sizes, args.rules_full, args.quick, args.work, args.keep_dbs, say=say)
    results["seconds"] = time.time() - started
    results["load_after"] = machine.load_average()

    with open(os.path.join(args.work, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    text = report.render(results)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    say(f"wrote {args.out} in {results['seconds'] / 60:.1f} min")
    return 0


def rules_only(args: argparse.Namespace) -> int:
    """Measure the rules engine and replace its section (and summary rows) in the existing report."""
    if not os.path.exists(args.out):
        say(f"{args.out} does not exist: run the whole benchmark once first, then --only rules updates it")
        return 2
    started = time.time()
    measured = rules.measure(args.sizes, args.rules_full, args.quick, args.work, args.keep_dbs, say=say)
    # This section is newer than the rest of the report: say when and at which commit it was measured.
    measured["measured"] = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, ledger at "
                            f"{machine.revision(os.path.dirname(BENCH_DIR))}, by `--only rules`")
    with open(os.path.join(args.work, "rules-results.json"), "w", encoding="utf-8") as f:
        json.dump(measured, f, indent=1)
    with open(args.out, encoding="utf-8") as f:
        text = f.read()
    text = report.update_rules(text, {"rules": measured})
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    say(f"updated the rules section of {args.out} in {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
