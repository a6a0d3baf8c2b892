"""pactlog's benchmark, run on demand (never part of the test suite).

``python -m bench`` (or ``python bench/run.py``) builds logs of 10^4, 10^5 and 10^6 real signed
entries, measures ingestion, durable appends, proof generation, opening, offline bundle
verification, storage and memory, each beside the machine's own limit measured in the same run and
beside pymerkle's SQLite backend doing the same work, and writes ``bench/RESULTS.md``.

Modules:

* ``run``       the command line and the order of the measurements;
* ``corpus``    deterministic signed entries, generated once per size and cached under bench/work/;
* ``workers``   jobs run in a fresh subprocess each (import, audit, replay, pymerkle import), so that
                their peak memory (VmHWM) is theirs alone;
* ``measure``   the in-process measurements (appends, proofs, open, bundles);
* ``baseline``  the machine's limits: bare Ed25519 verification, bare durable SQLite commits;
* ``report``    targets, verdicts and the Markdown of RESULTS.md;
* ``machine``   the machine line (CPU, cores, versions, date, load, revision measured);
* ``stats``     medians, percentiles and timers;
* ``profile``   cProfile of the hot paths, for diagnosing a missed target.
"""
