"""Reason codes: why an entry is ineffective (D6), and the engine's per-entry outcome.

The names are RS-1's (R1-R12 and the clarifications' list) plus pactlog's own:
KEY_IN_USE (key rotation), LOG_REJECTED (after an invalid genesis) and the codes of
the seed mechanisms beyond RS-1, which a plain RS-1 log never produces.  Only
MONITOR_NOT_COUNTING has sub-causes in the canonical state; every code may carry a
free-text ``detail`` that explanations show but the state digest does not cover.
"""

from __future__ import annotations

from typing import NamedTuple

MALFORMED = "MALFORMED"
WRONG_ROLE = "WRONG_ROLE"
INVALID_AMOUNT = "INVALID_AMOUNT"
UNKNOWN_SUBJECT = "UNKNOWN_SUBJECT"
DUPLICATE_ID = "DUPLICATE_ID"
DUPLICATE_APPROVAL = "DUPLICATE_APPROVAL"
CLOSED = "CLOSED"
MONITOR_NOT_COUNTING = "MONITOR_NOT_COUNTING"
DUPLICATE_MONITOR = "DUPLICATE_MONITOR"
VERSION_GAP = "VERSION_GAP"
RETROACTIVE = "RETROACTIVE"
SUSPENDED = "SUSPENDED"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
INVALID_DEADLINE = "INVALID_DEADLINE"
NOT_BREACHED = "NOT_BREACHED"
ALREADY_APPEALED = "ALREADY_APPEALED"
APPEAL_WINDOW_CLOSED = "APPEAL_WINDOW_CLOSED"
NOT_APPEALED = "NOT_APPEALED"
DECISION_WINDOW_CLOSED = "DECISION_WINDOW_CLOSED"
NOT_MEMBER = "NOT_MEMBER"
PACT_CLOSED = "PACT_CLOSED"
ALREADY_JOINED = "ALREADY_JOINED"
NOT_JOINED = "NOT_JOINED"
PACT_BINDING = "PACT_BINDING"
PACT_NOT_ACTIVE = "PACT_NOT_ACTIVE"
UNKNOWN_METRIC = "UNKNOWN_METRIC"
KEY_IN_USE = "KEY_IN_USE"
LOG_REJECTED = "LOG_REJECTED"
# Seed mechanisms beyond RS-1 (section 13 of the spec).
METRIC_RETIRED = "METRIC_RETIRED"
REVEAL_MISMATCH = "REVEAL_MISMATCH"
QUORUM_UNREACHABLE = "QUORUM_UNREACHABLE"

# Sub-causes of MONITOR_NOT_COUNTING (R3, C7).
NOT_ACCREDITED = "NOT_ACCREDITED"
REVOKED = "REVOKED"
EXPIRED = "EXPIRED"
CONFLICTED = "CONFLICT"

ALL_CODES = (
    MALFORMED, WRONG_ROLE, INVALID_AMOUNT, UNKNOWN_SUBJECT, DUPLICATE_ID, DUPLICATE_APPROVAL, CLOSED,
    MONITOR_NOT_COUNTING, DUPLICATE_MONITOR, VERSION_GAP, RETROACTIVE, SUSPENDED, INSUFFICIENT_FUNDS,
    INVALID_DEADLINE, NOT_BREACHED, ALREADY_APPEALED, APPEAL_WINDOW_CLOSED, NOT_APPEALED,
    DECISION_WINDOW_CLOSED, NOT_MEMBER, PACT_CLOSED, ALREADY_JOINED, NOT_JOINED, PACT_BINDING,
    PACT_NOT_ACTIVE, UNKNOWN_METRIC, KEY_IN_USE, LOG_REJECTED, METRIC_RETIRED, REVEAL_MISMATCH,
    QUORUM_UNREACHABLE,
)


class Reject(Exception):
    """Raised inside a rule handler to make the current entry ineffective.

    Handlers raise it before changing anything, except in the two closing cases
    (R2 proposals, R12 incidents), which mark their subject closed first.
    """

    def __init__(self, code: str, detail: str | None = None, sub: str | None = None):
        super().__init__(code)
        self.code = code
        self.sub = sub
        self.detail = detail


def malformed(detail: str) -> Reject:
    return Reject(MALFORMED, detail)


class Outcome(NamedTuple):
    """What the engine decided for one entry: ``code`` is None when it took effect."""

    index: int
    day: int
    code: str | None = None
    sub: str | None = None
    detail: str | None = None

    @property
    def effective(self) -> bool:
        return self.code is None
