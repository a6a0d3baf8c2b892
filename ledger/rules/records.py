"""Claims, commitments, pacts and incidents of which only some are resident in memory.

The engine's working state keeps every claim, commitment, pact and incident ever made (they are
part of the canonical state), but a rule only ever reaches one by its id. A persisted layer
(``ledger.derived``) can therefore move the ones no entry has touched lately to disk, and
:class:`Records` loads one back on first access: the rules code sees a plain mapping, and the
memory of a long-running engine stays proportional to what is active, not to the log's history.

A record loaded back becomes resident again, so the rules may change it in place as always; it is
written out again the next time it is evicted. A plain engine never uses this class: its
mappings are dicts and its snapshots are exactly the state.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, MutableMapping

from ledger.canonical import utf16_key

SPILLABLE = ("claims", "commitments", "pacts", "incidents")   # State attributes that may be Records


class RecordStore:
    """Where evicted records live: the latest version of each as of the engine's position."""

    def get(self, kind: str, key: str) -> dict | None:
        raise NotImplementedError

    def items(self, kind: str) -> Iterator[tuple[str, dict]]:
        """Every stored record of ``kind``, in RFC 8785 key order (UTF-16 code units)."""
        raise NotImplementedError

    def get_many(self, kind: str, keys: list[str]) -> dict[str, dict]:
        """The stored records among ``keys`` (absent keys are left out), with one read."""
        raise NotImplementedError

    def items_range(self, kind: str, owner: str, start: int, end: int) -> list:
        """Items ``start``..``end - 1`` of the TailList (kind, owner) (see :class:`TailList`)."""
        raise NotImplementedError

    def fork(self, journal) -> "RecordStore":
        """The store seen by a copy of the engine whose journal is ``journal``."""
        raise NotImplementedError


class Records(MutableMapping):
    """A mapping of ``kind`` records: ``resident`` ones in memory, the others in ``store``."""

    def __init__(self, kind: str, resident: dict, store: RecordStore, *, all_evictions_seen: bool = False):
        self.kind = kind
        self.resident = resident
        self.store = store
        self._touched: set[str] = set()
        # When every record this engine ever had is resident or was evicted by this very object
        # (it was given the store before the first entry), a key none of those evictions named
        # cannot be in the store: a fixed-size filter of the evicted keys (false positives only
        # cost a read) spares the store a read for every new id (each CLAIM, COMMIT, PACT).
        self._evicted = _KeyFilter() if all_evictions_seen else None

    def _stored(self, key) -> dict | None:
        if not isinstance(key, str) or (self._evicted is not None and key not in self._evicted):
            return None
        return self.store.get(self.kind, key)

    def __getitem__(self, key: str) -> dict:
        record = self.resident.get(key)
        if record is None:
            record = self._stored(key)
            if record is None:
                raise KeyError(key)
            self.resident[key] = record
        self._touched.add(key)
        return record

    def __contains__(self, key) -> bool:
        return key in self.resident or self._stored(key) is not None

    def __setitem__(self, key: str, record: dict) -> None:
        self.resident[key] = record
        self._touched.add(key)

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"{self.kind} records are never deleted")

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.items())

    def items(self):  # type: ignore[override]  # a generator: the stored ones are streamed
        yield from self.resident.items()
        for key, record in self.store.items(self.kind):
            if key not in self.resident:
                yield key, record

    def values(self):  # type: ignore[override]
        return (record for _, record in self.items())

    def __len__(self) -> int:
        return sum(1 for _ in self.items())

    def canonical_items(self) -> Iterator[tuple[str, dict]]:
        """(key, record) of every record in RFC 8785 key order, resident or stored, streamed: what a
        digest of the whole state reads without holding it."""
        resident = ((utf16_key(key), 0, key, record) for key, record in canonical_items(self.resident))
        stored = ((utf16_key(key), 1, key, record) for key, record in self.store.items(self.kind))
        previous = None
        for _, _, key, record in heapq.merge(resident, stored):
            if key != previous:          # a resident record hides its stored version (it sorts first)
                yield key, record
            previous = key

    def preload(self, keys) -> None:
        """Make the records of ``keys`` resident with one read of the store (a walk over many
        records, e.g. an explanation's, would otherwise read them one by one)."""
        missing = [key for key in keys if key not in self.resident]
        if missing:
            self.resident.update(self.store.get_many(self.kind, missing))

    def evict(self, keep: Callable[[str, dict], bool]) -> list[tuple[str, dict]]:
        """Remove from memory every resident record not accessed since the last eviction and not
        kept by ``keep(key, record)``; return them (the caller stores them). Starts a new period."""
        gone = [(key, record) for key, record in self.resident.items()
                if key not in self._touched and not keep(key, record)]
        for key, _ in gone:
            del self.resident[key]
            if self._evicted is not None:
                self._evicted.add(key)
        self._touched = set()
        return gone


def newest_first(records, keys: list[str], *, chunk: int = 512) -> Iterator[tuple[str, dict]]:
    """(key, record) for ``keys`` from the last to the first, reading evicted records a chunk at a
    time: for walks that may go far back (a plain dict needs no reading)."""
    end = len(keys)
    while end > 0:
        start = max(0, end - chunk)
        part = keys[start:end]
        if isinstance(records, Records):
            records.preload(part)
        for key in reversed(part):
            yield key, records[key]
        end = start


class TailList:
    """An append-only list whose first ``offset`` items are in a store and the rest, its tail, in
    memory: an actor's breaches (by breach day) or its self-reports on one metric grow with its
    history, while the rules read their newest items. Reading an older item reads the store
    (identical in every process: item ``i`` of a list is the same whoever stored it)."""

    def __init__(self, kind: str, owner: str, offset: int, tail: list, store: RecordStore):
        self.kind, self.owner = kind, owner
        self.offset = offset
        self.tail = tail
        self.store = store

    def __len__(self) -> int:
        return self.offset + len(self.tail)

    def append(self, item) -> None:
        self.tail.append(item)

    def _stored(self, start: int, end: int) -> list:
        return self.store.items_range(self.kind, self.owner, start, end) if start < end else []

    def __getitem__(self, at):
        size = len(self)
        if isinstance(at, slice):
            start, end, step = at.indices(size)
            if step != 1:
                raise ValueError("TailList slices take no step")
            end = max(start, end)
            if start >= self.offset:
                return self.tail[start - self.offset:end - self.offset]
            return self._stored(start, min(end, self.offset)) + self.tail[:max(0, end - self.offset)]
        if at < 0:
            at += size
        if not 0 <= at < size:
            raise IndexError("TailList index out of range")
        return self.tail[at - self.offset] if at >= self.offset else self._stored(at, at + 1)[0]

    def __iter__(self):
        for start in range(0, self.offset, 512):
            yield from self._stored(start, min(start + 512, self.offset))
        yield from self.tail

    def __reversed__(self):
        yield from reversed(self.tail)
        end = self.offset
        while end > 0:
            start = max(0, end - 512)
            yield from reversed(self._stored(start, end))
            end = start

    def spill(self, keep: int) -> list[tuple[int, object]]:
        """Move all but the last ``keep`` items to the store's care: return (ordinal, item) of the
        items to store; from then on they are read from there. Nothing moves until at least
        ``keep`` would (items move in batches, not one at a time)."""
        cut = len(self.tail) - keep
        if cut < max(keep, 1):
            return []
        moved = [(self.offset + i, item) for i, item in enumerate(self.tail[:cut])]
        self.tail = self.tail[cut:]
        self.offset += cut
        return moved

    def to_json(self) -> dict:
        return {"offset": self.offset, "tail": self.tail}


# State attributes whose lists may be TailLists, and how deep the lists sit: breaches is
# actor -> [commitment id]; reports is actor -> metric -> [[value, index, day]].
TAIL_LISTS = {"breaches": 1, "reports": 2}


def tail_slots(name: str, value: dict):
    """(owner, container, key) of every list of the TAIL_LISTS attribute ``name``: the list is
    ``container[key]``; ``owner`` names it in the store."""
    for actor, inner in value.items():
        if TAIL_LISTS[name] == 1:
            yield actor, value, actor
        else:
            for metric in inner:
                yield json.dumps([actor, metric]), inner, metric


def canonical_items(mapping) -> Iterator[tuple[str, dict]]:
    """(key, value) of a dict or of Records in RFC 8785 key order."""
    if isinstance(mapping, Records):
        return mapping.canonical_items()
    return iter(sorted(mapping.items(), key=lambda item: utf16_key(item[0])))


class _KeyFilter:
    """A Bloom filter of strings in 1 MiB (two bits per key): ``key in filter`` is False only for
    keys never added. In memory only (Python's string hash differs between processes)."""

    BITS = 1 << 23

    def __init__(self):
        self.bits = bytearray(self.BITS // 8)

    def _positions(self, key: str) -> tuple[int, int]:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        return h % self.BITS, (h >> 32) % self.BITS

    def add(self, key: str) -> None:
        for bit in self._positions(key):
            self.bits[bit >> 3] |= 1 << (bit & 7)

    def __contains__(self, key: str) -> bool:
        return all(self.bits[bit >> 3] & (1 << (bit & 7)) for bit in self._positions(key))
