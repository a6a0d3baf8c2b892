"""How the derived-state cache is written: the per-day rows, the snapshots, what moves to disk.

One writer process at a time (it holds ``<db>.derived.lock``) feeds the log's entries to a rules
engine kept on disk (:mod:`ledger.disk_state`) and writes, in one transaction per flush, the rows
of the days it closes, the snapshots it keeps, the journal and the records it evicts, and the meta
saying how far the rows are complete. :mod:`ledger.derived` reads them. specs/derived-state.md
sections 3 to 5a are the design.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .disk_state import JSON_ROWS, MARSHAL_ROWS, RowCodec, StoredJournal, StoredRecords, evicted_rows, spilled_rows
from .events import events_of
from .rules import Engine
from .rules.events import day_of
from .rules.params import LEVEL_CAP
from .rules.records import SPILLABLE, TAIL_LISTS, TailList, tail_slots
from .rules.pacts import status_on
from .rules.sanctions import appeal_status, counted_breaches, stayed
from .rules.view import actor_view, commitment_view, monitor_view, pact_view
from .store import DerivedTables

FORMAT = "pactlog-derived/1"
Progress = Callable[[int], None]


class Reporter(Protocol):
    """A progress reporter: called with the number of entries done, then ``done()`` once."""

    def __call__(self, done: int) -> None: ...

    def done(self) -> None: ...


@dataclass(frozen=True)
class Settings:
    """Tunables of the cache (tests shrink them to exercise thinning and flushing)."""

    milestones: int = 8          # day-end snapshots kept besides the tip, until the stride reaches max_stride
    min_stride: int = 4096       # fewest entries between two kept snapshots
    max_stride: int = 4096       # most entries between two kept snapshots (what an old-day query replays)
    evict_every: int = 4096      # entries between two evictions of untouched records to disk
    tail_keep: int = 64          # newest items of an actor's breach or self-report list kept in memory
    scratch_from: int = 20_000   # entries from which a replay without a usable cache keeps its state on disk
    flush_rows: int = 20_000     # view rows held in memory before a write transaction
    flush_entries: int = 50_000  # entries applied between write transactions


@contextmanager
def bulk():
    """Building or restoring an engine allocates millions of small, long-lived, acyclic containers;
    Python's cycle collector would traverse them again and again (restores take twice as long, and
    every later collection pauses for the whole state). Pause it meanwhile, then move what was
    built out of its sight (``gc.freeze``: reference counting still frees it) and resume it as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# --- the rules code the cache was made with ---------------------------------------------------

_FINGERPRINT: str | None = None


def rules_fingerprint() -> str:
    """SHA-256 over the source of the rules engine, the entry bridge and this module: a cache made
    by other code is rebuilt, never trusted."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        here = Path(__file__).resolve().parent
        files = sorted((here / "rules").glob("*.py")) + [here / name for name in (
            "events.py", "derived.py", "deriver.py", "disk_state.py")]
        h = hashlib.sha256(FORMAT.encode())
        for path in files:
            try:
                h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                h.update(path.name.encode() + b"\0missing\0")
        _FINGERPRINT = h.hexdigest()
    return _FINGERPRINT


# --- the small views, as stored ---------------------------------------------------------------


def _dump(value) -> str:
    return _ENCODER.encode(value)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)   # built once: rows are many


def actor_record(st, name: str, day: int, appealed: Iterable[str] | None = None) -> dict:
    """An actor's view as of ``day`` (specs/rules-rs1.md §9) and the breaches its level rests on:
    the newest ones that count (as many as the level cap) and every breach in the sanction window
    that an undecided appeal stays. ``appealed``: the actor's commitments with a pending appeal,
    when the caller tracks them (else the window is walked)."""
    params = st.params(day)
    newest = counted_breaches(st, name, day, limit=LEVEL_CAP)
    lowest = day - params["SANCTION_WINDOW"] + 1
    if appealed is None:
        appealed = []
        for cid in reversed(st.breaches.get(name, ())):
            if st.commitments[cid]["resolved_day"] < lowest:
                break
            appealed.append(cid)
    shown = set(newest)
    for cid in appealed:
        c = st.commitments[cid]
        if c["status"] == "BREACHED" and c["resolved_day"] >= lowest and stayed(c, day):
            shown.add(cid)
    breaches = []
    for cid in shown:
        c = st.commitments[cid]
        view = commitment_view(c, day)
        breaches.append({"commitment": cid, "breach_day": c["resolved_day"], "status": view["status"],
                         "stayed": view["stayed"], "appeal": view["appeal"]["status"] if view["appeal"] else None,
                         "counted": cid in newest})
    breaches.sort(key=lambda b: (b["breach_day"], b["commitment"]))
    return {"view": actor_view(st, name, day, params), "breaches": breaches}


def coalition_record(st, day: int) -> dict:
    version = st.version_at(day)
    return {"system": dict(st.sys), "ruleset": {"in_force": version["version"], "params": version["params"]},
            "through_index": st.last_index, "cast": st.cast}


# When a pact's or a commitment's view changes with time, without an entry naming it: read from
# the record itself, as the deriver schedules its rows for that day and an eviction (asking it of
# every resident pact and commitment) keeps in memory those that still have such a day.


def pact_wake(pact: dict, day: int) -> int | None:
    """The next day after ``day`` on which a pact's view changes without an entry naming it."""
    status = status_on(pact, day)
    if status == "OPEN":
        return pact["open_until"] + 1          # R9 failure at the start of that day
    if status == "TRIGGERED":
        return pact["active_from"]             # becomes ACTIVE
    return None


def commitment_wake(c: dict, day: int) -> int | None:
    """The next day after ``day`` on which a commitment's view changes without an entry naming it."""
    if c["status"] == "OPEN":
        return c["deadline"] + 1               # R5 default at the start of that day
    appeal = c["appeal"]
    if appeal is not None and appeal_status(appeal, day) == "PENDING":
        return appeal["stay_end"] + 1          # the stay ends, the appeal LAPSES
    return None


def _touched(ev) -> tuple[list[str], list[str]]:
    """(pact ids, commitment ids) an entry names: the only pacts and commitments whose view an entry
    can change (see specs/derived-state.md, 'Which rows a day writes')."""
    body = ev.body if isinstance(ev.body, dict) else {}
    pacts, commitments = [], []
    if ev.type == "PACT" and isinstance(body.get("id"), str):
        pacts.append(body["id"])
    if isinstance(body.get("pact"), str):
        pacts.append(body["pact"])
    if ev.type == "COMMIT" and isinstance(body.get("id"), str):
        commitments.append(body["id"])
    if isinstance(body.get("commitment"), str):
        commitments.append(body["commitment"])
    proposal = body.get("proposal")
    if ev.type == "APPROVE" and isinstance(proposal, dict) and isinstance(proposal.get("commitment"), str):
        commitments.append(proposal["commitment"])
    return pacts, commitments


def events_until(entries: Iterator[tuple[int, bytes]], epoch: int, last_day: int | None) -> Iterator:
    """The events of ``entries`` up to the last one dated <= ``last_day`` (all if None): days never
    decrease along a log, so the first later one ends them. Entry 0 (the genesis) always counts."""
    for ev in events_of(entries):
        if last_day is not None and ev.index > 0 and day_of(ev.time, epoch) > last_day:
            return
        yield ev


def restore_engine(tables: DerivedTables, snap: tuple[int, int, bytes]) -> Engine:
    """The engine of a stored snapshot (size, day, data), its journal read from the cache: the
    records of the snapshot's past, positions up to 2·size − 1 (specs/derived-state.md §5a)."""
    engine = Engine.restore(zlib.decompress(snap[2]), trusted=True)
    keep_on_disk(engine, tables, 2 * snap[0] - 1)
    return engine


def keep_on_disk(engine: Engine, tables: DerivedTables, through: int, codec: RowCodec = JSON_ROWS) -> None:
    """Give the engine the journal and the evicted records stored up to position ``through``."""
    journal = engine.st.journal = StoredJournal(tables, through, codec)
    engine.st.keep_records_in(StoredRecords(tables, journal))


def empty_engine_on_disk(tables: DerivedTables, codec: RowCodec = JSON_ROWS) -> Engine:
    """A new engine, before its first entry, whose state not in use goes to ``tables``."""
    engine = Engine()
    keep_on_disk(engine, tables, -1, codec)
    return engine


# --- deriving: the engine, the rows it writes, the snapshots it keeps ---------------------------


class Deriver:
    """Feeds entries to an engine and writes the per-day rows and snapshots (one writer process)."""

    def __init__(self, coalition, engine: Engine, size: int, stride: int, milestones: list[int]):
        self.c = coalition
        self.tables = coalition.tables
        self.settings = coalition.settings
        self.engine = engine
        self.size = size                        # entries applied
        self.day = engine.day if size else None  # the engine's current day
        self.stride = stride
        self.milestones = milestones            # sizes of the kept day-end snapshots, ascending
        self.last: dict[tuple, str] = {}        # latest stored data per (kind, owner, name) seen
        self.dirty_pacts: set[str] = set()      # named by entries since the last rows were written
        self.dirty_commitments: set[str] = set()
        self.wake: dict[int, set[tuple[str, str]]] = {}  # day -> {("pact"|"commitment", id)}
        self.appealed: dict[str, set[str]] = {}  # actor -> its commitments with a PENDING appeal
        self.rows: list[tuple] = []
        self.new_snapshots: list[tuple[int, int, bool, bytes]] = []
        self.dropped: list[int] = []
        self.since_flush = 0
        self.since_evict = 0
        self.tip_saved_at = size if size else -1  # size of the newest stored snapshot
        self.drop_tips = False                  # the next flush replaces the stored tip

    @classmethod
    def fresh(cls, coalition) -> "Deriver":
        settings = coalition.settings
        stride = min(settings.max_stride, max(settings.min_stride, -(-coalition.log.size // settings.milestones)))
        coalition.tables.clear({"format": FORMAT, "rules": rules_fingerprint(), "size": "0", "day": "0",
                                "root": "", "stride": str(stride)})
        engine = empty_engine_on_disk(coalition.tables)
        deriver = cls(coalition, engine, 0, stride, [])
        deriver.tip_saved_at = -1
        return deriver

    @classmethod
    def resume(cls, coalition) -> "Deriver":
        """Continue from the cache: the latest snapshot, then (without writing) the entries up to
        the size the rows cover, then rebuild the in-memory schedules from the engine."""
        meta = coalition._meta
        size = int(meta["size"])
        sizes = coalition.tables.snapshot_sizes()
        snap = coalition.tables.snapshot(max_size=size)
        if snap is not None:
            engine, start = restore_engine(coalition.tables, snap), snap[0]
        else:
            engine, start = empty_engine_on_disk(coalition.tables), 0
        for ev in events_of(coalition.log.entries(start, size)):
            engine.apply(ev)
        engine.st.journal.stored_through = 2 * size - 1     # the cache holds these entries' journal
        milestones = [s for s, _, tip in sizes if not tip and s <= size]
        deriver = cls(coalition, engine, size, int(meta["stride"]), milestones)
        deriver.tip_saved_at = start
        if size:
            deriver._reload()
        return deriver

    def _reload(self) -> None:
        """After a restore: the last stored rows of the cast and the wake-up schedule."""
        st, day = self.engine.st, self.day
        for kind, names in (("actor", st.cast["actors"]), ("monitor", st.cast["monitors"]), ("coalition", [""])):
            for name in names:
                found = self.tables.view(kind, "", name, day)
                if found is not None:
                    self.last[(kind, "", name)] = found[1]
        # Pacts and commitments that will wake up are never evicted (eviction_rows): they are resident.
        for pid, pact in st.pacts.resident.items():
            self._schedule(pact_wake(pact, day), ("pact", pid), day)
        for cid, c in st.commitments.resident.items():
            self._schedule(commitment_wake(c, day), ("commitment", cid), day)
            self._note_appeal(c["actor"], cid, commitment_view(c, day))

    def _schedule(self, wake: int | None, item: tuple[str, str], today: int) -> None:
        if wake is not None and wake > today:
            self.wake.setdefault(wake, set()).add(item)

    def _note_appeal(self, actor: str, cid: str, view: dict) -> None:
        if view["appeal"] is not None and view["appeal"]["status"] == "PENDING":
            self.appealed.setdefault(actor, set()).add(cid)
        elif cid in self.appealed.get(actor, ()):
            self.appealed[actor].discard(cid)

    # -- the fold ------------------------------------------------------------------------------

    def run(self, entries: Iterator[tuple[int, bytes]], progress: Progress | None) -> None:
        engine, epoch = self.engine, self.c.epoch
        done = 0
        for ev in events_of(entries):
            if ev.index == 0:
                engine.apply(ev)
                self.day = engine.day
            else:
                day = day_of(ev.time, epoch)
                if day > self.day:
                    self._close_day(ev.index, day)
                engine.apply(ev)
                pacts, commitments = _touched(ev)
                self.dirty_pacts.update(pacts)
                self.dirty_commitments.update(commitments)
            self.size = ev.index + 1
            self.since_flush += 1
            self.since_evict += 1
            done += 1
            if progress and done % 4096 == 0:
                progress(done)
        if self.size:
            self._write_day(self.day)          # the tip's rows, rewritten if more entries of the day come
        if self._tip_due():
            self._flush(self.size, self.day, evict=True)
            self._save_tip()
        self._flush(self.size, self.day)
        if progress:
            progress(done)

    def _close_day(self, size: int, next_day: int) -> None:
        """The first entry of ``next_day`` arrives: the current day is over. Write its rows, maybe
        keep a snapshot of its end, then write the rows of the days without entries in between."""
        closed = self.day
        self._write_day(closed)
        if size - (self.milestones[-1] if self.milestones else 0) >= self.stride:
            self._flush(size, closed, evict=True)   # the snapshot then holds only the records in use
            self._milestone(size, closed)
        for gap in range(closed + 1, next_day):
            self.engine.advance(gap)
            self.day = gap
            self._write_day(gap)
        self.day = next_day
        if len(self.rows) >= self.settings.flush_rows or self.since_flush >= self.settings.flush_entries \
                or self.new_snapshots:
            self._flush(size, closed)

    def _write_day(self, day: int) -> None:
        """The rows of ``day`` that differ from the latest stored ones, for the state so far: the
        whole cast, and the pacts and commitments named since the last write or waking up today.
        Later entries of the same day only change what they name, so writing the tip's rows and
        then those of the rest of the day is the same as writing the day once at its end."""
        st = self.engine.st
        woken = self.wake.pop(day, set())
        pacts = self.dirty_pacts | {name for kind, name in woken if kind == "pact"}
        commitments = self.dirty_commitments | {name for kind, name in woken if kind == "commitment"}
        self.dirty_pacts, self.dirty_commitments = set(), set()
        for pid in sorted(pacts):
            pact = st.pacts.get(pid)
            if pact is not None:
                view = pact_view(pact, day)
                self._put("pact", "", pid, day, view, compare_stored=True)
                self._schedule(pact_wake(pact, day), ("pact", pid), day)
        for cid in sorted(commitments):
            c = st.commitments.get(cid)
            if c is not None:
                view = commitment_view(c, day)
                self._put("commitment", c["actor"], cid, day, view, compare_stored=True)
                self._schedule(commitment_wake(c, day), ("commitment", cid), day)
                self._note_appeal(c["actor"], cid, view)
        for name in st.cast["actors"]:
            self._put("actor", "", name, day, actor_record(st, name, day, self.appealed.get(name, ())))
        for name in st.cast["monitors"]:
            self._put("monitor", "", name, day, monitor_view(st, name, day))
        self._put("coalition", "", "", day, coalition_record(st, day))

    def _put(self, kind: str, owner: str, name: str, day: int, value, *, compare_stored: bool = False) -> None:
        data = _dump(value)
        key = (kind, owner, name)
        previous = self.last.get(key)
        if previous is None and compare_stored:
            found = self.tables.view(kind, owner, name, day)
            previous = found[1] if found else None
        if previous == data:
            return
        self.rows.append((kind, owner, name, day, data))
        self.last[key] = data

    # -- snapshots -----------------------------------------------------------------------------

    def _milestone(self, size: int, day: int) -> None:
        """Keep a snapshot of the end of ``day``; past the limit, keep every other one (newest
        kept) and double the stride, so they stay evenly spread over the log — until the stride
        reaches ``max_stride``: from then on every one is kept, so that a query for an old day never
        replays more than that many entries (a snapshot holds only the records in use, see _evict)."""
        self.new_snapshots.append((size, day, False, zlib.compress(self.engine.snapshot(canonical=False), 1)))
        self.milestones.append(size)
        self.tip_saved_at = max(self.tip_saved_at, size)
        if len(self.milestones) > self.settings.milestones and self.stride * 2 <= self.settings.max_stride:
            newest_first = self.milestones[::-1]
            dropped = set(newest_first[1::2])
            self.milestones = sorted(newest_first[0::2])
            self.stride *= 2
            self.new_snapshots = [s for s in self.new_snapshots if s[0] not in dropped]
            self.dropped.extend(dropped)

    def _tip_due(self) -> bool:
        """Whether to take a snapshot after the last entry: unless the newest stored one is fewer
        than a quarter stride old. A process that resumes then replays at most that many entries,
        and a snapshot is paid once every stride / 4 entries, not at every sync."""
        if self.size == 0 or self.size == self.tip_saved_at:
            return False
        return self.tip_saved_at < 0 or self.size - self.tip_saved_at >= max(1, self.stride // 4)

    def _save_tip(self) -> None:
        self.new_snapshots.append((self.size, self.day, True, zlib.compress(self.engine.snapshot(canonical=False), 1)))
        self.tip_saved_at = self.size
        self.drop_tips = True

    def _flush(self, size: int, day: int, *, evict: bool = False) -> None:
        """One write transaction: the pending rows and snapshots, and the meta saying that the
        rows are complete for the first ``size`` entries (engine day ``day``); records not in use
        are evicted every ``evict_every`` entries, and whenever ``evict`` (before a snapshot)."""
        records, sequences = [], []
        if evict or self.since_evict >= self.settings.evict_every:
            records, sequences = offload_rows(self.engine, self.day, self.settings.tail_keep)
            self.since_evict = 0
        journal = self.engine.st.journal.take()
        meta = {"size": str(size), "day": str(day), "stride": str(self.stride),
                "root": self.c.log.root(size).hex() if size else "",
                "format": FORMAT, "rules": rules_fingerprint()}
        self.tables.save(views=self.rows, snapshots=self.new_snapshots, drop_snapshots=self.dropped,
                         drop_tips=self.drop_tips, meta=meta, journal=journal, records=records, sequences=sequences)
        self.rows, self.new_snapshots, self.dropped = [], [], []
        self.drop_tips = False
        self.since_flush = 0
        if len(self.last) > 20_000:    # bound memory: forget the last rows of pacts and commitments
            self.last = {k: v for k, v in self.last.items() if k[0] in ("actor", "monitor", "coalition")}


# --- moving what is not in use to disk ----------------------------------------------------------


def offload_rows(engine: Engine, day: int, keep: int) -> tuple[list, list]:
    """Evict the records not in use and spill the older items of long lists (keeping ``keep``):
    the rows to store, (records, sequences)."""
    return eviction_rows(engine, day), spill_rows(engine, keep)


def eviction_rows(engine: Engine, day: int) -> list[tuple]:
    """Evict the records no entry touched since the last eviction, except pacts and commitments
    that will still change with time (a wake-up day: the deriver's schedule keeps them in view);
    return their rows (kind, key, pos, data) to store."""
    st = engine.st
    pos = st.journal.pos

    def waking(kind: str):
        if kind == "pacts":
            return lambda _, pact: pact_wake(pact, day) is not None
        if kind == "commitments":
            return lambda _, c: commitment_wake(c, day) is not None
        return lambda _, record: False

    rows = []
    for kind in SPILLABLE:
        rows += evicted_rows(kind, getattr(st, kind).evict(waking(kind)), pos, st.journal.codec)
    return rows


def spill_rows(engine: Engine, keep: int) -> list[tuple]:
    """Move all but the newest ``keep`` items of long breach and self-report lists to disk; return
    their rows (kind, owner, ordinal, data) to store."""
    st = engine.st
    rows = []
    for name in TAIL_LISTS:
        for owner, container, key in tail_slots(name, getattr(st, name)):
            lst = container[key]
            if not isinstance(lst, TailList):     # made since the engine was given its store
                lst = container[key] = TailList(name, owner, 0, lst, st.commitments.store)
            rows += spilled_rows(name, owner, lst.spill(keep), st.journal.codec)
    return rows


class Scratch:
    """A temporary database that holds the disk state of engines replaying a log with no usable
    cache (a process that can neither use nor write it), so that their memory stays bounded as
    with the cache. Its rows are facts of the fold (specs/derived-state.md §5a): engines of one
    log may share it. Rows in marshal (MARSHAL_ROWS): only this process reads them. Removed on close."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pactlog-scratch-")   # not beside the log: it may be read-only
        path = os.path.join(self.dir, "scratch.db")
        sqlite3.connect(path).close()           # an empty database for the derived tables
        self.tables = DerivedTables.open(path, write=True, durable=False)   # removed on close: nothing to keep

    def replay(self, entries: Iterator[tuple[int, bytes]], epoch: int, last_day: int | None,
               settings: "Settings", progress: Progress | None = None) -> Engine:
        """An engine fed ``entries`` (those dated <= ``last_day``), its state on this database;
        ``progress`` is told the number of entries applied at every offload."""
        engine = empty_engine_on_disk(self.tables, MARSHAL_ROWS)
        since = done = 0
        for ev in events_until(entries, epoch, last_day):
            engine.apply(ev)
            since += 1
            if since >= settings.evict_every:
                records, sequences = offload_rows(engine, engine.day, settings.tail_keep)
                self.tables.save(journal=engine.st.journal.take(), records=records, sequences=sequences)
                done, since = done + since, 0
                if progress is not None:
                    progress(done)
        if progress is not None:
            progress(done + since)
        return engine

    def close(self) -> None:
        try:
            self.tables.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
