"""Commitments (R5), fines (R7) and appeals (R8).

A commitment is resolved by the first verdict whose distinct counting monitors
reach k, or becomes BREACHED by default at the start of day deadline + 1.  Every
breach is fined FINE_PER_LEVEL x L, L computed at the breach with it included;
what the breaching actor cannot pay is recorded as outstanding (never collected).
"""

from __future__ import annotations

from ledger.rules import forms
from ledger.rules.events import APPEAL, ATTEST, COMMIT
from ledger.rules.flags import quorum
from ledger.rules.monitors import require_counting
from ledger.rules.reasons import (
    ALREADY_APPEALED, APPEAL_WINDOW_CLOSED, CLOSED, DECISION_WINDOW_CLOSED, DUPLICATE_ID,
    DUPLICATE_MONITOR, INVALID_DEADLINE, NOT_APPEALED, NOT_BREACHED, UNKNOWN_SUBJECT, WRONG_ROLE,
    Reject,
)
from ledger.rules.roles import actor_signer, monitor_signer, require_signer
from ledger.rules.sanctions import level

DEFAULT = 0  # schedule slot of commitment defaults (before pact failures)


def on_commit(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(COMMIT, body, st)
    actor, cid, deadline = body["actor"], body["id"], body["deadline"]
    require_signer(st, ev, actor)
    if deadline < day:
        raise Reject(INVALID_DEADLINE, f"deadline {deadline} is before the entry's day {day}")
    if cid in st.commitments:
        raise Reject(DUPLICATE_ID, f"commitment {cid!r} already exists")
    st.commitments[cid] = {
        "actor": actor, "deadline": deadline, "index": ev.index, "day": day, "status": "OPEN",
        "tally": {"FULFILLED": {}, "BREACHED": {}}, "resolved_day": None, "resolved_index": None,
        "fine": None, "appeal": None,
    }
    st.schedule(deadline + 1, DEFAULT, cid)


def on_attest(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(ATTEST, body, st)
    monitor = monitor_signer(st, ev)
    cid, verdict = body["commitment"], body["verdict"]
    commitment = st.commitments.get(cid)
    if commitment is None:
        raise Reject(UNKNOWN_SUBJECT, f"no commitment {cid!r}")
    if commitment["status"] != "OPEN":
        raise Reject(CLOSED, f"commitment {cid!r} is already {commitment['status']}")
    actor = commitment["actor"]
    require_counting(st, monitor, actor, day)
    tally = commitment["tally"][verdict]
    if monitor in tally:
        raise Reject(DUPLICATE_MONITOR, f"{monitor} already attested {verdict} for {cid!r}")
    tally[monitor] = [ev.index, day]
    if len(tally) >= quorum(st, actor, day):
        commitment["resolved_index"] = ev.index
        if verdict == "FULFILLED":
            commitment["status"] = "FULFILLED"
            commitment["resolved_day"] = day
            st.board.setdefault(actor, [0, 0, 0])[0] += 1
        else:
            breach(st, cid, commitment, day, ev.index, None)


def default_breach(st, cid: str, day: int) -> None:
    """Start of day D+1: an OPEN commitment becomes BREACHED with effective day D+1."""
    commitment = st.commitments[cid]
    if commitment["status"] == "OPEN":
        breach(st, cid, commitment, day, None, commitment["index"])


def breach(st, cid: str, commitment: dict, day: int, index, creator) -> None:
    """Mark BREACHED on ``day`` and fine it (R7); ``index`` None means a default (``creator`` set)."""
    actor = commitment["actor"]
    commitment["status"] = "BREACHED"
    commitment["resolved_day"] = day
    st.breaches.setdefault(actor, []).append(cid)
    st.board.setdefault(actor, [0, 0, 0])[1] += 1
    fine = st.params(day)["FINE_PER_LEVEL"] * level(st, actor, day)
    paid = min(fine, st.acct[actor]["liquid"])
    commitment["fine"] = [fine, paid, fine - paid]
    subject = f"commitment:{cid}"
    st.move(actor, "liquid", -paid, index, day, "R7", subject, creator)
    st.move("BUFFER", "liquid", paid, index, day, "R7", subject, creator)
    st.move(actor, "fines", fine - paid, index, day, "R7", subject, creator)


def on_appeal(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(APPEAL, body, st)
    signer = actor_signer(st, ev)
    cid = body["commitment"]
    commitment = st.commitments.get(cid)
    if commitment is None:
        raise Reject(UNKNOWN_SUBJECT, f"no commitment {cid!r}")
    if signer != commitment["actor"]:
        raise Reject(WRONG_ROLE, f"only the committer {commitment['actor']} may appeal")
    if commitment["status"] != "BREACHED":
        raise Reject(NOT_BREACHED, f"commitment {cid!r} is {commitment['status']}")
    if commitment["appeal"] is not None:
        raise Reject(ALREADY_APPEALED, f"commitment {cid!r} was appealed at entry {commitment['appeal']['index']}")
    params = st.params(day)
    if day > commitment["resolved_day"] + params["APPEAL_FILING_DAYS"]:
        raise Reject(APPEAL_WINDOW_CLOSED, f"the filing window ended on day {commitment['resolved_day'] + params['APPEAL_FILING_DAYS']}")
    commitment["appeal"] = {
        "filed_day": day, "index": ev.index, "stay_end": day + params["APPEAL_DECISION_DAYS"],
        "decision": None, "decided_day": None, "decided_index": None,
    }


def decide(st, proposal: dict, day: int, index: int) -> None:
    """Apply an adopted DECIDE (R8, C6); raises the action's reason code if invalid."""
    cid = proposal["commitment"]
    commitment = st.commitments.get(cid)
    if commitment is None:
        raise Reject(UNKNOWN_SUBJECT, f"no commitment {cid!r}")
    appeal = commitment["appeal"]
    if appeal is None:
        raise Reject(NOT_APPEALED, f"commitment {cid!r} has no appeal")
    if appeal["decision"] is not None:
        raise Reject(DECISION_WINDOW_CLOSED, "the appeal was already decided")
    if day > appeal["stay_end"]:
        raise Reject(DECISION_WINDOW_CLOSED, f"the decision deadline was day {appeal['stay_end']}")
    appeal["decision"] = proposal["decision"]
    appeal["decided_day"] = day
    appeal["decided_index"] = index
    if proposal["decision"] == "OVERTURN":
        _void(st, cid, commitment, day, index)


def _void(st, cid: str, commitment: dict, day: int, index: int) -> None:
    actor = commitment["actor"]
    commitment["status"] = "VOIDED"
    board = st.board[actor]
    board[1] -= 1
    board[2] += 1
    fine, paid, unpaid = commitment["fine"]
    subject = f"commitment:{cid}"
    st.move("BUFFER", "liquid", -paid, index, day, "R8", subject)
    st.move(actor, "liquid", paid, index, day, "R8", subject)
    st.move(actor, "fines", -unpaid, index, day, "R8", subject)
