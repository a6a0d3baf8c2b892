"""The engine's journal: append-only records that no rule reads back.

Three kinds of record only grow with the log and never decide an outcome: the ineffective
entries with their reason codes (part of the canonical state, D6), and, when the engine tracks
provenance, every balance movement and every rejection by subject (what explanations cite,
R14). Keeping them apart from the working state lets a persisted layer hold them on disk
(``ledger.derived``), so that a snapshot of the working state, and an engine restored from
it, do not grow with the log's history.

Every record carries a *position* in the fold: ``2·i`` for the start-of-day effects applied
before entry ``i``, ``2·i + 1`` for entry ``i`` itself. The engine sets :attr:`Journal.pos`
before each step; a stored journal uses positions to skip what is already on disk.

:class:`MemoryJournal` (the default) keeps the records in the state's own lists, so a plain
engine's snapshot carries them exactly as before.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

# Record shapes (lists, as in snapshots):
#   ineffective: [index, code, sub]
#   movement:    [index, day, rule, version, field, delta, subject, creator]  (index None: start of day)
#   rejection:   [index, code, sub, detail]


class Journal:
    """The interface the rules code uses; see :class:`MemoryJournal` for the plain one."""

    pos: int = 0

    def add_ineffective(self, record: list) -> None:
        raise NotImplementedError

    def add_movement(self, account: str, record: list) -> None:
        raise NotImplementedError

    def add_rejection(self, subject: str, record: list) -> None:
        raise NotImplementedError

    def ineffective(self) -> list[list]:
        """Every ineffective entry so far, in log order."""
        raise NotImplementedError

    def ineffective_of(self, index: int) -> list | None:
        """The [index, code, sub] record of entry ``index``, or None if it took effect."""
        raise NotImplementedError

    def iter_ineffective(self) -> Iterator[list]:
        """The ineffective entries in log order, streamed (a digest of a large state)."""
        raise NotImplementedError

    def movements(self, account: str) -> list[list]:
        raise NotImplementedError

    def rejections(self, subject: str, index: int | None = None) -> list[list]:
        """The rejections noted under ``subject`` (only those of entry ``index`` if given), in log order."""
        raise NotImplementedError

    def fork(self, state) -> "Journal":
        """The journal of a copy of the engine (``state`` is the copy's): it sees every record so
        far, and what the copy adds stays its own."""
        raise NotImplementedError


class MemoryJournal(Journal):
    """Records kept in the state's persisted lists (``ineffective``, ``prov_acct``, ``prov_rej``)."""

    def __init__(self, state):
        self.st = state

    def add_ineffective(self, record: list) -> None:
        self.st.ineffective.append(record)

    def add_movement(self, account: str, record: list) -> None:
        self.st.prov_acct.setdefault(account, []).append(record)

    def add_rejection(self, subject: str, record: list) -> None:
        self.st.prov_rej.setdefault(subject, []).append(record)

    def ineffective(self) -> list[list]:
        return self.st.ineffective

    def iter_ineffective(self) -> Iterator[list]:
        return iter(self.st.ineffective)

    def ineffective_of(self, index: int) -> list | None:
        found = of_entry(self.st.ineffective, index)
        return found[0] if found else None

    def movements(self, account: str) -> list[list]:
        return self.st.prov_acct.get(account, [])

    def rejections(self, subject: str, index: int | None = None) -> list[list]:
        records = self.st.prov_rej.get(subject, [])
        if index is None:
            return records
        return of_entry(records, index)

    def fork(self, state) -> "Journal":
        return MemoryJournal(state)     # the copy's lists are copies of ours


def of_entry(records: list[list], index: int) -> list[list]:
    """The records of entry ``index`` in a list ordered by index (they are adjacent): one bisection."""
    found = []
    for record in records[bisect_left(records, [index]):]:
        if record[0] != index:
            break
        found.append(record)
    return found
