"""RESULTS.md: the targets of issues #3 and #4, the measured figures and a verdict for each.

Every figure stands beside the machine's own limit measured in the same run and beside pymerkle
doing the same work; the summary gives each target's verdict over all sizes measured (met only if
met at every size it applies to).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

from . import machine

MIB = 1024 * 1024
MILLION = 1_000_000

TARGET_INGEST_RATIO = 0.75
TARGET_APPEND_RATIO = 1.3
TARGET_APPEND_SPEEDUP = 4.0
TARGET_PROOF_MEDIAN = 0.2e-3  # seconds, at 10^6 entries
TARGET_PROOF_GROWTH = 1.5  # per 10x entries
TARGET_PROOF_SPEEDUP = 100.0
TARGET_OPEN = 2e-3  # seconds, at 10^6 entries
TARGET_OPEN_SPEEDUP = 500.0
TARGET_BUNDLE_RATIO = 1.5
TARGET_BYTES_OVERHEAD = 150
TARGET_MEMORY_GROWTH = 128 * MIB


# -- formatting ----------------------------------------------------------------------------------


def size_label(n: int) -> str:
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"10^{exponent}" if 10**exponent == n else f"{n:,}"


def duration(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def number(value: float, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "—"
    if value >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.2f}"


def times(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2g}x"


def mib(value: float) -> str:
    return f"{value / MIB:.1f} MiB"


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "**not met**")


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- verdict bookkeeping ---------------------------------------------------------------------------


@dataclass
class Target:
    """One target of the issue, with its outcome at every size (or size pair) it applies to."""

    text: str
    outcomes: list[tuple[str, str, bool | None]] = field(default_factory=list)  # (scope, measured, met)

    def add(self, scope: str, measured: str, met: bool | None) -> bool | None:
        self.outcomes.append((scope, measured, met))
        return met

    @property
    def met(self) -> bool | None:
        decided = [m for _, _, m in self.outcomes if m is not None]
        return None if not decided else all(decided)

    def measured(self) -> str:
        return "; ".join(f"{scope}: {value}" for scope, value, _ in self.outcomes) or "not measured in this run"


class Targets(OrderedDict):
    """The targets in the order the sections declare them (the summary's order)."""

    def declare(self, key: str, text: str) -> Target:
        self[key] = Target(text)
        return self[key]


# -- sections --------------------------------------------------------------------------------------


def _sizes(results: dict) -> list[tuple[int, dict]]:
    return sorted((int(n), r) for n, r in results["sizes"].items())


def _entry_size(r: dict) -> float:
    return r["import"]["entry_bytes"] / r["import"]["n"]


def _workers_label(imp: dict) -> str:
    return "default" if imp.get("workers") is None else f"workers={imp['workers']}"


def ingestion(results: dict, targets: Targets) -> str:
    target = targets.declare("ingest", f"bulk ingestion rate / single-core Ed25519 verification rate >= {TARGET_INGEST_RATIO} "
                                       "(the library's default: signatures checked in a worker process per core)")
    single = targets.declare("ingest_one_process", f"the same, ingestion restricted to one process (workers=1) >= {TARGET_INGEST_RATIO}")
    rows = []
    for n, r in _sizes(results):
        imp = r["import"]
        limit = imp["verify_rate"]
        for run, tgt in ((imp, target), (r.get("import_one_process"), single)):
            if run is None:
                continue
            value = run["rate"] / limit
            met = tgt.add(size_label(n), ratio(value), value >= TARGET_INGEST_RATIO)
            per_cpu = run["n"] / run["cpu_seconds"] if run.get("cpu_seconds") else math.nan
            pm = r.get("pymerkle_import") if run is imp else None
            rows.append([size_label(n), _workers_label(run), f"{run['rate']:,.0f}",
                         f"{run['cpu_seconds'] / run['seconds']:.2f}" if run.get("cpu_seconds") else "—",
                         f"{per_cpu:,.0f}", f"{limit:,.0f}", ratio(value), verdict(met), ratio(per_cpu / limit),
                         (f"{pm['rate']:,.0f}" if pm else "skipped") if run is imp else ""])
    return "\n\n".join([
        "## 1. Bulk ingestion of signed entries",
        "pactlog: `Log.append_stream` of the corpus into a new log, batches of "
        f"{results['batch']} entries per transaction (strict decoding, Ed25519 verification, duplicate "
        "lookup, sequence and time checks, tree update, insert, commit), once with the library's default "
        "(signatures checked in one worker process per core for large submissions) and once restricted to "
        "one process (`workers=1`). *Cores busy* is the CPU time of the importing process and its workers "
        "divided by wall time; *entries per CPU-second* divided by the verification rate says how close the "
        "pipeline's total work is to the bare signature checks. Machine limit: PyNaCl `VerifyKey.verify` on "
        "the same entries' signatures, one core, keys and messages prepared. pymerkle: "
        "`SqliteTree.append_entries` of the same bytes (hash and insert in one transaction; it checks "
        "no signature, so it is not doing the same work — shown for scale).",
        table(["Entries", "Run", "pactlog entries/s", "Cores busy", "Entries per CPU-s", "Ed25519 verify/s (1 core)",
               f"Ratio (>= {TARGET_INGEST_RATIO})", "Verdict", "Per-CPU-s ratio", "pymerkle entries/s (no signature checks)"], rows),
    ])


def appends(results: dict, targets: Targets) -> str:
    ratio_target = targets.declare("append_ratio", f"one durable append / one bare durable SQLite commit <= {TARGET_APPEND_RATIO}")
    speed_target = targets.declare("append_speedup", f"one durable append >= {TARGET_APPEND_SPEEDUP:g}x faster than pymerkle's")
    rows = []
    for n, r in _sizes(results):
        a = r["appends"]
        ours, bare = a["pactlog"]["median"], a["bare"]["median"]
        value = ours / bare
        met = ratio_target.add(size_label(n), ratio(value), value <= TARGET_APPEND_RATIO)
        if "pymerkle" in a:
            speedup = a["pymerkle"]["median"] / ours
            met_pm = speed_target.add(size_label(n), times(speedup), speedup >= TARGET_APPEND_SPEEDUP)
            pm = [f"{duration(a['pymerkle']['median'])} ({duration(a['pymerkle']['p99'])})", times(speedup), verdict(met_pm),
                  times(a["pymerkle"]["median"] / bare)]
        else:
            pm = ["skipped", "—", "n/a", "—"]
        if "signature_checks" in a:   # older results lack it
            signatures = a["signature_checks"]["median"] * a["signatures_per_entry"]
            floor = f"{duration(signatures)}: {ratio((bare + signatures) / bare)}"
            warm = ", ".join(f"{name} {count}" for name, count in a["warmup"].items())
        else:
            floor = warm = "—"
        rows.append([size_label(n), f"{duration(ours)} ({duration(a['pactlog']['p99'])})",
                     f"{duration(bare)} ({duration(a['bare']['p99'])})", ratio(value), verdict(met), floor, *pm,
                     str(a["pactlog"]["n"]), warm])
    return "\n\n".join([
        "## 2. One durable append",
        "pactlog: `Log.append` of one new signed entry to the log of that size (admission, signature "
        "check, tree update, committed with WAL + synchronous=FULL) and then `Log.root()`. Machine limit: "
        "one `BEGIN IMMEDIATE; INSERT; COMMIT` of a row of the same bytes in a bare table with the same "
        "pragmas, same disk. pymerkle: `SqliteTree.append_entry` (hash, insert, commit; its own default "
        "rollback journal, synchronous=FULL). The three are interleaved sample by sample. Median (p99). "
        "Steady state: before the timed samples each system commits until its WAL has wrapped around "
        "(SQLite checkpoints it at 1,000 pages and then writes it again from its start, so the file "
        "stops growing), as in a log that has been running a while: in a fresh WAL every commit grows "
        "the file and each fsync costs more (the commits made are in the last column). *Floor*: the "
        "entry's own Ed25519 signature check with a prepared key (work an append must do and the bare "
        "commit does not), and the ratio of (bare commit + that check) to the bare commit, the least "
        "any append that checks the signature could show. *Ceiling*: pymerkle's append over the bare "
        "commit, the largest speed-up any append as durable as the bare commit could show over "
        "pymerkle on this disk.",
        table(["Entries", "pactlog append", "bare SQLite commit", f"Ratio (<= {TARGET_APPEND_RATIO})", "Verdict",
               "Floor: signature check, ratio", "pymerkle append",
               f"pymerkle / pactlog (>= {TARGET_APPEND_SPEEDUP:g}x)", "Verdict",
               "Ceiling: pymerkle / bare commit", "Samples", "Warm-up commits"], rows),
    ])


def proofs(results: dict, targets: Targets) -> str:
    sections = ["## 3. Proof generation",
                "Random queries: inclusion of a random index in the whole tree (what a log proves against "
                "its latest checkpoint); consistency between random sizes 1 <= old <= new <= n. *Cold-ish*: "
                "the first pass right after opening the database (SQLite's page cache empty, the OS file "
                "cache warm from the import; the machine's caches were not dropped). *Warm*: the same "
                "queries again. pymerkle gets the same queries on a freshly opened tree (empty subroot "
                "cache; it stores only leaves and recomputes subtree roots from them, caching those of >= 128 "
                "leaves in memory), each pass capped by a time budget: its sample count is shown. The verdict "
                "compares with pymerkle as installed; the last column, for context, is pymerkle with its "
                "subroot cache disabled (`SqliteTree(path, disable_cache=True)`: every proof recomputes the "
                "subtree roots from the stored leaves, as a process that does not keep them in memory "
                "would), with its own time budget. Growth "
                "per 10x entries is (median at n / median at the previous size)^(1/log10 of the size ratio)."]
    for kind in ("inclusion", "consistency"):
        t_median = targets.declare(f"{kind}_median", f"{kind} proof median <= {duration(TARGET_PROOF_MEDIAN)} at 10^6 entries")
        t_growth = targets.declare(f"{kind}_growth", f"{kind} proof median grows <= {TARGET_PROOF_GROWTH}x per 10x entries")
        t_speed = targets.declare(f"{kind}_speedup", f"{kind} proofs >= {TARGET_PROOF_SPEEDUP:g}x faster than pymerkle's")
        rows = []
        previous: dict[str, tuple[int, float]] = {}
        for n, r in _sizes(results):
            for phase in ("cold", "warm"):
                s = r["proofs"][kind][phase]
                scope = f"{size_label(n)} {phase}"
                met_median = None
                if n == MILLION:
                    met_median = t_median.add(scope, duration(s["median"]), s["median"] <= TARGET_PROOF_MEDIAN)
                growth_text, met_growth = "—", None
                if phase in previous:
                    prev_n, prev_median = previous[phase]
                    growth = (s["median"] / prev_median) ** (1 / math.log10(n / prev_n))
                    growth_text = f"{growth:.2f}x"
                    met_growth = t_growth.add(f"{size_label(prev_n)}→{size_label(n)} {phase}", growth_text,
                                              growth <= TARGET_PROOF_GROWTH)
                previous[phase] = (n, s["median"])
                pm = r.get("pymerkle_proofs")
                if pm:
                    p = pm[kind][phase]
                    speedup = p["median"] / s["median"]
                    met_speed = t_speed.add(scope, times(speedup), speedup >= TARGET_PROOF_SPEEDUP)
                    pm_cells = [duration(p["median"]), duration(p["p99"]), str(p["n"]), times(speedup), verdict(met_speed)]
                    u = pm[kind].get("uncached")
                    if u and phase == "cold":
                        pm_cells.append(f"{duration(u['median'])} ({u['n']} samples), {times(u['median'] / s['median'])}")
                    else:
                        pm_cells.append("")
                else:
                    pm_cells = ["skipped", "—", "—", "—", "n/a", ""]
                rows.append([size_label(n), phase, duration(s["median"]), duration(s["p99"]), str(s["n"]),
                             verdict(met_median), growth_text, verdict(met_growth), *pm_cells])
        sections += [f"### {kind.capitalize()} proofs", table(
            ["Entries", "Pass", "pactlog median", "p99", "Samples", f"<= {duration(TARGET_PROOF_MEDIAN)} at 10^6",
             "Growth per 10x", f"<= {TARGET_PROOF_GROWTH}x", "pymerkle median", "p99", "Samples",
             "Speed-up (median)", f">= {TARGET_PROOF_SPEEDUP:g}x",
             "pymerkle without its subroot cache: median, speed-up"], rows)]
    same = [(n, r.get("same_root")) for n, r in _sizes(results) if r.get("same_root") is not None]
    if same:
        sections.append("Same work: pactlog's and pymerkle's RFC 9162 roots over the same entries are "
                        + ", ".join(f"{'equal' if ok else '**different**'} at {size_label(n)}" for n, ok in same) + ".")
    return "\n\n".join(sections)


def opening(results: dict, targets: Targets) -> str:
    t_open = targets.declare("open", f"open an existing 10^6-entry log and produce the first proof <= {duration(TARGET_OPEN)}")
    t_speed = targets.declare("open_speedup", f"open + first proof >= {TARGET_OPEN_SPEEDUP:g}x faster than pymerkle's")
    rows = []
    for n, r in _sizes(results):
        o = r["open"]
        met = t_open.add(size_label(n), duration(o["median"]), o["median"] <= TARGET_OPEN) if n == MILLION else None
        pm = r.get("pymerkle_open")
        if pm:
            speedup = pm["median"] / o["median"]
            met_pm = t_speed.add(size_label(n), times(speedup), speedup >= TARGET_OPEN_SPEEDUP) if n == MILLION else None
            pm_cells = [f"{duration(pm['median'])} ({duration(pm['p99'])})", str(pm["n"]), times(speedup), verdict(met_pm)]
        else:
            pm_cells = ["skipped", "—", "—", "n/a"]
        rows.append([size_label(n), f"{duration(o['median'])} ({duration(o['p99'])})", str(o["n"]), verdict(met), *pm_cells])
    return "\n\n".join([
        "## 4. Opening an existing log and producing the first proof",
        "pactlog: `Log.open(path)` (new connection, size, right edge of the tree) + one inclusion proof "
        "of a random index + close. pymerkle: `SqliteTree(path)` + `prove_inclusion` + close (its open "
        "checks that the leaf ids are contiguous, a scan; its first proof reads the leaves under every "
        "sibling subtree). Targets apply at 10^6 entries; the other sizes are shown for the trend. Median (p99).",
        table(["Entries", "pactlog", "Samples", f"<= {duration(TARGET_OPEN)} at 10^6", "pymerkle", "Samples",
               "Speed-up", f">= {TARGET_OPEN_SPEEDUP:g}x at 10^6"], rows),
    ])


def bundle_verification(results: dict, targets: Targets) -> str:
    target = targets.declare("bundle", f"offline bundle verification / (its signature checks + its SHA-256 hashes) <= {TARGET_BUNDLE_RATIO}")
    rows = []
    for n, r in _sizes(results):
        b = r["bundles"]
        met = target.add(size_label(n), ratio(b["ratio"]), b["ratio"] <= TARGET_BUNDLE_RATIO)
        pm = r.get("pymerkle_proofs", {}).get("verify_inclusion")
        warm = b.get("verify_warm")
        rows.append([size_label(n), f"{duration(b['verify']['median'])} ({duration(b['verify']['p99'])})",
                     f"{duration(b['bare']['median'])}", f"{b['signature_checks']} + {b['hashes']:.0f}",
                     ratio(b["ratio"]), verdict(met),
                     f"{duration(warm['median'])}, ratio {ratio(b['ratio_warm'])}" if warm else "—",
                     f"{b['bundle_bytes']:,.0f}",
                     duration(pm["median"]) if pm else "skipped", str(b["verify"]["n"])])
    return "\n\n".join([
        "## 5. Offline verification of a bundle",
        "pactlog: `ledger.verify.verify_bundle(data, Policy.for_log(vkey))` of a one-entry bundle (parse "
        "the tlog-proof, open the signed checkpoint under the policy, decode the entry strictly, verify its "
        "signature, leaf hash, inclusion proof), each as a one-shot verifier would run it: the ledger's memo "
        "caches (parsed notes and keys) are emptied before each sample; the verdict is on this figure. "
        "*Repeated*: the same bundles verified in a row by one process, so the shared checkpoint note and "
        "the keys are parsed once (signatures are still checked every time). Machine limit: the same Ed25519 checks (the entry's and the "
        "checkpoint's) with prepared keys plus the leaf hash and one SHA-256 per proof hash. pymerkle has "
        "no signed checkpoints or bundles; its bare `verify_inclusion` of an inclusion proof of the same "
        "tree is shown for scale. Median (p99).",
        table(["Entries", "verify_bundle (one-shot)", "bare crypto", "Signatures + hashes", f"Ratio (<= {TARGET_BUNDLE_RATIO})",
               "Verdict", "Repeated: median, ratio", "Bundle bytes", "pymerkle verify_inclusion (no signatures)", "Samples"], rows),
    ])


def storage(results: dict, targets: Targets) -> str:
    target = targets.declare("bytes", f"database bytes per entry <= entry size + {TARGET_BYTES_OVERHEAD}")
    rows = []
    for n, r in _sizes(results):
        imp = r["import"]
        entry = _entry_size(r)
        per = imp["db_bytes"] / n
        met = target.add(size_label(n), f"{per:.0f} (entry {entry:.0f})", per <= entry + TARGET_BYTES_OVERHEAD)
        pm = r.get("pymerkle_import")
        rows.append([size_label(n), f"{entry:.1f}", f"{imp['db_bytes']:,}", f"{per:.1f}", f"{per - entry:+.1f}",
                     f"<= {entry + TARGET_BYTES_OVERHEAD:.0f}", verdict(met),
                     f"{imp['db_bytes_before_checkpoint'] / n:.1f}", f"{pm['db_bytes'] / n:.1f}" if pm else "skipped"])
    return "\n\n".join([
        "## 6. Database bytes per entry",
        "File size including the WAL after `PRAGMA wal_checkpoint(TRUNCATE)`, divided by the number of "
        "entries (one signed checkpoint stored). The entries table, its hash-prefix index (duplicate "
        "detection), the tree's node hashes (every complete subtree, ~2 per entry) and SQLite's page overhead.",
        table(["Entries", "Mean entry bytes", "Database bytes", "Bytes/entry", "Overhead/entry", "Target",
               "Verdict", "Bytes/entry before checkpoint (WAL)", "pymerkle bytes/entry"], rows),
    ])


def memory(results: dict, targets: Targets) -> str:
    sizes = _sizes(results)
    jobs = [("import", "import"), ("audit", "audit"), ("replay", "replay")]
    rows = []
    for n, r in sizes:
        cells = [size_label(n)]
        for _, key in jobs:
            job = r[key]
            cells.append(f"{mib(job['rss_peak'])} ({job['rate']:,.0f}/s)")
        workers_peak = r["import"].get("children_rss_peak", 0)
        cells.append(mib(workers_peak) if workers_peak else "—")
        pm = r.get("pymerkle_import")
        cells.append(mib(pm["rss_peak"]) if pm else "skipped")
        rows.append(cells)
    growth_targets = {name: targets.declare(f"memory_{name}", f"peak memory growth of {name} from 10^4 to 10^6 entries <= {mib(TARGET_MEMORY_GROWTH)}")
                      for name, _ in jobs}
    growth_targets["import_workers"] = targets.declare(
        "memory_import_workers", f"the same for import's largest signature-worker process <= {mib(TARGET_MEMORY_GROWTH)}")
    if len(sizes) >= 2:
        (small, rs), (large, rl) = sizes[0], sizes[-1]
        cells = [f"growth {size_label(small)}→{size_label(large)}"]
        full_range = small <= 10_000 and large >= MILLION
        for name, key in jobs:
            growth = rl[key]["rss_peak"] - rs[key]["rss_peak"]
            met = growth <= TARGET_MEMORY_GROWTH if full_range else None
            growth_targets[name].add(f"{size_label(small)}→{size_label(large)}", mib(growth), met)
            cells.append(f"{mib(growth)} — {verdict(met)}")
        worker_target = growth_targets["import_workers"]
        ws, wl = rs["import"].get("children_rss_peak", 0), rl["import"].get("children_rss_peak", 0)
        if ws and wl:
            growth = wl - ws
            met = growth <= TARGET_MEMORY_GROWTH if full_range else None
            worker_target.add(f"{size_label(small)}→{size_label(large)}", mib(growth), met)
            cells.append(f"{mib(growth)} — {verdict(met)}")
        else:
            cells.append("—")
        pms, pml = rs.get("pymerkle_import"), rl.get("pymerkle_import")
        cells.append(mib(pml["rss_peak"] - pms["rss_peak"]) if pms and pml else "—")
        rows.append(cells)
    return "\n\n".join([
        "## 7. Peak memory (fresh process per job)",
        "Peak resident set size of a fresh Python process doing one job over the whole log (`VmHWM` from "
        "/proc/self/status: `getrusage` ru_maxrss would start at the benchmark driver's own peak, as Linux "
        "carries it across exec): "
        "*import* is the bulk ingestion of section 1 with the library's default (entries streamed from the "
        "cache, `append_stream`; the importing process, and separately the largest of its signature-worker "
        "processes as `getrusage(RUSAGE_CHILDREN)` reports it); "
        "*audit* is `ledger.audit.audit` (every entry decoded and its signature verified, every node and "
        "checkpoint recomputed); *replay* streams every entry with `Log.entries()` and decodes it. The "
        "job's rate is in brackets. Target: growth from 10^4 to 10^6 entries <= 128 MiB (judged only when "
        "both sizes are in the run).",
        table(["Entries", "import (writer process)", "audit", "replay", "import: largest worker process", "pymerkle import"], rows),
    ])


RULES_PREFIX = "Rules engine: "
RULES_HEADING = "## 8. Rules engine (issue #4)"
TARGET_REPLAY_RATE = 50_000  # entries/s, one core
TARGET_INCREMENTAL_GROWTH = 2.0  # median sync per appended entry, largest size / smallest
TARGET_AS_OF = 5e-3  # seconds
TARGET_EXPLAIN = 50e-3  # seconds, explain + cited + bundle


def rules_engine(results: dict, targets: Targets) -> str:
    """Section 8 from ``results["rules"]`` (bench/rules.py); the placeholder when no size was run."""
    rules = results.get("rules") or {"sizes": {}, "skipped": []}
    sizes = sorted((int(n), r) for n, r in rules["sizes"].items())
    skipped = "; ".join(f"{size_label(int(n))} ({why})" for n, why in rules.get("skipped", []))
    if not sizes:
        return "\n\n".join([
            f"{RULES_HEADING} — placeholder",
            "**Rules engine figures: not yet measured** in this run"
            + (f": sizes left out: {skipped}." if skipped else " (no size asked for).")
            + " `python -m bench --sizes 10000,100000 --only rules` measures them (bench/rules.py).",
        ])
    replay = targets.declare("rules_replay", f"{RULES_PREFIX}full replay of a coalition log, decode + engine, one core "
                                             f">= {TARGET_REPLAY_RATE:,} entries/s (the plain engine, and the engine "
                                             f"with its state on disk that a process without a usable cache runs)")
    incremental = targets.declare("rules_incremental", f"{RULES_PREFIX}sync per appended entry flat with log length "
                                                       f"(median and mean at the largest size <= {TARGET_INCREMENTAL_GROWTH:g}x the smallest)")
    as_of = targets.declare("rules_as_of", f"{RULES_PREFIX}as-of query for an old day (actor view), median <= {duration(TARGET_AS_OF)}")
    explain = targets.declare("rules_explain", f"{RULES_PREFIX}explain + its bundle, first in a process (old and current day) "
                                               f"<= {duration(TARGET_EXPLAIN)}")
    memory_target = targets.declare("rules_memory", f"{RULES_PREFIX}peak memory independent of log length (growth of "
                                                    f"the peak of every job a command runs, from the smallest to the largest "
                                                    f"size <= {mib(TARGET_MEMORY_GROWTH)}; the plain in-memory engine, "
                                                    f"which holds the whole state by design, shown apart)")
    rows = []
    for n, r in sizes:
        rp, sy, q, inc = r["replay"], r["sync"], r["queries"], r["incremental"]
        label = size_label(n)
        on_disk = r.get("replay_on_disk", {}).get("rate")     # older results lack it
        met_replay = replay.add(
            label, f"{rp['streamed_rate']:,.0f}/s" + (f", state on disk {on_disk:,.0f}/s" if on_disk else ""),
            min(rp["streamed_rate"], on_disk or rp["streamed_rate"]) >= TARGET_REPLAY_RATE)
        old = q["actor_old"]
        met_as_of = as_of.add(label, duration(old["median"]), old["median"] <= TARGET_AS_OF)
        first = max(q["explain_old_first"]["seconds"], q["explain_current_first"]["seconds"])
        met_explain = explain.add(label, duration(first), first <= TARGET_EXPLAIN)
        rows.append([
            label, str(rp["days"]),
            f"{rp['streamed_rate']:,.0f} ({duration(rp['streamed_seconds'])})",
            f"{on_disk:,.0f}" if on_disk else "—", verdict(met_replay),
            f"{rp['engine_rate']:,.0f}", f"{sy['rate']:,.0f} ({duration(sy['seconds'])})",
            f"{duration(inc['median'])} / {duration(inc['p90'])} / {duration(inc['max'])} / {duration(inc['mean'])} ({inc['n']})",
            duration(inc["first_seconds"]),
            f"{duration(old['median'])} ({duration(old['p99'])}), day {q['old_day']}", verdict(met_as_of),
            _explain_cell(q["explain_old_first"]), _explain_cell(q["explain_current_first"]),
            duration(sorted(q["explain_old_again"])[len(q["explain_old_again"]) // 2]), verdict(met_explain),
        ])
    (small, rs), (large, rl) = sizes[0], sizes[-1]
    jobs = (("replay", "replay (streamed)"), ("replay_on_disk", "replay, state on disk"), ("sync", "cold cache build"),
            ("queries", "queries + explain"), ("digest", "state digest"), ("incremental", "incremental"))
    jobs = tuple(job for job in jobs if all(job[0] in r for _, r in sizes))   # results of older runs lack some

    def cell(r: dict, key: str) -> str:
        extra = {"digest": lambda j: duration(j["seconds"]), "replay_on_disk": lambda j: f"{j['rate']:,.0f}/s"}.get(key)
        return mib(r[key]["rss_peak"]) + (f" ({extra(r[key])})" if extra else "")

    memory_rows = [[size_label(n)] + [cell(r, key) for key, _ in jobs] for n, r in sizes]
    if len(sizes) >= 2:
        scope = f"{size_label(small)}→{size_label(large)}"
        growth = {key: rl[key]["rss_peak"] - rs[key]["rss_peak"] for key, _ in jobs}
        judged = {key: g for key, g in growth.items() if key != "replay"}   # the plain engine: shown apart
        worst_key = max(judged, key=judged.get)
        worst = judged[worst_key]
        full_range = small <= 10_000 and large >= MILLION  # as in section 7: judged over 10^4→10^6 only
        memory_target.add(scope, f"largest growth {mib(worst)} ({dict(jobs)[worst_key]}, "
                                 f"{worst / (large - small) / 1024:.2f} KiB per added entry); plain in-memory "
                                 f"engine {mib(growth['replay'])} ({growth['replay'] / (large - small) / 1024:.2f} "
                                 f"KiB per added entry, the state it holds)",
                          worst <= TARGET_MEMORY_GROWTH if full_range else None)
        memory_rows.append([f"growth {scope}"] + [mib(growth[key]) for key, _ in jobs])
        grew = {stat: rl["incremental"][stat] / rs["incremental"][stat] for stat in ("median", "mean")}
        incremental.add(scope, "; ".join(f"{stat} {grew[stat]:.2f}x ({duration(rs['incremental'][stat])} → "
                                         f"{duration(rl['incremental'][stat])})" for stat in grew),
                        max(grew.values()) <= TARGET_INCREMENTAL_GROWTH)
    else:
        memory_target.add(size_label(small), "one size only", None)
        incremental.add(size_label(small), "one size only", None)
    run_sizes = ", ".join(size_label(n) for n, _ in sizes)
    return "\n\n".join([
        RULES_HEADING,
        f"**Sizes run: {run_sizes}**{' (quick sampling: not figures to quote)' if rules.get('quick') else ''}"
        + (f"; left out: {skipped}" if skipped else "")
        + ". 10^6 is measured only with `--sizes` including 1000000 and `--rules-full` (generating and signing "
        "10^6 entries is slow); the verdicts below hold for the sizes run only."
        + (f" Measured {rules['measured']}, after the rest of this report." if rules.get("measured") else ""),
        "Workload (bench/rules.py): a generated coalition of 3 governors, 8 actors and 6 monitors, "
        f"{rules.get('per_day', 1000):,} really signed entries a day (claims, verifications, transfers, retirements, "
        "commitments with attestations and appeals, pacts with joins and incidents, self-reports, audits). "
        "Each job runs in a fresh process. *Replay*: `replay(events_of(log.entries()))`, reading and decoding "
        "included (judged), and the engine alone on events decoded beforehand; *replay, state on disk*: the same "
        "replay as a process without a usable cache runs it (`Scratch.replay`, judged too). *Cold cache build*: the "
        "first `Coalition.sync()` on the log (engine plus the per-day views and snapshots written). "
        "*Incremental*: in one long-running process, `log.append(entry)` then `sync()`, timed per append "
        "(median / p90 / max / mean, samples; the appends cross a day end, whose views and tip snapshot are "
        "written by the sync that crosses it, so the mean is the amortized cost and the max that one sync); "
        "*first sync after an append, new process*: the first such `sync()` after `Coalition.open`, which "
        "restores the tip snapshot (what a short-lived process such as one CLI command pays). *As-of query*: `actor(name, as_of=old day)` (the middle day of "
        "the log), cache current, median (p99). *Explain + bundle*: `explain(\"level\", actor, as_of=day)`, "
        "`cited(...)`, `bundle(cited)` — the first call in the process (it restores the nearest snapshot and "
        "replays to the day: what one `pactlog explain` pays) for the old and the current day, and the "
        "median of three repeated calls for other actors on the old day.",
        table(["Entries", "Days", "Replay entries/s (time)", "Replay, state on disk, entries/s",
               f">= {TARGET_REPLAY_RATE:,}/s (both)", "Engine alone/s",
               "Cold cache build/s (time)", "Sync per append: median / p90 / max / mean (n)",
               "First sync after an append, new process",
               "As-of actor query, old day", f"<= {duration(TARGET_AS_OF)}",
               "Explain + bundle, old day, first (cited entries)", "Same, current day, first",
               "Same, old day, repeated", f"<= {duration(TARGET_EXPLAIN)}"], rows),
        "Peak resident memory (VmHWM) of each job's process. The memory target is judged, as in section 7, "
        f"only when the run spans 10^4 to 10^6 (growth <= {mib(TARGET_MEMORY_GROWTH)}); otherwise the growth "
        "per added entry is given so that the trend shows. *Replay (streamed)* is the plain engine "
        "(`ledger.rules.replay`, the library's pure fold), which holds the whole state in memory by design (the "
        "canonical state lists every claim, commitment, pact and ineffective entry ever made, so it grows with the "
        "log): no command runs it on a whole log, and it is shown apart from the verdict. Every other job is one a "
        "command runs: on the derived cache, or *replay, state on disk*: the same full replay as a process without "
        "a usable cache runs it (`ledger.deriver.Scratch`: journal, idle records and old list items on a scratch "
        "database; its rate in brackets, judged with the plain engine's against the replay target). *State digest*: `Coalition.digest(middle day)`, first in a fresh process "
        "(its time in brackets): the canonical state streamed through SHA-256.",
        table(["Entries"] + [name for _, name in jobs], memory_rows),
    ])


def _explain_cell(e: dict) -> str:
    return f"{duration(e['seconds'])} (explain {duration(e['explain_seconds'])}, {e['cited']} entries)"


def update_rules(text: str, results: dict) -> str:
    """An existing report with section 8 and the rules rows of its summary replaced by ``results``."""
    targets = Targets()
    section = rules_engine(results, targets)
    start = text.index("## 8. Rules engine")
    end = text.index("\n## ", start + 1)
    text = text[:start] + section + "\n" + text[end:]
    lines = [line for line in text.split("\n") if not line.startswith("| " + RULES_PREFIX)]
    summary_at = lines.index("## Summary")
    last_row = summary_at + 1
    while last_row + 1 < len(lines) and not lines[last_row + 1].startswith("## "):
        last_row += 1
    while not lines[last_row].startswith("|"):
        last_row -= 1
    rows = ["| " + " | ".join([t.text, t.measured(), verdict(t.met)]) + " |" for t in targets.values()]
    return "\n".join(lines[:last_row + 1] + rows + lines[last_row + 1:])


def summary(targets: Targets) -> str:
    rows = [[t.text, t.measured(), verdict(t.met)] for t in targets.values()]
    return "\n\n".join(["## Summary", table(["Target", "Measured", "Verdict"], rows)])


def notes(results: dict) -> str:
    budget = results["settings"]["pymerkle_budget"]
    sizes = _sizes(results)
    entry = sum(r["import"]["entry_bytes"] for _, r in sizes) / sum(r["import"]["n"] for _, r in sizes)
    return "\n\n".join([
        "## Notes",
        "\n".join([
            f"- Entries: real signed pactlog COMMIT entries (`bench/corpus.py`), {entry:.0f} bytes on average, "
            "100 signers in turn, one Ed25519 signature each. \"~300 bytes\" is as near as a real entry gets: "
            "with an empty body an entry is ~345 bytes (the signer's verifier key appears twice, the base64 "
            "signature takes 88).",
            f"- pymerkle {results['machine']['pymerkle']} is used as installed, `SqliteTree` with its defaults "
            "(rollback journal, synchronous=FULL, 1 GiB subroot cache). It stores leaves only, so operations "
            "that need large subtree roots read O(n) leaves the first time. Every capped pymerkle pass stops "
            f"after {budget:g} s (at least one sample); the sample counts in the tables show where the cap "
            "applied. Nothing of pymerkle's was skipped silently"
            + (" — but this run was started with --skip-pymerkle." if results.get("skip_pymerkle") else "."),
            "- Timings are wall-clock (`time.perf_counter`) with the garbage collector paused around each "
            "sample; medians and nearest-rank p99. One measuring process at a time (the library's own "
            "signature workers aside).",
            *_contention(results),
            "- Reproduce: `.venv/bin/python -m bench` (all sizes, ~the time noted above), or "
            "`--sizes 10000,100000 --quick` for a quick look; `python -m bench.profile` profiles the hot paths.",
        ]),
    ])


def _contention(results: dict) -> list[str]:
    """Notes where the figures themselves show that other work competed for the machine."""
    sizes = _sizes(results)
    notes = []
    cores = results["machine"].get("cores") or 1
    starved = [
        (n, r["import"]["cpu_seconds"] / r["import"]["seconds"])
        for n, r in sizes
        if cores >= 2 and n >= 100_000 and r["import"].get("cpu_seconds")
        and r["import"]["cpu_seconds"] / r["import"]["seconds"] < 0.75 * cores
    ]
    if starved:
        where = ", ".join(f"{size_label(n)} ({busy:.2f} of {cores} cores busy)" for n, busy in starved)
        notes.append(f"- Contention: the default (parallel) import used well under the machine's {cores} cores at "
                     f"{where}: other processes were competing for the CPU, so that row understates what an idle "
                     "machine does.")
    rates = {n: r["import"]["verify_rate"] for n, r in sizes}
    if rates and min(rates.values()) < 0.85 * max(rates.values()):
        notes.append("- Contention: the machine's own Ed25519 rate varied from "
                     f"{min(rates.values()):,.0f}/s to {max(rates.values()):,.0f}/s between sizes: the CPU was "
                     "shared with other work during part of the run.")
    bare = {n: r["appends"]["bare"]["median"] for n, r in sizes}
    if bare and max(bare.values()) > 2.5 * min(bare.values()):
        slow = max(bare, key=bare.get)
        notes.append(f"- Contention: the bare durable commit took {duration(bare[slow])} at {size_label(slow)} against "
                     f"{duration(min(bare.values()))} at best: the disk was busy with other work, which compresses "
                     "the append ratios measured there (every system waits on the same disk).")
    return notes


def render(results: dict) -> str:
    targets = Targets()
    sizes = _sizes(results)
    body = [
        ingestion(results, targets),
        appends(results, targets),
        proofs(results, targets),
        opening(results, targets),
        bundle_verification(results, targets),
        storage(results, targets),
        memory(results, targets),
        rules_engine(results, targets),
        notes(results),
    ]
    header = "\n\n".join([
        "# pactlog benchmark results",
        f"**Machine:** {machine.line(results['machine'])}",
        f"**Run:** logs of {', '.join(size_label(n) for n, _ in sizes)} entries; "
        f"{'quick sampling (not figures to quote)' if results['quick'] else 'full sampling'}; "
        f"pymerkle {'skipped' if results.get('skip_pymerkle') else 'measured'}; "
        f"took {results['seconds'] / 60:.1f} min; ledger at {results.get('revision', 'unknown')}; load average "
        f"{results.get('load_before', '?')} before, {results.get('load_after', '?')} after (other work on the "
        "machine shares its cores). Written by `python -m bench` (bench/run.py); do not edit by hand.",
    ])
    return "\n\n".join([header, summary(targets), *body]) + "\n"
