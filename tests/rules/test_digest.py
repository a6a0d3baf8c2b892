"""D3 canonical state and digest; snapshots; the same digest in another process (I3)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import canonical
from ledger.errors import MalformedError
from ledger.rules import Engine, replay

from .builder import Log

ROOT = Path(__file__).resolve().parents[2]


def story() -> Log:
    """A deterministic log touching most rules (also run in a subprocess below)."""
    log = Log()
    log.accredit(0, "M1", "M2", "M3")
    log.fund(1, "A", 300)
    log.fund(1, "B", 120)
    log.commit(1, "A", "c1", 5)
    log.commit(1, "B", "c2", 9)
    log.pact(2, "A", "p", {"A": 2, "B": 1}, 2, 60, 25, 3, 20, delay=1, retention=5)
    log.join(3, "A", "p")
    log.join(3, "B", "p")
    log.attest(4, "M1", "c2", "FULFILLED")
    log.attest(4, "M2", "c2", "FULFILLED")
    log.appeal(7, "A", "c1")
    log.self_report(8, "B", 48)
    log.audit(9, "M3", "B", 30)
    log.incident(10, "M1", "p", "i1", "B", 40)
    log.incident(10, "M2", "p", "i1", "B", 44)
    log.transfer(11, "A", "C", 50)
    log.transfer(11, "C", "D", 70)
    log.decide(12, "c1", "OVERTURN")
    log.adopt2(12, "ADOPT", version=2, effective_day=20, changes={"BUFFER_PCT": 5})
    return log


def digest_in_subprocess(day: int, seed: str) -> str:
    code = ("import sys; sys.path.insert(0, 'tests');"
            "from rules.test_digest import story;"
            f"print(story().engine().digest({day}))")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_the_digest_is_sha256_of_the_canonical_state():
    engine = story().engine()
    data = engine.state_bytes(30)
    assert canonical.loads(data) == engine.view(30)          # canonical: re-encodes to the same bytes
    assert engine.digest(30) == hashlib.sha256(data).hexdigest()
    assert json.loads(data)["format"] == "pactlog-rules-state/1"


def test_the_streamed_digest_equals_the_digest_of_the_whole_state():
    log = story()
    for cid in ("z", "\ue000 high", "\U0001f600 astral", "a"):    # UTF-16 order differs from code points
        log.claim(12, "A", cid, 5)
    engine = log.engine()
    for day in (12, 20, 30):
        assert engine.streamed_digest(day) == engine.digest(day)


def test_the_digest_is_the_same_in_other_processes():
    expected = story().engine().digest(30)
    assert {digest_in_subprocess(30, seed) for seed in ("0", "1", "4242")} == {expected}


def test_replays_and_restores_give_the_same_digest():
    log = story()
    full = replay(log.events)
    restored = Engine.restore(full.snapshot())
    assert restored.digest(30) == full.digest(30) == replay(log.events).digest(30)
    assert restored.snapshot() == full.snapshot()


def test_the_digest_changes_with_the_state():
    log = story()
    before = log.engine().digest(30)
    log.retire(13, "B", 1)
    assert log.engine().digest(30) != before


def test_as_of_via_snapshot_of_the_previous_day():
    log = story()
    day_of = [(ev.time - log.events[0].time) // 86_400 for ev in log.events]
    prefix = Engine()
    for ev in log.events:
        if ev.index and day_of[ev.index] >= 10:
            break
        prefix.apply(ev)
    snapshot = prefix.snapshot()                       # end of day 9
    resumed = Engine.restore(snapshot)
    for ev in log.events:
        if ev.index and day_of[ev.index] == 10:
            resumed.apply(ev)
    cut = [ev for ev in log.events if ev.index == 0 or day_of[ev.index] <= 10]
    assert resumed.digest(10) == replay(cut).digest(10)


@pytest.mark.parametrize("data", [
    b"", b"{}", b'{"format":"pactlog-rules-snapshot/1"}', b'{"format":"other","state":{}}',
    b'{"format":"pactlog-rules-snapshot/1","state":{}}', b'{ "format":"pactlog-rules-snapshot/1","state":{}}',
])
def test_bad_snapshots_are_refused(data):
    with pytest.raises(MalformedError):
        Engine.restore(data)


def test_untracked_engines_derive_the_same_state():
    log = story()
    assert replay(log.events, track=False).digest(30) == replay(log.events).digest(30)


def test_huge_totals_still_serialise_exactly(accredited_log):
    log = accredited_log
    big = 2**53 - 1
    for actor in ("A", "B"):
        log.fund(1, actor, big)
    engine = log.engine()
    assert engine.view()["system"]["issued"] == 2 * big
    data = engine.state_bytes()
    assert str(2 * big).encode() in data
    assert Engine.restore(engine.snapshot()).digest() == engine.digest()
