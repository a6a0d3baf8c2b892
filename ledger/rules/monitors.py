"""Monitor accreditation and attester counting (R3, C7, C8, C10).

An accreditation term is [start, end, revoked, index, revoke_index]: m is accredited
on day d iff some term has start <= d <= end.  Terms are appended in adoption
order, so the last term is the most recently started one (C7's tie rule).
"""

from __future__ import annotations

from ledger.rules.reasons import (
    CONFLICTED, EXPIRED, MONITOR_NOT_COUNTING, NOT_ACCREDITED, REVOKED, Reject,
)


def accredited(st, monitor: str, day: int) -> bool:
    for term in reversed(st.terms.get(monitor, ())):
        if term[0] <= day <= term[1]:
            return True
    return False


def not_counting_cause(st, monitor: str, actor: str, day: int) -> str | None:
    """The sub-cause of MONITOR_NOT_COUNTING for m reporting on ``actor`` at ``day``, or None.

    Accreditation is checked before conflict (C1); the sub-cause of a monitor without a
    term covering ``day`` follows its most recently started term (C7)."""
    terms = st.terms.get(monitor)
    if not terms:
        return NOT_ACCREDITED
    if not accredited(st, monitor, day):
        return REVOKED if terms[-1][2] else EXPIRED
    if actor in st.conflicts.get(monitor, ()):
        return CONFLICTED
    return None


def require_counting(st, monitor: str, actor: str, day: int) -> None:
    cause = not_counting_cause(st, monitor, actor, day)
    if cause is not None:
        raise Reject(MONITOR_NOT_COUNTING, f"{monitor} does not count for {actor} on day {day}", sub=cause)


def accredit(st, monitor: str, day: int, index: int) -> None:
    """A new term of ACCREDITATION_TERM days (the value in force on the adoption day)."""
    term = st.params(day)["ACCREDITATION_TERM"]
    st.terms.setdefault(monitor, []).append([day, day + term - 1, False, index, None])


def revoke(st, monitor: str, day: int, index: int) -> None:
    """End every current term at day - 1 (C7); no current term: nothing changes."""
    for term in st.terms.get(monitor, ()):
        if term[0] <= day <= term[1]:
            term[1] = day - 1
            term[2] = True
            term[4] = index
