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
* **Snapshots.** The engine's working state in use (compressed) at day ends at most ``max_stride``
  entries apart, plus one at the tip; what is not in use (the journal, idle records, old items of
  long lists) is on disk. A digest or an explanation as of T restores the last snapshot whose
  day <= T and replays the entries after it that are dated <= T.
* **Incremental.** ``sync()`` restores the latest snapshot and applies only the entries the
  cache lacks; a long-running process keeps its engine and applies each new entry once.

Writers take ``<db>.derived.lock``; a process that cannot (another one is syncing, or the file
is read-only) answers from the rows that are complete and computes the rest in memory.

This module holds the ``Coalition`` (validity of the cache, queries); :mod:`ledger.deriver`
writes the cache and :mod:`ledger.disk_state` keeps the engine's state on disk.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .deriver import (
    FORMAT, Deriver, Progress, Reporter, Scratch, Settings, actor_record, bulk, coalition_record, events_until, restore_engine,
    rules_fingerprint,
)
from .errors import InvalidInput, MalformedError
from .events import event_of
from .log import Log
from .rules import Engine
from .rules import explain as rules_explain
from .rules.events import GENESIS, SECONDS_PER_DAY, day_of
from .rules.genesis import genesis_problem
from .rules.view import monitor_view, pact_view, commitment_view
from .store import DerivedTables

__all__ = ["Coalition", "Settings", "SyncResult", "actor_record", "coalition_record", "rules_fingerprint"]


@dataclass(frozen=True)
class SyncResult:
    applied: int       # entries applied to the cache in this call
    rebuilt: bool      # the cache was (re)built from the first entry
    size: int          # entries the cache now covers
    written: bool      # False: read-only, nothing could be stored


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
        self._scratch: Scratch | None = None   # disk state of replays without a usable cache
        self._deriver: Deriver | None = None
        self._meta: dict[str, str] = {}
        self._valid = False
        # Makes the progress reporter of a replay of n entries with no usable cache (set by a
        # caller that shows progress; a replay of the whole log takes seconds per 10^5 entries).
        self.long_replay: Callable[[int], Reporter] | None = None
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
            if self._scratch is not None:
                self._scratch.close()
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
                    with bulk():
                        self._deriver = Deriver.resume(self)
                except (MalformedError, zlib.error):     # a snapshot that does not restore: no cache
                    self._valid = False
            if not self._valid:
                self._deriver = Deriver.fresh(self)
                rebuilt = True
        deriver = self._deriver
        start = deriver.size
        if start < self.log.size or rebuilt:
            with bulk():
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

    def engine_before(self, index: int) -> Engine:
        """A new engine fed the entries before ``index``: what judges entry ``index`` as the log's
        own prefix does (an entry submitted again). From the nearest snapshot, its state on disk
        on a long log; unlike :meth:`engine`'s, it may be given entries."""
        return self._engine_through(index, None)

    def _engine_through(self, end: int, last_day: int | None) -> Engine:
        """Restore the best snapshot, then apply entries before ``end`` dated <= ``last_day``.

        What an engine restored from the cache (or a new one) adds stays in memory: only the
        deriver writes it out. Within what the cache covers, snapshots are close enough for that to
        stay small; past it (no usable snapshot, or a cache far behind that this process cannot
        update), once ``scratch_from`` entries have been applied the work is left to a replay on
        the scratch database, whose memory stays bounded."""
        snap = None
        if self._valid:
            snap = self.tables.snapshot(max_day=last_day, max_size=min(end, self.cached_size))
        with bulk():
            engine = None
            if snap is not None:
                try:
                    engine = restore_engine(self.tables, snap)
                except (MalformedError, zlib.error):
                    snap = None
            if engine is None:
                engine = Engine()
            covered = self.cached_size if snap is not None else 0    # entries a snapshot could stand for
            uncovered = 0
            for ev in events_until(self.log.entries(snap[0] if snap else 0, end), self.epoch, last_day):
                engine.apply(ev)
                if ev.index >= covered:
                    uncovered += 1
                    if uncovered == self.settings.scratch_from:
                        return self._scratch_replay(end, last_day)
        return engine

    def _scratch_replay(self, end: int, last_day: int | None) -> Engine:
        """An engine fed the first ``end`` entries dated <= ``last_day``, its state on the scratch
        database (made on first use), reporting its progress to ``long_replay`` if set."""
        if self._scratch is None:
            self._scratch = Scratch()
        progress = self.long_replay(end) if self.long_replay is not None else None
        engine = self._scratch.replay(self.log.entries(0, end), self.epoch, last_day, self.settings, progress)
        if progress is not None:
            progress.done()
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
        with self.tables.reading():         # the engine reads the cache's disk state: one snapshot of it
            return self.engine(day).view(day)

    def digest(self, as_of: int | str | None = None) -> str:
        """SHA-256 (hex) of the canonical state as of a day, memoised in the cache."""
        day = self.day(as_of)
        if self._valid:
            found = self.tables.digest(day)
            if found is not None and found[0] <= self.cached_size and (
                    found[0] == self.log.size or (found[0] < self.log.size and self._entry_day(found[0]) > day)):
                return found[1]
        with self.tables.reading():
            value = self.engine(day).streamed_digest(day)
        if self.tables.writable and self._valid and self.cached_size == self.log.size:
            self.tables.save_digest(day, self.log.size, value)
        return value

    def explain(self, kind: str, *args: str, as_of: int | str | None = None) -> dict:
        """Why a derived value is what it is (R14; specs/rules-rs1.md §11)."""
        day = self.day(as_of)
        try:
            with self.tables.reading():
                return rules_explain.explain(self.engine(day), kind, *args, as_of=day)
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
