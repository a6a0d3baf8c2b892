"""The engine's input: one already-verified log entry, and the entry types RS-1 knows.

The log core checks bytes, signatures and log order and hands the engine an
:class:`Event`; the engine never sees signatures, only the verified signers'
vkeys.  Everything about an event's *effect* (its body, its signers' roles, its
timing) is judged by the engine and reported as a reason code, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS_PER_DAY = 86_400

GENESIS = "GENESIS"
APPROVE = "APPROVE"
CONFLICT = "CONFLICT"
ROTATE_KEY = "ROTATE_KEY"
CLAIM = "CLAIM"
VERIFY = "VERIFY"
TRANSFER = "TRANSFER"
RETIRE = "RETIRE"
COMMIT = "COMMIT"
ATTEST = "ATTEST"
APPEAL = "APPEAL"
PACT = "PACT"
JOIN = "JOIN"
WITHDRAW = "WITHDRAW"
SELF_REPORT = "SELF_REPORT"
AUDIT = "AUDIT"
INCIDENT = "INCIDENT"
# Seed mechanisms beyond RS-1: recognised only when the genesis declares their extension.
EVIDENCE = "EVIDENCE"
EVIDENCE_CHECK = "EVIDENCE_CHECK"
REVEAL = "REVEAL"
EXIT = "EXIT"
WHISTLE = "WHISTLE"
WHISTLE_REVEAL = "WHISTLE_REVEAL"
EXTENSION_TYPES = {EVIDENCE: "evidence", EVIDENCE_CHECK: "evidence", REVEAL: "evidence", EXIT: "coalition",
                   WHISTLE: "whistleblower", WHISTLE_REVEAL: "whistleblower"}

ENTRY_TYPES = (
    GENESIS, APPROVE, CONFLICT, ROTATE_KEY, CLAIM, VERIFY, TRANSFER, RETIRE, COMMIT, ATTEST,
    APPEAL, PACT, JOIN, WITHDRAW, SELF_REPORT, AUDIT, INCIDENT,
)
"""Every type the engine gives an effect to; any other type is ineffective (MALFORMED)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One verified log entry as the engine consumes it.

    index:   log index (0-based), strictly increasing along the log.
    time:    Unix seconds UTC, non-decreasing along the log (the core guarantees it).
    type:    the entry type, e.g. "GENESIS", "APPROVE", "CLAIM".
    signers: the C2SP vkeys of the entry's verified signatures, primary first.
    body:    the type-specific JSON body (ints, strs, bools, None, lists, dicts; no floats).
    """

    index: int
    time: int
    type: str
    signers: tuple[str, ...]
    body: dict


def day_of(time: int, epoch: int) -> int:
    """The integer day of a timestamp: day 0 starts at ``epoch`` (floor division, so
    a time before the epoch gives a negative day)."""
    return (time - epoch) // SECONDS_PER_DAY
