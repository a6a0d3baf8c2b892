"""Derived state beside the log (ledger/derived.py, specs/derived-state.md).

The reference everywhere is a fresh replay of the log cut at day T (I2): whatever the cache
did (incremental syncs, rebuilds, thinning, read-only fallbacks), every query as of T must
equal it.  Logs are real: rules-engine events (tests/rules) signed with deterministic keys and
appended to a SQLite log.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import entry as entries
from ledger.derived import Coalition, Settings, actor_record
from ledger.deriver import commitment_wake, pact_wake
from ledger.rules.view import commitment_view, pact_view
from ledger.errors import InvalidInput
from ledger.events import events_of
from ledger.log import Log
from ledger.note import Signer
from ledger.policy import Policy
from ledger.rules import Engine, day_of, replay
from ledger.rules.explain import explain
from ledger.verify import verify_bundle
from rules.builder import EPOCH, Log as Story
from rules.generate import coalition_log

ORIGIN = "example.org/coalition"
LOG_SIGNER = Signer(ORIGIN, hashlib.sha256(b"coalition log key").digest())
FAR_FUTURE = 4_000_000_000  # the log's clock: every test entry is in its past
TINY = Settings(milestones=2, min_stride=4, flush_rows=7, flush_entries=5, evict_every=3)  # thin, flush, evict often
# Replays of more than a few entries no snapshot covers (days before the first one) go to a
# scratch database, which evicts and spills at every other entry.
SCRATCHY = Settings(milestones=2, min_stride=4, flush_rows=7, flush_entries=5, evict_every=2, tail_keep=1,
                    scratch_from=5)
# The stride stops growing at once: every day-end snapshot is kept; every flush evicts records
# and moves all but the newest item of every breach and self-report list to disk.
CAPPED = Settings(milestones=2, min_stride=4, max_stride=8, flush_rows=7, flush_entries=5, evict_every=1, tail_keep=1)
_FAKE_VKEY = re.compile(r"([A-Za-z0-9]+)\+[0-9a-f]{8}\+AQ[0-9a-f]{42}=")


class Signing:
    """Signs rules-engine events (whose vkeys are tests/rules' fake ones) as real log entries:
    every fake vkey, in signers and bodies alike, becomes the vkey of a deterministic key."""

    def __init__(self, origin: str = ORIGIN):
        self.origin = origin
        self.keys: dict[str, Signer] = {}
        self.seqs: dict[str, int] = {}

    def signer(self, fake: str) -> Signer:
        if fake not in self.keys:
            match = _FAKE_VKEY.fullmatch(fake)
            self.keys[fake] = Signer(match.group(1) if match else fake, hashlib.sha256(fake.encode()).digest())
        return self.keys[fake]

    def real(self, value):
        if isinstance(value, dict):
            return {key: self.real(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.real(item) for item in value]
        if isinstance(value, str) and _FAKE_VKEY.fullmatch(value):
            return self.signer(value).vkey
        return value

    def entry(self, ev) -> bytes:
        signers: list[Signer] = []
        for fake in ev.signers:
            key = self.signer(fake)
            if all(key.vkey != other.vkey for other in signers):
                signers.append(key)
        seq = self.seqs[signers[0].vkey] = self.seqs.get(signers[0].vkey, 0) + 1
        statement = entries.make_statement(log=self.origin, type=ev.type, signer=signers[0], seq=seq,
                                           time=ev.time, body=self.real(ev.body))
        return entries.sign(statement, signers).raw


def create_log(path, events=(), signing: Signing | None = None) -> tuple[Log, Signing]:
    signing = signing or Signing()
    log = Log.create(str(path), LOG_SIGNER, clock=lambda: FAR_FUTURE)
    if events:
        log.append_many([signing.entry(ev) for ev in events])
    return log, signing


class Written:
    """A story and the log it was written to; add to ``story`` then ``extend()`` to append."""

    def __init__(self, path, story: Story):
        self.story = story
        self.log, self.signing = create_log(path, story.events)

    def extend(self) -> None:
        self.log.append_many([self.signing.entry(ev) for ev in self.story.events[self.log.size:]])


def replay_as_of(log: Log, day: int) -> Engine:
    """The reference: a fresh engine fed the entries dated <= day (the log cut at day T)."""
    engine = Engine()
    epoch = None
    for ev in events_of(log.entries()):
        if ev.index == 0:
            epoch = ev.body["epoch"] if isinstance(ev.body, dict) else 0
        elif day_of(ev.time, epoch) > day:
            break
        engine.apply(ev)
    return engine


def assert_matches_replay(coalition: Coalition, log: Log, day: int, digest: bool = True) -> None:
    engine = replay_as_of(log, day)
    view = engine.view(day)
    actors = coalition.actors(day)
    assert {name: {k: v for k, v in a.items() if k != "breaches"} for name, a in actors.items()} == view["actors"]
    for name, actor in actors.items():
        # the breaches behind the level, as the engine's own state says (the window walked afresh)
        assert actor["breaches"] == actor_record(engine.at(day).st, name, day)["breaches"]
        assert sum(b["counted"] for b in actor["breaches"]) == actor["level"]
        assert all(b["counted"] or b["stayed"] for b in actor["breaches"])
    assert coalition.monitors(day) == view["monitors"]
    assert coalition.pacts(day) == view["pacts"]
    assert coalition.commitments(as_of=day) == view["commitments"]
    for name in view["actors"]:
        mine = coalition.commitments(name, day)
        assert mine == {cid: c for cid, c in view["commitments"].items() if c["actor"] == name}
    summary = coalition.summary(day)
    assert summary["system"] == view["system"] and summary["through_index"] == view["through_index"]
    assert summary["ruleset"]["in_force"] == view["ruleset"]["in_force"] and summary["cast"] == view["cast"]
    assert summary["projected"] == (day > coalition.current_day)
    if digest:
        assert coalition.digest(day) == engine.digest(day)
        assert_explanations_match(coalition, engine, view, day)


def assert_explanations_match(coalition: Coalition, engine: Engine, view: dict, day: int) -> None:
    """Explanations from the cache (snapshots, the journal on disk) equal those of a replay."""
    facts = [("balance", name) for name in view["actors"]] + [("level", name) for name in view["actors"]]
    facts += [("flags", name) for name in view["actors"]] + [("system", "BUFFER")]
    facts += [("claim", cid) for cid in view["claims"]] + [("commitment", cid) for cid in view["commitments"]]
    facts += [("pact", pid) for pid in view["pacts"]] + [("monitor", name) for name in view["monitors"]]
    facts += [("entry", str(index)) for index in range(1, view["through_index"] + 1, 3)]
    for fact in facts:
        assert coalition.explain(*fact, as_of=day) == explain(engine, *fact, as_of=day), fact


# --- incremental = full replay, for random coalitions --------------------------------------


@st.composite
def chunked_logs(draw):
    events = draw(coalition_log(max_entries=40))
    cuts = sorted(draw(st.sets(st.integers(1, len(events)), max_size=4)) | {len(events)})
    keep_open = draw(st.booleans())
    return events, cuts, keep_open, draw(st.sampled_from([TINY, CAPPED, SCRATCHY]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(chunked_logs())
def test_incremental_syncs_equal_a_replay_of_the_log_cut_at_every_day(case):
    events, cuts, keep_open, tuning = case
    with tempfile.TemporaryDirectory() as tmp:
        log, signing = create_log(Path(tmp) / "log.db")
        with log:
            coalition = None
            done = 0
            for cut in cuts:
                log.append_many([signing.entry(ev) for ev in events[done:cut]])
                done = cut
                if coalition is None or not keep_open:
                    if coalition is not None:
                        coalition.close()
                    coalition = Coalition.open(log, settings=tuning)
                coalition.sync()
            assert coalition.cached_size == log.size
            if tuning is TINY:
                assert len([s for s in coalition.tables.snapshot_sizes() if not s[2]]) <= TINY.milestones
            for day in range(coalition.start_day, coalition.current_day + 3):
                assert_matches_replay(coalition, log, day, digest=day % 3 == 0)
            assert_matches_replay(coalition, log, coalition.current_day + 40)
            coalition.close()


def wake_from_pact_view(view: dict) -> int | None:
    """The reference: the day a pact's view (specs/rules-rs1.md §9) next changes by itself."""
    if view["status"] == "OPEN":
        return view["open_until"] + 1
    if view["status"] == "TRIGGERED":
        return view["active_from"]
    return None


def wake_from_commitment_view(view: dict) -> int | None:
    """The reference: the day a commitment's view next changes by itself."""
    if view["status"] == "OPEN":
        return view["deadline"] + 1
    appeal = view["appeal"]
    if appeal is not None and appeal["status"] == "PENDING":
        return appeal["stay_end"] + 1
    return None


def assert_evictions_keep_what_has_a_wake_up_day(events, days_after=(0, 1, 7)) -> None:
    engine = Engine()
    for ev in events:
        engine.apply(ev)
        for day in (engine.day + d for d in days_after):
            for pact in engine.st.pacts.values():
                assert pact_wake(pact, day) == wake_from_pact_view(pact_view(pact, day))
            for c in engine.st.commitments.values():
                assert commitment_wake(c, day) == wake_from_commitment_view(commitment_view(c, day))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(coalition_log(max_entries=60))
def test_what_an_eviction_keeps_in_view_is_what_has_a_wake_up_day(events):
    assert_evictions_keep_what_has_a_wake_up_day(events)


def test_what_an_eviction_keeps_in_view_in_a_story_of_pacts_and_appeals():
    assert_evictions_keep_what_has_a_wake_up_day(story().events, days_after=range(0, 12))


# --- a story with time-driven changes on days without entries --------------------------------


def story() -> Story:
    """Defaults, pact failures, stays ending and breaches leaving the window on days without entries."""
    s = Story(changes={"SANCTION_WINDOW": 20, "APPEAL_DECISION_DAYS": 5, "ACCESS_MIN": 50})
    s.accredit(0, "M1", "M2", "M3")
    s.fund(1, "A", 300)
    s.fund(1, "B", 200)
    s.commit(2, "A", "c1", 4)                         # defaults at the start of day 5 (no entry then)
    s.commit(2, "B", "c2", 30)
    s.attest(3, "M1", "c2", "BREACHED")
    s.attest(3, "M2", "c2", "BREACHED")               # B breached on day 3
    s.appeal(4, "B", "c2")                            # stayed 4..9, lapses day 10 (no entry)
    s.commit(2 + 2, "C", "c3", 30)
    s.attest(4, "M1", "c3", "BREACHED")
    s.attest(4, "M2", "c3", "BREACHED")
    s.appeal(4, "C", "c3")
    s.pact(4, "A", "p1", {"A": 1, "B": 1}, 2, 100, 10, 1, 8, delay=3)   # fails day 9 unless joined
    s.join(4, "A", "p1")
    s.pact(4, "B", "p2", {"A": 1, "B": 1}, 1, 0, 5, 0, 20, delay=4)
    s.join(4, "B", "p2")                              # triggered day 4, ACTIVE from day 8
    s.decide(6, "c3", "OVERTURN")                     # an APPROVE that names the commitment
    s.transfer(40, "A", "B", 7)                       # long gap: c1's breach leaves the window
    s.claim(41, "C", "k9", 10)
    return s


@pytest.fixture
def written(tmp_path):
    w = Written(tmp_path / "log.db", story())
    with w.log:
        yield w


@pytest.fixture
def story_log(written):
    return written.log


def test_every_day_of_a_story_equals_replay_including_days_without_entries(story_log):
    with Coalition.open(story_log) as coalition:
        assert coalition.sync().rebuilt
        for day in range(0, 46):
            assert_matches_replay(coalition, story_log, day)
        assert coalition.commitments("A", 5)["c1"]["status"] == "BREACHED"
        assert coalition.commitments("A", 4)["c1"]["status"] == "OPEN"
        assert coalition.pacts(8)["p2"]["status"] == "ACTIVE" and coalition.pacts(7)["p2"]["status"] == "TRIGGERED"
        assert coalition.pacts(9)["p1"]["status"] == "FAILED"
        assert coalition.actor("B", 9)["breaches"][0]["stayed"] and not coalition.actor("B", 10)["breaches"][0]["stayed"]
        assert coalition.actor("A", 24)["level"] == 1 and coalition.actor("A", 25)["level"] == 0
        assert coalition.commitments("C", 5)["c3"]["status"] == "BREACHED"
        assert coalition.commitments("C", 6)["c3"]["status"] == "VOIDED"


def long_record() -> Story:
    """An actor with a long history: a breach and a self-report every day, audits now and then."""
    s = Story(changes={"SANCTION_WINDOW": 6, "HUGGING_OF": 3})
    s.accredit(0, "M1", "M2", "M3")
    for day in range(1, 30):
        s.commit(day, "A", f"c{day}", day)             # defaults at the start of the next day
        s.self_report(day, "A", 47 + day % 3)
        if day % 4 == 0:
            s.audit(day, "M1", "A", 60)
    return s


def test_long_lists_moved_to_disk_read_as_a_replay(tmp_path):
    written = Written(tmp_path / "log.db", long_record())
    with written.log, Coalition.open(written.log, settings=CAPPED) as coalition:
        coalition.sync()
        stored = coalition.tables._read("SELECT kind, count(*) FROM derived_sequences GROUP BY kind")
        assert dict(stored)["breaches"] > 20 and dict(stored)["reports"] > 20
        for day in range(0, 34, 3):
            assert_matches_replay(coalition, written.log, day)
        assert coalition.explain("level", "A", as_of=20)["value"] == 3


def test_records_on_disk_stream_in_canonical_key_order(tmp_path):
    s = Story()
    s.accredit(0, "M1", "M2", "M3")
    for day, cid in enumerate(("z", "\ue000 high", "\U0001f600 astral", "a", "\uffff", "m"), start=1):
        for n in range(5):                              # enough entries a day for a flush (CAPPED)
            s.claim(day, "A", f"{cid}{n}", 5)
    written = Written(tmp_path / "log.db", s)
    with written.log, Coalition.open(written.log, settings=CAPPED) as coalition:
        coalition.sync()
        assert coalition.tables._read("SELECT count(*) FROM derived_records")[0][0] >= 20
        for day in range(0, 9):
            assert_matches_replay(coalition, written.log, day)


def test_iso_dates_and_day_numbers(story_log):
    with Coalition.open(story_log) as coalition:
        assert coalition.day("2026-01-06") == 5 == coalition.day("5") == coalition.day(5)
        assert coalition.date_of(5) == "2026-01-06"
        assert coalition.day(None) == coalition.current_day == 41
        assert coalition.actor("A", "2026-01-06") == coalition.actor("A", 5)


@pytest.mark.parametrize("bad", ["x", "01", "+3", " 3", "3 ", "-0", "2026-13-01", "2026-02-30", "2026-1-01", "", "1e3"])
def test_bad_days_are_refused(story_log, bad):
    with Coalition.open(story_log) as coalition:
        with pytest.raises(InvalidInput) as caught:
            coalition.actor("A", bad)
        assert caught.value.reason == "bad_day"


def test_days_before_the_coalition_are_refused(tmp_path):
    s = Story(genesis_day=3)
    s.fund(4, "A", 100)
    log, _ = create_log(tmp_path / "log.db", s.events)
    with log, Coalition.open(log) as coalition:
        assert coalition.start_day == 3
        for day in (2, -1, "2026-01-01"):
            with pytest.raises(InvalidInput) as caught:
                coalition.actors(day)
            assert caught.value.reason == "before_start"
        assert_matches_replay(coalition, log, 3)


def test_unknown_actor_and_unknown_fact(story_log):
    with Coalition.open(story_log) as coalition:
        for call in (lambda: coalition.actor("Nobody"), lambda: coalition.commitments("Nobody"),
                     lambda: coalition.actor("M1")):
            with pytest.raises(InvalidInput) as caught:
                call()
            assert caught.value.reason == "unknown_actor" and "A, B, C, D" in caught.value.hint
        for kind, args in (("nonsense", ()), ("entry", ("x",)), ("balance", ("Nobody",)), ("level", ())):
            with pytest.raises(InvalidInput):
                coalition.explain(kind, *args)


# --- the cache is never trusted over the log --------------------------------------------------


def _count(path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _execute(path, sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("damage", [
    "DROP TABLE derived_views", "DELETE FROM derived_meta", "UPDATE derived_meta SET value = 'ab' WHERE key = 'root'",
    "UPDATE derived_meta SET value = 'other code' WHERE key = 'rules'",
    "UPDATE derived_meta SET value = '999' WHERE key = 'size'",
    "ALTER TABLE derived_records ADD COLUMN note TEXT",        # a table made by other code
])
def test_a_missing_or_untrusted_cache_is_rebuilt(story_log, damage):
    path = story_log.store.path
    with Coalition.open(story_log) as coalition:
        coalition.sync()
        expected = coalition.actors(20), coalition.digest(20)
    _execute(path, damage)
    if damage.startswith("UPDATE derived_meta SET value = 'ab'"):
        _execute(path, "UPDATE derived_views SET data = replace(data, '\"liquid\":', '\"liquid\":1') WHERE kind = 'actor'")
    with Coalition.open(story_log) as coalition:
        assert coalition.cached_size == 0
        result = coalition.sync()
        assert result.rebuilt and result.size == story_log.size
        assert (coalition.actors(20), coalition.digest(20)) == expected


def test_a_log_grown_behind_the_caches_back(written):
    log = written.log
    with Coalition.open(log) as coalition:
        coalition.sync()
    synced = log.size
    written.story.fund(42, "D", 80)
    written.story.commit(43, "D", "d1", 43)
    written.story.retire(50, "D", 5)
    written.extend()                         # another writer: nobody syncs the cache
    with Log.open(log.store.path) as reader:
        # a reader that may not write answers from the rows that are complete, the rest in memory
        with Coalition.open(reader, write=False) as coalition:
            assert not coalition.writable and coalition.cached_size == synced < reader.size
            for day in (3, 40, 41, 42, 44, 50, 55):
                assert_matches_replay(coalition, reader, day)
        with Coalition.open(reader) as coalition:
            result = coalition.sync()
            assert not result.rebuilt and result.applied == reader.size - synced
            assert coalition.cached_size == reader.size
            for day in (41, 44, 50):
                assert_matches_replay(coalition, reader, day)


def test_a_snapshot_that_does_not_restore_means_a_rebuild(written):
    log = written.log
    with Coalition.open(log) as coalition:
        coalition.sync()
    _execute(log.store.path, "UPDATE derived_snapshots SET data = x'789c0300000000'")   # zlib of b""
    with Coalition.open(log) as coalition:
        assert coalition.digest(7) == replay_as_of(log, 7).digest(7)   # replayed from entry 0 instead
    written.story.retire(42, "A", 1)
    written.extend()
    with Coalition.open(log) as coalition:
        assert coalition.sync().rebuilt
        assert_matches_replay(coalition, log, 42)


def test_a_cache_ahead_of_the_readers_view_of_the_log(written):
    log = written.log
    with Log.open(log.store.path) as reader:
        seen = reader.size
        written.story.retire(42, "A", 1)
        written.extend()
        with Coalition.open(log) as coalition:
            coalition.sync()
        with Coalition.open(reader) as coalition:     # the cache covers more than `reader` saw
            assert coalition.log.size == coalition.cached_size == seen + 1
            assert coalition.current_day == 42
            assert_matches_replay(coalition, coalition.log, 42)


def test_a_busy_cache_makes_a_read_only_coalition_that_still_answers(story_log):
    path = story_log.store.path
    with open(path + ".derived.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with Coalition.open(story_log) as coalition:
            assert not coalition.writable and "another process" in coalition.read_only_reason
            assert not coalition.sync().written
            assert _count(path, "derived_meta") == 0 if _has_table(path, "derived_meta") else True
            for day in (0, 5, 41, 60):
                assert_matches_replay(coalition, story_log, day)


def test_a_replay_without_a_usable_cache_keeps_its_state_on_a_scratch_database(tmp_path):
    written = Written(tmp_path / "log.db", long_record())
    path = written.log.store.path
    scratchy = Settings(scratch_from=1, evict_every=2, tail_keep=1)
    with written.log, open(path + ".derived.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)             # another process holds the cache: read-only
        with Coalition.open(written.log, settings=scratchy) as coalition:
            assert not coalition.writable and coalition.cached_size == 0
            for day in (0, 9, 20, 33):
                assert_matches_replay(coalition, written.log, day)
            scratch = coalition._scratch
            assert scratch is not None and scratch.tables._read("SELECT count(*) FROM derived_journal")[0][0] > 0
        assert not Path(scratch.dir).exists()


class Recorder:
    """A progress reporter that keeps what it was told."""

    def __init__(self, total: int):
        self.total, self.counts, self.finished = total, [], 0

    def __call__(self, done: int) -> None:
        self.counts.append(done)

    def done(self) -> None:
        self.finished += 1


def test_a_cache_far_behind_that_cannot_be_updated_leaves_a_long_replay_to_a_scratch_database(tmp_path):
    story = long_record()
    later = story.events[20:]
    del story.events[20:]
    written = Written(tmp_path / "log.db", story)
    path = written.log.store.path
    tuning = Settings(milestones=2, min_stride=4, scratch_from=30, evict_every=8, tail_keep=1)
    with written.log:
        with Coalition.open(written.log, settings=tuning) as coalition:
            assert coalition.sync().size == 20             # the cache covers the first 20 entries
        story.events.extend(later)
        written.extend()
        assert written.log.size - 20 >= tuning.scratch_from
        reports: list[Recorder] = []
        with open(path + ".derived.lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)             # another process holds the cache: read-only
            with Coalition.open(written.log, settings=tuning) as coalition:
                assert not coalition.writable and coalition.cached_size == 20
                coalition.long_replay = lambda total: reports.append(Recorder(total)) or reports[-1]
                for day in (5, 33):
                    assert_matches_replay(coalition, written.log, day)
                assert coalition._scratch is not None    # not the old snapshot plus a tail kept in memory
    assert reports, "a long replay reports its progress"
    for report in reports:
        assert report.finished == 1 and report.counts == sorted(report.counts)
        assert report.counts[-1] <= report.total and len(report.counts) >= 2
    with Log.open(path) as log, Coalition.open(log, settings=tuning) as coalition:   # the cache brought up to date
        coalition.sync()
        for day in range(0, 34, 4):
            assert_matches_replay(coalition, log, day)
            coalition.explain("level", "A", as_of=day)
        assert coalition._scratch is None, "a current cache answers old days from its snapshots"


@pytest.mark.parametrize("tuning", [TINY, Settings(scratch_from=1, evict_every=2, tail_keep=1)],
                         ids=["from-snapshots", "scratch"])
def test_an_engine_before_an_entry_is_the_logs_prefix_and_judges_it_again(tmp_path, tuning):
    written = Written(tmp_path / "log.db", long_record())
    log = written.log
    with log:
        events = list(events_of(log.entries()))
        with Coalition.open(log, settings=tuning) as coalition:
            if tuning is TINY:
                coalition.sync()                      # snapshots to start from
            for index in (1, len(events) // 2, len(events) - 1):
                prefix = replay(events[:index])
                engine = coalition.engine_before(index)
                assert engine.last_index == index - 1
                assert engine.state_bytes(prefix.day) == prefix.state_bytes(prefix.day)
                assert engine.apply(events[index]) == prefix.apply(events[index])


def _has_table(path, name: str) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None
    finally:
        conn.close()


def test_snapshots_stay_bounded_and_old_days_replay_from_them(tmp_path):
    s = Story()
    s.accredit(0, "M1", "M2")
    for day in range(1, 120):
        s.fund(day, "A" if day % 2 else "B", 10 + day)
        if day % 7 == 0:
            s.commit(day, "A", f"c{day}", day + 3)
    log, signing = create_log(tmp_path / "log.db", s.events[:50])
    with log:
        settings = Settings(milestones=3, min_stride=8, flush_rows=50, flush_entries=40)
        done = 50
        while done < len(s.events):
            log.append_many([signing.entry(ev) for ev in s.events[done:done + 37]])
            done += 37
            with Coalition.open(log, settings=settings) as coalition:
                coalition.sync()
                sizes = coalition.tables.snapshot_sizes()
                assert len([x for x in sizes if not x[2]]) <= 3 and len([x for x in sizes if x[2]]) <= 1
        with Coalition.open(log, settings=settings) as coalition:
            for day in (1, 30, 61, 90, 119):
                assert_matches_replay(coalition, log, day)


def test_digests_are_memoised_only_while_they_hold(written):
    log = written.log
    with Coalition.open(log) as coalition:
        coalition.sync()
        first = coalition.digest(41)
        assert coalition.tables.digest(41) == (log.size, first)
        assert coalition.digest(41) == first
    written.story.retire(41, "A", 1)      # one more entry dated 41: the digest of day 41 changes
    written.extend()
    with Coalition.open(log, write=False) as coalition:
        assert coalition.digest(41) != first
        assert coalition.digest(41) == replay_as_of(log, 41).digest(41)


# --- explanations and their offline bundles (I6) ---------------------------------------------


FACTS = [("balance", "A"), ("balance", "B", "liquid"), ("level", "A"), ("level", "B"), ("access", "A"),
         ("flags", "B"), ("leaderboard", "B"), ("commitment", "c2"), ("pact", "p1"), ("claim", "k9"),
         ("monitor", "M1"), ("system", "BUFFER"), ("entry", "5")]


def test_explanations_cite_entries_dated_by_T_and_one_bundle_proves_them(story_log):
    story_log.sign_checkpoint(LOG_SIGNER)
    policy = Policy.for_log(LOG_SIGNER.vkey)
    with Coalition.open(story_log) as coalition:
        coalition.sync()
        for day in (3, 9, 41):
            for fact in FACTS:
                try:
                    explanation = coalition.explain(*fact, as_of=day)
                except InvalidInput:
                    continue       # the subject does not exist yet on that day
                cited = coalition.cited(explanation)
                assert cited[0] == 0
                for index in cited:
                    assert day_of(entries.decode_entry(story_log.entry_bytes(index)).statement.time, EPOCH) <= day \
                        or index == 0
                data, size = coalition.bundle(cited)
                verified = verify_bundle(data, policy)
                assert [v.index for v in verified] == cited and size == story_log.size


def test_bundles_need_a_checkpoint_covering_every_cited_entry(written):
    log = written.log
    with Coalition.open(log) as coalition:
        cited = coalition.cited(coalition.explain("balance", "C"))
        with pytest.raises(InvalidInput) as caught:
            coalition.bundle(cited)
        assert caught.value.reason == "no_checkpoint" and "pactlog checkpoint" in caught.value.hint
    log.sign_checkpoint(LOG_SIGNER)
    written.story.claim(42, "C", "k10", 5)
    written.extend()
    with Coalition.open(log) as coalition:
        cited = coalition.cited(coalition.explain("claim", "k10"))
        assert cited == [0, log.size - 1]
        with pytest.raises(InvalidInput) as caught:
            coalition.bundle(cited)
        assert caught.value.reason == "not_checkpointed" and "pactlog checkpoint" in caught.value.hint


# --- logs that are not coalition logs -----------------------------------------------------------


def test_an_empty_log_or_one_without_a_valid_genesis_is_refused(tmp_path, make_entry, alice):
    log, _ = create_log(tmp_path / "empty.db")
    with log:
        with pytest.raises(InvalidInput) as caught:
            Coalition.open(log)
        assert caught.value.reason == "no_genesis"
    with Log.create(str(tmp_path / "notes.db"), LOG_SIGNER, clock=lambda: FAR_FUTURE) as notes:
        factory = type(make_entry)(ORIGIN)
        notes.append(factory(alice))
        with pytest.raises(InvalidInput) as caught:
            Coalition.open(notes)
        assert caught.value.reason == "no_genesis" and "NOTE" in caught.value.message
    bad = Story()
    bad.events[0] = type(bad.events[0])(0, bad.events[0].time, "GENESIS", bad.events[0].signers,
                                         {**bad.genesis_body, "epoch": "soon"})
    log, _ = create_log(tmp_path / "bad.db", bad.events)
    with log:
        with pytest.raises(InvalidInput) as caught:
            Coalition.open(log)
        assert "epoch" in caught.value.message
