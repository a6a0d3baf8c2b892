"""Crash safety: SIGKILL a process appending entries at random moments, many times.

After every kill: each entry whose append was acknowledged is present, the log is a prefix of what
was submitted, the audit passes, and every stored checkpoint is consistent with the next.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from support import ORIGIN, EntryFactory, make_signer, seed
from ledger.audit import audit
from ledger.log import Log

ROOT = Path(__file__).resolve().parent.parent

# The child appends the submitted entries from where the log stands, in random small batches, and
# signs a checkpoint now and then; it prints the log size after every acknowledged (committed) call.
CHILD = r"""
import random, sys
from ledger.log import Log
from ledger.note import Signer
db, entries_path, seed_hex, rng_seed = sys.argv[1:5]
signer = Signer(sys.argv[5], bytes.fromhex(seed_hex))
datas = open(entries_path, "rb").read().split(b"\n")[:-1]
rng = random.Random(int(rng_seed))
with Log.open(db, write=True, clock=lambda: 2_000_000_000) as log:
    while log.size < len(datas):
        n = rng.randint(1, 40)
        chunk = datas[log.size: log.size + n]
        log.append_many(chunk, batch_size=rng.randint(1, 16))
        print(log.size, flush=True)
        if rng.random() < 0.2:
            log.sign_checkpoint(signer)
            print("cp", log.size, flush=True)
"""


def test_sigkill_at_random_moments_never_loses_acknowledged_entries(tmp_path):
    total = 30_000
    factory, actor = EntryFactory(), make_signer("crash.example")
    submitted = [factory(actor) for _ in range(total)]
    entries_path = tmp_path / "entries.jsonl"
    entries_path.write_bytes(b"".join(d + b"\n" for d in submitted))
    log_signer = make_signer(ORIGIN)
    db = str(tmp_path / "crash.db")
    Log.create(db, log_signer).close()

    rng = random.Random(1234)
    kills = 0
    for round_number in range(25):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, db, str(entries_path), seed(ORIGIN).hex(), str(round_number), ORIGIN],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        time.sleep(rng.uniform(0.15, 0.6))  # includes interpreter start-up: some kills land early
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        if child.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert child.returncode == 0, err.decode()[-2000:]
        acknowledged = max([int(line) for line in out.decode().split() if line.isdigit()], default=0)

        with Log.open(db) as log:
            assert log.size >= acknowledged, "an acknowledged append was lost"
            for index, data in log.entries():
                assert data == submitted[index], f"entry {index} is not what was submitted"
            report = audit(log, check_signatures=False)
            assert report.ok, report.problems
        if acknowledged == total:
            break
    assert kills >= 10, "the test should kill the writer many times"

    with Log.open(db) as log:
        report = audit(log)  # once with signatures too
        assert report.ok, report.problems
