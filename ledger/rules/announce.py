"""Common knowledge: a derived sanction is "announced" only once everything behind it is witnessed.

A level L > 0 rests on entries: each counted breach's COMMIT, the attestations that
resolved it (or, for a default, the COMMIT that created it), and its appeal and
decision if any.  The sanction is announced once every one of them lies inside a
checkpoint cosigned by the trust policy's witness quorum, i.e. has an index below
that checkpoint's tree size.  The engine does not see checkpoints: the caller passes
the size of the latest witnessed one (0 if none), so this stays a pure query.
"""

from __future__ import annotations

from ledger.rules.params import LEVEL_CAP
from ledger.rules.sanctions import counted_breaches


def sanction_entries(st, actor: str, day: int) -> list[int]:
    """The log indices a sanction level of ``actor`` on ``day`` rests on, ascending."""
    indices: set[int] = set()
    for cid in counted_breaches(st, actor, day, limit=LEVEL_CAP):
        commitment = st.commitments[cid]
        indices.add(commitment["index"])
        if commitment["resolved_index"] is not None:
            indices.update(index for index, _ in commitment["tally"]["BREACHED"].values())
        appeal = commitment["appeal"]
        if appeal is not None:
            indices.add(appeal["index"])
            if appeal["decided_index"] is not None:
                indices.add(appeal["decided_index"])
    return sorted(indices)


def announcements(engine, witnessed_size: int, as_of: int | None = None) -> dict:
    """For every actor with a sanction level > 0 as of ``as_of``:
    {"level", "announced", "entries", "unwitnessed"} given the witnessed tree size."""
    projected = engine.at(as_of)
    st = projected.st
    day = st.day if as_of is None else as_of
    out = {}
    for actor in sorted(st.breaches):
        entries = sanction_entries(st, actor, day)
        if not entries:
            continue
        unwitnessed = [index for index in entries if index >= witnessed_size]
        out[actor] = {"level": min(LEVEL_CAP, len(counted_breaches(st, actor, day))), "announced": not unwitnessed,
                      "entries": entries, "unwitnessed": unwitnessed}
    return out
