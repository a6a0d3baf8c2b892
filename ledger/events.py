"""From logged entries to the rules engine's events.

The log admitted every entry after checking its encoding and signatures (specs/entry.md), so
reading them back for the engine needs no second verification: a plain JSON parse of the stored
bytes gives the statement and the signers. The engine wants the signers' vkeys with the
statement's signer first (specs/rules-rs1.md §1); an entry stores its signatures sorted by key.

Audit (`pactlog audit`) is what re-checks stored entries; a stored entry that no longer parses is
reported here as a corrupted database, never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from .errors import CorruptionError
from .rules.events import Event


def event_of(index: int, data: bytes) -> Event:
    """The engine's view of the logged entry ``data`` at ``index``."""
    try:
        value = json.loads(data)
        statement = value["statement"]
        signer = statement["signer"]
        others = [s["key"] for s in value["signatures"] if s["key"] != signer]
        return Event(index, statement["time"], statement["type"], (signer, *others), statement["body"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptionError(
            f"the logged entry {index} cannot be read back: {exc}",
            hint="run `pactlog audit`", reason="corrupted_entry",
        ) from exc


def events_of(entries: Iterable[tuple[int, bytes]]) -> Iterator[Event]:
    """Events for (index, bytes) pairs, e.g. ``Log.entries()``."""
    for index, data in entries:
        yield event_of(index, data)
