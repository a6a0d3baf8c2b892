"""The rules engine's state kept on disk, in the derived-state cache (specs/derived-state.md §5a).

An engine of the cache keeps two things here instead of in its working state, so that its
snapshots, and the memory of a process that restores one, do not grow with the log's history:

* its **journal** (ineffective entries, balance movements, rejections by subject: see
  :mod:`ledger.rules.journal`), append-only;
* the **claims, commitments, pacts and incidents** no entry has touched lately (see
  :mod:`ledger.rules.records`), each row a version of a record as of a position.

Positions order the fold: ``2·i`` for the start-of-day effects before entry ``i``, ``2·i + 1``
for entry ``i``. An engine sees the stored rows up to position ``through`` (its past: everything
before the snapshot it was restored from) and keeps in memory what it added since. The deriver
writes that (:meth:`StoredJournal.take`, evicted records) in the transaction that records how far
the cache goes; rows at or below what is already stored (an engine that resumed from an older
snapshot replays entries the cache covers) are the same rows, and are skipped or rewritten alike.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Callable
from dataclasses import dataclass

from .errors import CorruptionError
from .rules.journal import Journal, of_entry
from .rules.records import RecordStore
from .store import DerivedTables

INEFFECTIVE, MOVEMENT, REJECTION = "x", "a", "r"   # the kind column


@dataclass(frozen=True)
class RowCodec:
    """How the records in the data column are written: the cache's rows are JSON text, read by
    every process (any Python); a scratch database's are marshal bytes, read only by the process
    that wrote them into its private temporary directory (a few µs less per row, and rows are many)."""

    dumps: Callable[[object], str | bytes]
    loads: Callable[[str | bytes], object]


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)   # built once: rows are many
JSON_ROWS = RowCodec(_ENCODER.encode, json.loads)
MARSHAL_ROWS = RowCodec(marshal.dumps, marshal.loads)


class StoredJournal(Journal):
    """An engine's journal: the stored rows of its past (positions <= ``through``) and, in memory,
    what it added since, until the deriver takes it (:meth:`take`) to store it."""

    def __init__(self, tables: DerivedTables, through: int, codec: RowCodec = JSON_ROWS):
        self.tables = tables
        self.codec = codec
        self.through = through                    # stored records with pos <= through are ours
        self.pos = through                        # the last step taken (an eviction before the next one is dated so)
        self.stored_through = -1                  # rows up to this position are known to be stored
        self._added: dict[tuple[str, str], list[tuple[int, int, list]]] = {}  # (kind, subject) -> [(pos, seq, record)]
        # A record's seq is its rank among the records made at its position, so that the same fold
        # names the same record the same way in every process (an engine resumed from an older
        # snapshot rewrites identical rows), even when a position's records are stored in two takes.
        self._seq_pos, self._seq = self.pos, 0

    # -- adding ----------------------------------------------------------------------------------

    def _add(self, kind: str, subject: str, record: list) -> None:
        if self.pos != self._seq_pos:
            self._seq_pos, self._seq = self.pos, 0
        self._added.setdefault((kind, subject), []).append((self.pos, self._seq, record))
        self._seq += 1

    def add_ineffective(self, record: list) -> None:
        self._add(INEFFECTIVE, "", record)

    def add_movement(self, account: str, record: list) -> None:
        self._add(MOVEMENT, account, record)

    def add_rejection(self, subject: str, record: list) -> None:
        self._add(REJECTION, subject, record)

    # -- reading ---------------------------------------------------------------------------------

    def _records(self, kind: str, subject: str, pos: int | None = None) -> list[list]:
        stored = list(map(self.codec.loads, self.tables.journal(kind, subject, self.through, pos)))
        added = self._added.get((kind, subject), ())
        return stored + [record for p, _, record in added if pos is None or p == pos]

    def ineffective(self) -> list[list]:
        return self._records(INEFFECTIVE, "")

    def iter_ineffective(self):
        loads = self.codec.loads
        for data in self.tables.journal_stream(INEFFECTIVE, "", self.through):
            yield loads(data)
        for _, _, record in self._added.get((INEFFECTIVE, ""), ()):
            yield record

    def ineffective_of(self, index: int) -> list | None:
        found = self._records(INEFFECTIVE, "", 2 * index + 1)
        return found[0] if found else None

    def movements(self, account: str) -> list[list]:
        return self._records(MOVEMENT, account)

    def rejections(self, subject: str, index: int | None = None) -> list[list]:
        if index is None:
            return self._records(REJECTION, subject)
        return of_entry(self._records(REJECTION, subject, 2 * index + 1), index)

    def fork(self, state) -> "StoredJournal":
        twin = StoredJournal(self.tables, self.through, self.codec)
        twin._added = {key: list(records) for key, records in self._added.items()}
        twin.pos, twin._seq_pos, twin._seq = self.pos, self._seq_pos, self._seq
        return twin

    # -- writing (the deriver) -------------------------------------------------------------------

    def take(self) -> list[tuple[str, str, int, int, str]]:
        """The rows to store, (kind, subject, pos, seq, data), of the records added since the last
        take, but those at positions <= ``stored_through`` (known to be stored: an engine that
        resumed replays entries the cache holds); afterwards this journal reads them from there.
        Rows may be stored already (identical: rewritten)."""
        dumps = self.codec.dumps
        rows = [(kind, subject, pos, seq, dumps(record))
                for (kind, subject), records in self._added.items() for pos, seq, record in records
                if pos > self.stored_through]
        self._added = {}
        # Once these rows are stored, every stored row up to our position is one we made (or its
        # identical twin from an earlier run); rows beyond it belong to steps we have not taken yet.
        self.through = max(self.through, self.pos)
        return rows


class StoredRecords(RecordStore):
    """Evicted records: the latest stored version of each, as of the position its engine's
    journal has reached (``journal.through``)."""

    def __init__(self, tables: DerivedTables, journal: StoredJournal):
        self.tables = tables
        self.journal = journal

    def get(self, kind: str, key: str) -> dict | None:
        data = self.tables.record(kind, key, self.journal.through)
        return None if data is None else self.journal.codec.loads(data)

    def items(self, kind: str):
        loads = self.journal.codec.loads
        for key, data in self.tables.records(kind, self.journal.through):
            yield key, loads(data)

    def get_many(self, kind: str, keys: list[str]) -> dict[str, dict]:
        loads = self.journal.codec.loads
        return {key: loads(data) for key, data in self.tables.records_among(kind, keys, self.journal.through)}

    def items_range(self, kind: str, owner: str, start: int, end: int) -> list:
        items = list(map(self.journal.codec.loads, self.tables.sequence(kind, owner, start, end)))
        if len(items) != end - start:
            raise CorruptionError(f"the derived-state cache lacks items {start}..{end - 1} of {kind} of {owner}",
                                  hint="run `pactlog state --rebuild`", reason="derived_incomplete")
        return items

    def fork(self, journal: StoredJournal) -> "StoredRecords":
        return StoredRecords(self.tables, journal)


def evicted_rows(kind: str, records: list[tuple[str, dict]], pos: int, codec: RowCodec) -> list[tuple]:
    """Rows (kind, key, pos, data) for records evicted at position ``pos``."""
    return [(kind, key, pos, codec.dumps(record)) for key, record in records]


def spilled_rows(kind: str, owner: str, moved: list[tuple[int, object]], codec: RowCodec) -> list[tuple]:
    """Rows (kind, owner, ordinal, data) for TailList items moved to the store."""
    return [(kind, owner, ordinal, codec.dumps(item)) for ordinal, item in moved]
