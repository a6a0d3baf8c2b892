"""The coalition's derived state, cached beside the log so that queries do not replay it.

The log is the only source of truth. Everything here is a cache in the log's database
(``DerivedTables`` in :mod:`ledger.store`), rebuilt from the log when it is missing, was made by
other rules code, or does not match the log (its recorded root at its size differs from the
log's root at that size). specs/derived-state.md is the design; in short:

* **Per-day views.** For every day the engine crosses (days with entries and the days between
  them), the small views that change are written as rows ``(kind, owner, name, day, data)``:
  every actor (balances, level, access, flags, leaderboard line, breaches in the sanction
  window), every monitor, the coalition record (system accounts, ruleset in force, cast), and the
  pacts and commitments that an entry of that day names or whose view changes with time on that
  day (a wake-up schedule). A query as of day T reads the latest row dated <= T: one index seek.
* **Snapshots.** ``Engine.snapshot()`` (compressed) at a bounded number of day ends, evenly
  spaced by entries (the stride doubles when there are too many), plus one at the tip. A digest
  or an explanation as of T restores the last snapshot whose day <= T and replays the entries
  after it that are dated <= T.
* **Incremental.** ``sync()`` restores the latest snapshot and applies only the entries the
  cache lacks; a long-running process keeps its engine and applies each new entry once.

Writers take ``<db>.derived.lock``; a process that cannot (another one is syncing, or the file
is read-only) answers from the rows that are complete and computes the rest in memory.
"""

from __future__ import annotations

import datetime as _dt
import gc
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput, MalformedError
from .events import event_of, events_of
from .log import Log
from .rules import Engine
from .rules import explain as rules_explain
from .rules.events import GENESIS, SECONDS_PER_DAY, day_of
from .rules.genesis import genesis_problem
from .rules.params import LEVEL_CAP
from .rules.records import SPILLABLE, TAIL_LISTS, TailList, tail_slots
from .rules.sanctions import counted_breaches, stayed
from .rules.view import actor_view, commitment_view, monitor_view, pact_view
from .store import DerivedTables
from .disk_state import StoredJournal, StoredRecords, evicted_rows, spilled_rows

FORMAT = "pactlog-derived/1"
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Settings:
    """Tunables of the cache (tests shrink them to exercise thinning and flushing)."""

    milestones: int = 8          # day-end snapshots kept besides the tip, until the stride reaches max_stride
    min_stride: int = 4096       # fewest entries between two kept snapshots
    max_stride: int = 4096       # most entries between two kept snapshots (what an old-day query replays)
    evict_every: int = 4096      # entries between two evictions of untouched records to disk
    tail_keep: int = 64          # newest items of an actor's breach or self-report list kept in memory
    flush_rows: int = 20_000     # view rows held in memory before a write transaction
    flush_entries: int = 50_000  # entries applied between write transactions


@dataclass(frozen=True)
class SyncResult:
    applied: int       # entries applied to the cache in this call
    rebuilt: bool      # the cache was (re)built from the first entry
    size: int          # entries the cache now covers
    written: bool      # False: read-only, nothing could be stored


@contextmanager
def _bulk():
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
        files = sorted((here / "rules").glob("*.py")) + [here / "events.py", here / "derived.py",
                                                          here / "disk_state.py"]
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
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


def _pact_wake(view: dict) -> int | None:
    """The next day on which a pact's view changes without an entry naming it."""
    if view["status"] == "OPEN":
        return view["open_until"] + 1          # R9 failure at the start of that day
    if view["status"] == "TRIGGERED":
        return view["active_from"]             # becomes ACTIVE
    return None


def _commitment_wake(view: dict) -> int | None:
    """The next day on which a commitment's view changes without an entry naming it."""
    if view["status"] == "OPEN":
        return view["deadline"] + 1            # R5 default at the start of that day
    appeal = view["appeal"]
    if appeal is not None and appeal["status"] == "PENDING":
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


# --- the coalition --------------------------------------------------------------------------


class Coalition:
    """The derived state of the coalition whose log is ``log``. Open with :meth:`open`; close it."""

    def __init__(self, log: Log, tables: DerivedTables, genesis, settings: Settings, own_log: bool):
        self.log = log
        self.tables = tables
        self.settings = settings
        self._own_log = own_log
        self.epoch: int = genesis.body["epoch"]
        self.start_day = max(0, day_of(genesis.time, self.epoch))
        self._live: Engine | None = None       # an engine at the log's end, kept after sync
        self._deriver: _Deriver | None = None
        self._meta: dict[str, str] = {}
        self._valid = False
        self._check_cache()

    @classmethod
    def open(cls, log: Log, *, write: bool = True, settings: Settings | None = None) -> "Coalition":
        """The coalition of ``log``: its entry 0 must be a valid GENESIS (else InvalidInput,
        reason ``no_genesis``). ``write=False`` never touches the cache (read-only)."""
        genesis = _genesis_of(log)
        tables = DerivedTables.open(log.store.path, write=write)
        try:
            own = False
            meta = tables.meta()
            if meta.get("size", "").isdigit() and int(meta["size"]) > log.size:
                # another process synced entries appended after our log view opened: look again
                log, own = Log.open(log.store.path), True
            return cls(log, tables, genesis, settings or Settings(), own)
        except BaseException:
            tables.close()
            raise

    def close(self) -> None:
        try:
            self.tables.close()
        finally:
            if self._own_log:
                self.log.close()

    def __enter__(self) -> "Coalition":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def writable(self) -> bool:
        """Whether this process keeps the cache up to date (else it computes in memory)."""
        return self.tables.writable

    @property
    def read_only_reason(self) -> str | None:
        return self.tables.read_only_reason

    # -- cache validity ------------------------------------------------------------------------

    def _check_cache(self, meta: dict[str, str] | None = None) -> None:
        """Trust the cache only if it was made by this code from this log (section 4 of the spec)."""
        meta = self._meta = self.tables.meta() if meta is None else meta
        self._valid = False
        if meta.get("format") != FORMAT or meta.get("rules") != rules_fingerprint():
            return
        numbers = [meta.get(key, "") for key in ("size", "day", "stride")]
        if not all(re.fullmatch(r"0|[1-9][0-9]{0,18}", n) for n in numbers):
            return
        size = int(meta["size"])
        if size > self.log.size:
            return
        self._valid = size == 0 or self.log.root(size).hex() == meta.get("root")

    @property
    def cached_size(self) -> int:
        """Entries the (valid) cache covers; 0 when it is missing or not trusted."""
        return int(self._meta["size"]) if self._valid else 0

    def _entry_day(self, index: int) -> int:
        return day_of(event_of(index, self.log.entry_bytes(index)).time, self.epoch)

    def _tables_through(self) -> int | None:
        """The last day whose rows are complete for the log as this process sees it, or None."""
        if not self._valid or self.cached_size == 0:
            return None
        size, day = self.cached_size, int(self._meta["day"])
        if size == self.log.size or self._entry_day(size) > day:
            return day
        return day - 1

    def _from_tables(self, day: int, read: Callable[[], object]) -> tuple[bool, object]:
        """(True, read()) when the rows are complete through ``day``, read in one transaction
        together with the meta that vouches for them (another process may be syncing); else
        (False, None) and the caller computes in memory."""
        if not self._valid:
            return False, None
        with self.tables.reading():
            meta = self.tables.meta()
            if meta != self._meta:
                self._check_cache(meta)
            through = self._tables_through()
            if through is None or day > through:
                return False, None
            return True, read()

    # -- syncing -------------------------------------------------------------------------------

    def sync(self, progress: Progress | None = None) -> SyncResult:
        """Bring the cache up to the log: apply the entries it lacks (rebuild it from the first
        entry if it is missing or untrusted). Read-only: nothing happens (queries compute in memory)."""
        if not self.tables.writable:
            return SyncResult(0, False, self.cached_size, False)
        rebuilt = False
        if self._deriver is None:
            if self._valid and self.cached_size == self.log.size:
                return SyncResult(0, False, self.cached_size, True)
            if self._valid:
                try:
                    with _bulk():
                        self._deriver = _Deriver.resume(self)
                except (MalformedError, zlib.error):     # a snapshot that does not restore: no cache
                    self._valid = False
            if not self._valid:
                self._deriver = _Deriver.fresh(self)
                rebuilt = True
        deriver = self._deriver
        start = deriver.size
        if start < self.log.size or rebuilt:
            with _bulk():
                deriver.run(self.log.entries(start), progress)
        self._meta = self.tables.meta()
        self._valid = True
        self._live = deriver.engine
        return SyncResult(deriver.size - start, rebuilt, deriver.size, True)

    def rebuild(self, progress: Progress | None = None) -> SyncResult:
        """Forget the cache and derive it again from the whole log."""
        self._valid = False
        self._deriver = None
        self._live = None
        return self.sync(progress)

    # -- days ----------------------------------------------------------------------------------

    @property
    def current_day(self) -> int:
        """The day of the log's last entry (never before the coalition's first day): the default
        'as of' of every query. Later days are projections (D2)."""
        if self.log.size <= 1:
            return self.start_day
        return max(self.start_day, self._entry_day(self.log.size - 1))

    def day(self, value: int | str | None) -> int:
        """A day number from an int, a decimal string or an ISO date YYYY-MM-DD (UTC, counted from
        the genesis epoch); None is the current day. Days before the coalition started are refused."""
        if value is None:
            return self.current_day
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InvalidInput(f"not a day: {value!r}", reason="bad_day")
        if isinstance(value, str):
            value = self._parse_day(value)
        if value < self.start_day:
            raise InvalidInput(f"day {value} is before the coalition's first day ({self.start_day})",
                               hint=f"ask for day {self.start_day} or later", reason="before_start")
        return value

    def _parse_day(self, text: str) -> int:
        if re.fullmatch(r"-?(0|[1-9][0-9]{0,9})", text) and text != "-0":
            return int(text)
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
        if match:
            try:
                date = _dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                match = None
            else:
                midnight = _dt.datetime(date.year, date.month, date.day, tzinfo=_dt.timezone.utc)
                return (int(midnight.timestamp()) - self.epoch) // SECONDS_PER_DAY
        raise InvalidInput(f"not a day: {text!r}", hint="give a day number (e.g. 42) or a date YYYY-MM-DD",
                           reason="bad_day")

    def date_of(self, day: int) -> str:
        """The UTC date on which ``day`` starts."""
        moment = _dt.datetime.fromtimestamp(self.epoch + day * SECONDS_PER_DAY, tz=_dt.timezone.utc)
        return moment.date().isoformat()

    # -- engines (digests, explanations, projections) ------------------------------------------

    def engine(self, as_of: int | str | None = None) -> Engine:
        """An engine whose state is the state as of ``as_of`` (a projection after the current day):
        the last snapshot dated <= T, then the entries after it dated <= T (specs/rules-rs1.md §10).
        It may be the engine this object keeps: query it, never apply entries to it."""
        target = self.day(as_of)
        live = self._live
        if live is not None and live.last_index == self.log.size - 1 and target >= live.day:
            return live.at(target)
        if target >= self.current_day:      # every entry is dated <= target: keep this engine
            self._live = self._engine_through(self.log.size, None)
            return self._live.at(target)
        return self._engine_through(self.log.size, target).at(target)

    def _engine_through(self, end: int, last_day: int | None) -> Engine:
        """Restore the best snapshot, then apply entries before ``end`` dated <= ``last_day``."""
        snap = None
        if self._valid:
            snap = self.tables.snapshot(max_day=last_day, max_size=min(end, self.cached_size))
        engine = Engine()
        start = 0
        with _bulk():
            if snap is not None:
                try:
                    engine = _restore(self.tables, snap)
                    start = snap[0]
                except (MalformedError, zlib.error):
                    engine, start = Engine(), 0
            for ev in events_of(self.log.entries(start, end)):
                if last_day is not None and ev.index > 0 and day_of(ev.time, self.epoch) > last_day:
                    break
                engine.apply(ev)
        return engine

    # -- queries -------------------------------------------------------------------------------

    def _projected(self, day: int) -> bool:
        return day > self.current_day

    def actor(self, name: str, as_of: int | str | None = None) -> dict:
        """One actor as of a day: {"actor", "as_of", "projected", **view, "breaches"}."""
        day = self.day(as_of)
        stored, found = self._from_tables(day, lambda: self.tables.view("actor", "", name, day))
        if stored:
            record = json.loads(found[1]) if found else None
        else:
            st = self.engine(day).st
            record = actor_record(st, name, day) if name in st.cast["actors"] else None
        if record is None:
            raise self._unknown("actor", name, day)
        return {"actor": name, "as_of": day, "projected": self._projected(day), **record["view"],
                "breaches": record["breaches"]}

    def actors(self, as_of: int | str | None = None) -> dict[str, dict]:
        """Every actor as of a day: name -> {**view, "breaches"}."""
        day = self.day(as_of)
        stored, rows = self._from_tables(day, lambda: self.tables.views("actor", day))
        if stored:
            records = {name: json.loads(data) for _, name, _, data in rows}
        else:
            st = self.engine(day).st
            records = {name: actor_record(st, name, day) for name in st.cast["actors"]}
        return {name: {**r["view"], "breaches": r["breaches"]} for name, r in sorted(records.items())}

    def monitors(self, as_of: int | str | None = None) -> dict[str, dict]:
        day = self.day(as_of)
        stored, rows = self._from_tables(day, lambda: self.tables.views("monitor", day))
        if stored:
            return {name: json.loads(data) for _, name, _, data in rows}
        st = self.engine(day).st
        return {name: monitor_view(st, name, day) for name in sorted(st.cast["monitors"])}

    def summary(self, as_of: int | str | None = None) -> dict:
        """The coalition as of a day: system accounts, ruleset in force (with its parameters), the
        last entry applied and the cast."""
        day = self.day(as_of)
        stored, found = self._from_tables(day, lambda: self.tables.view("coalition", "", "", day))
        record = json.loads(found[1]) if stored else coalition_record(self.engine(day).st, day)
        return {"as_of": day, "projected": self._projected(day), **record}

    def leaderboard(self, as_of: int | str | None = None) -> list[dict]:
        """R13 lines, best first: kept % descending (nothing resolved last), then fulfilled
        descending, then name."""
        lines = [{"actor": name, **actor["leaderboard"]} for name, actor in self.actors(as_of).items()]
        lines.sort(key=lambda line: (line["kept"] is None, -(line["kept"] or 0), -line["fulfilled"], line["actor"]))
        for rank, line in enumerate(lines, start=1):
            line["rank"] = rank
        return lines

    def pacts(self, as_of: int | str | None = None) -> dict[str, dict]:
        day = self.day(as_of)
        stored, rows = self._from_tables(day, lambda: self.tables.views("pact", day))
        if stored:
            return {name: json.loads(data) for _, name, _, data in rows}
        st = self.engine(day).st
        return {pid: pact_view(st.pacts[pid], day) for pid in sorted(st.pacts)}

    def commitments(self, actor: str | None = None, as_of: int | str | None = None) -> dict[str, dict]:
        day = self.day(as_of)
        if actor is not None and actor not in self.actors(day):
            raise self._unknown("actor", actor, day)
        stored, rows = self._from_tables(day, lambda: self.tables.views("commitment", day, owner=actor))
        if stored:
            return {name: json.loads(data) for _, name, _, data in sorted(rows, key=lambda r: r[1])}
        st = self.engine(day).st
        return {cid: commitment_view(c, day) for cid, c in sorted(st.commitments.items())
                if actor is None or c["actor"] == actor}

    def state(self, as_of: int | str | None = None) -> dict:
        """The whole canonical state as of a day (specs/rules-rs1.md §9)."""
        day = self.day(as_of)
        return self.engine(day).view(day)

    def digest(self, as_of: int | str | None = None) -> str:
        """SHA-256 (hex) of the canonical state as of a day, memoised in the cache."""
        day = self.day(as_of)
        if self._valid:
            found = self.tables.digest(day)
            if found is not None and found[0] <= self.cached_size and (
                    found[0] == self.log.size or (found[0] < self.log.size and self._entry_day(found[0]) > day)):
                return found[1]
        value = self.engine(day).streamed_digest(day)
        if self.tables.writable and self._valid and self.cached_size == self.log.size:
            self.tables.save_digest(day, self.log.size, value)
        return value

    def explain(self, kind: str, *args: str, as_of: int | str | None = None) -> dict:
        """Why a derived value is what it is (R14; specs/rules-rs1.md §11)."""
        day = self.day(as_of)
        engine = self.engine(day)
        try:
            return rules_explain.explain(engine, kind, *args, as_of=day)
        except ValueError:
            raise InvalidInput(f"wrong arguments for fact {kind!r}: {' '.join(args)}", reason="unknown_fact") from None

    @staticmethod
    def cited(explanation: dict) -> list[int]:
        """Every log index an explanation cites, genesis included (see rules.explain.cited_indexes)."""
        return rules_explain.cited_indexes(explanation)

    def bundle(self, indexes: Iterable[int]) -> tuple[bytes, int]:
        """One offline bundle proving every entry of ``indexes`` against the latest signed
        checkpoint: (bundle bytes, checkpoint size)."""
        indexes = sorted(set(indexes))
        latest = self.log.store.latest_checkpoint()
        if latest is None:
            raise InvalidInput("the log has no signed checkpoint yet, so nothing can be proven",
                               hint="run `pactlog checkpoint --key LOG_KEY`, then ask again", reason="no_checkpoint")
        size = latest[0]
        uncovered = [i for i in indexes if i >= size]
        if uncovered:
            raise InvalidInput(
                f"entr{'y' if len(uncovered) == 1 else 'ies'} {', '.join(map(str, uncovered[:10]))} "
                f"{'is' if len(uncovered) == 1 else 'are'} not covered by the latest signed checkpoint (size {size})",
                hint="run `pactlog checkpoint --key LOG_KEY` to sign a newer one, then ask again",
                reason="not_checkpointed")
        log = self.log if size <= self.log.size else Log.open(self.log.store.path)
        try:
            return log.bundle(indexes, size), size
        finally:
            if log is not self.log:
                log.close()

    def _unknown(self, role: str, name: str, day: int) -> InvalidInput:
        known = sorted(self.actors(day)) if role == "actor" else []
        return InvalidInput(f"no {role} {name!r} in the coalition as of day {day}",
                            hint=f"{role}s: {', '.join(known)}" if known else None, reason=f"unknown_{role}")


def _restore(tables: DerivedTables, snap: tuple[int, int, bytes]) -> Engine:
    """The engine of a stored snapshot (size, day, data), its journal read from the cache: the
    records of the snapshot's past, positions up to 2·size − 1 (specs/derived-state.md §6)."""
    engine = Engine.restore(zlib.decompress(snap[2]), trusted=True)
    _keep_on_disk(engine, tables, 2 * snap[0] - 1)
    return engine


def _keep_on_disk(engine: Engine, tables: DerivedTables, through: int) -> None:
    """Give the engine the journal and the evicted records stored up to position ``through``."""
    journal = engine.st.journal = StoredJournal(tables, through)
    engine.st.keep_records_in(StoredRecords(tables, journal))


def _genesis_of(log: Log):
    """Entry 0 as an engine event, if it is a valid GENESIS; else InvalidInput (exit 2)."""
    if log.size == 0:
        raise InvalidInput("the log is empty: it has no coalition genesis entry",
                           hint="append the coalition's GENESIS entry first", reason="no_genesis")
    genesis = event_of(0, log.entry_bytes(0))
    problem = f"its type is {genesis.type}" if genesis.type != GENESIS else genesis_problem(genesis.body)
    if problem:
        raise InvalidInput(f"this log is not a coalition log: entry 0 is not a valid GENESIS ({problem})",
                           hint="derived state needs a log whose first entry is the coalition's charter "
                                "(specs/rules-rs1.md §4.1)", reason="no_genesis")
    return genesis


# --- deriving: the engine, the rows it writes, the snapshots it keeps ---------------------------


class _Deriver:
    """Feeds entries to an engine and writes the per-day rows and snapshots (one writer process)."""

    def __init__(self, coalition: Coalition, engine: Engine, size: int, stride: int, milestones: list[int]):
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
    def fresh(cls, coalition: Coalition) -> "_Deriver":
        settings = coalition.settings
        stride = min(settings.max_stride, max(settings.min_stride, -(-coalition.log.size // settings.milestones)))
        coalition.tables.clear({"format": FORMAT, "rules": rules_fingerprint(), "size": "0", "day": "0",
                                "root": "", "stride": str(stride)})
        engine = Engine()
        _keep_on_disk(engine, coalition.tables, -1)
        deriver = cls(coalition, engine, 0, stride, [])
        deriver.tip_saved_at = -1
        return deriver

    @classmethod
    def resume(cls, coalition: Coalition) -> "_Deriver":
        """Continue from the cache: the latest snapshot, then (without writing) the entries up to
        the size the rows cover, then rebuild the in-memory schedules from the engine."""
        meta = coalition._meta
        size = int(meta["size"])
        sizes = coalition.tables.snapshot_sizes()
        snap = coalition.tables.snapshot(max_size=size)
        if snap is not None:
            engine, start = _restore(coalition.tables, snap), snap[0]
        else:
            engine, start = Engine(), 0
            _keep_on_disk(engine, coalition.tables, -1)
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
        # Pacts and commitments that will wake up are never evicted (_evict), so they are resident.
        for pid, pact in st.pacts.resident.items():
            self._schedule(_pact_wake(pact_view(pact, day)), ("pact", pid), day)
        for cid, c in st.commitments.resident.items():
            view = commitment_view(c, day)
            self._schedule(_commitment_wake(view), ("commitment", cid), day)
            self._note_appeal(c["actor"], cid, view)

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
                self._schedule(_pact_wake(view), ("pact", pid), day)
        for cid in sorted(commitments):
            c = st.commitments.get(cid)
            if c is not None:
                view = commitment_view(c, day)
                self._put("commitment", c["actor"], cid, day, view, compare_stored=True)
                self._schedule(_commitment_wake(view), ("commitment", cid), day)
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

    def _evict(self) -> list[tuple[str, str, int, str]]:
        """Move to disk the records no entry touched since the last flush, except pacts and
        commitments that will still change with time (they have a wake-up day): those stay."""
        st, day = self.engine.st, self.day
        pos = st.journal.pos

        def waking(kind: str):
            if kind == "pacts":
                return lambda _, pact: _pact_wake(pact_view(pact, day)) is not None
            if kind == "commitments":
                return lambda _, c: _commitment_wake(commitment_view(c, day)) is not None
            return lambda _, record: False

        rows = []
        for kind in SPILLABLE:
            rows += evicted_rows(kind, getattr(st, kind).evict(waking(kind)), pos)
        return rows

    def _spill_lists(self) -> list[tuple[str, str, int, str]]:
        """Move the older items of long breach and self-report lists to disk (rows to store)."""
        st = self.engine.st
        rows = []
        for name in TAIL_LISTS:
            for owner, container, key in tail_slots(name, getattr(st, name)):
                lst = container[key]
                if not isinstance(lst, TailList):     # made since the engine was given its store
                    lst = container[key] = TailList(name, owner, 0, lst, st.commitments.store)
                rows += spilled_rows(name, owner, lst.spill(self.settings.tail_keep))
        return rows

    def _flush(self, size: int, day: int, *, evict: bool = False) -> None:
        """One write transaction: the pending rows and snapshots, and the meta saying that the
        rows are complete for the first ``size`` entries (engine day ``day``); records not in use
        are evicted every ``evict_every`` entries, and whenever ``evict`` (before a snapshot)."""
        records, sequences = [], []
        if evict or self.since_evict >= self.settings.evict_every:
            records, sequences, self.since_evict = self._evict(), self._spill_lists(), 0
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

