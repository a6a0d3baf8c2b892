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

from collections.abc import Callable, Iterator, MutableMapping

SPILLABLE = ("claims", "commitments", "pacts", "incidents")   # State attributes that may be Records


class RecordStore:
    """Where evicted records live: the latest version of each as of the engine's position."""

    def get(self, kind: str, key: str) -> dict | None:
        raise NotImplementedError

    def items(self, kind: str) -> Iterator[tuple[str, dict]]:
        raise NotImplementedError

    def fork(self, journal) -> "RecordStore":
        """The store seen by a copy of the engine whose journal is ``journal``."""
        raise NotImplementedError


class Records(MutableMapping):
    """A mapping of ``kind`` records: ``resident`` ones in memory, the others in ``store``."""

    def __init__(self, kind: str, resident: dict, store: RecordStore):
        self.kind = kind
        self.resident = resident
        self.store = store
        self._touched: set[str] = set()

    def __getitem__(self, key: str) -> dict:
        record = self.resident.get(key)
        if record is None:
            record = self.store.get(self.kind, key)
            if record is None:
                raise KeyError(key)
            self.resident[key] = record
        self._touched.add(key)
        return record

    def __contains__(self, key) -> bool:
        return key in self.resident or (isinstance(key, str) and self.store.get(self.kind, key) is not None)

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

    def evict(self, keep: Callable[[str, dict], bool]) -> list[tuple[str, dict]]:
        """Remove from memory every resident record not accessed since the last eviction and not
        kept by ``keep(key, record)``; return them (the caller stores them). Starts a new period."""
        gone = [(key, record) for key, record in self.resident.items()
                if key not in self._touched and not keep(key, record)]
        for key, _ in gone:
            del self.resident[key]
        self._touched = set()
        return gone
