"""Sanction level (R6), stays of appealed breaches (R8) and suspension.

Breaches are kept per actor in breach order; a breach happens on the engine's
current day, so breach days ascend along each list and a level needs to look only
at the breaches inside the sanction window (newest first).
"""

from __future__ import annotations

from ledger.rules.params import LEVEL_CAP
from ledger.rules.records import newest_first


def stayed(commitment: dict, day: int) -> bool:
    """An undecided appeal filed on F stays the breach on days F .. F + APPEAL_DECISION_DAYS."""
    appeal = commitment["appeal"]
    return (appeal is not None and appeal["decision"] is None
            and appeal["filed_day"] <= day <= appeal["stay_end"])


def appeal_status(appeal: dict, day: int) -> str:
    if appeal["decision"] == "UPHOLD":
        return "UPHELD"
    if appeal["decision"] == "OVERTURN":
        return "OVERTURNED"
    return "PENDING" if day <= appeal["stay_end"] else "LAPSED"


def counted_breaches(st, actor: str, day: int, limit: int = LEVEL_CAP) -> list[str]:
    """Up to ``limit`` commitment ids of ``actor`` that count for its level on ``day``, newest first:
    BREACHED with breach day E in [day - SANCTION_WINDOW + 1, day], not voided, not stayed."""
    ids = st.breaches.get(actor)
    if not ids:
        return []
    lowest = day - st.params(day)["SANCTION_WINDOW"] + 1
    # A walk for the level stops after LEVEL_CAP; a longer one (an explanation's) reads ahead.
    commitments = st.commitments
    walk = newest_first(commitments, ids) if limit > LEVEL_CAP else ((cid, commitments[cid]) for cid in reversed(ids))
    found = []
    for cid, commitment in walk:
        breach_day = commitment["resolved_day"]
        if breach_day < lowest:
            break
        if commitment["status"] != "BREACHED" or breach_day > day or stayed(commitment, day):
            continue
        found.append(cid)
        if len(found) == limit:
            break
    return found


def level(st, actor: str, day: int) -> int:
    """L = min(3, number of counting breaches) as of ``day`` from the entries applied so far."""
    return len(counted_breaches(st, actor, day))


def suspended(st, actor: str, day: int) -> bool:
    return level(st, actor, day) >= LEVEL_CAP
