"""Mutual assurance pacts (R9, C18, C19).

A pact escrows bonus x |members| from its sponsor, collects members' stakes as
locked credits, and TRIGGERS after the JOIN that meets both its count and weight
thresholds (escrow back to the sponsor; ACTIVE from trigger day + delay).  Still
OPEN at the start of day open_until + 1, it FAILS: stakes return and every joined
member is paid the bonus from the escrow, the rest going back to the sponsor.
"""

from __future__ import annotations

from ledger.rules import forms
from ledger.rules.events import JOIN, PACT, WITHDRAW
from ledger.rules.reasons import (
    ALREADY_JOINED, DUPLICATE_ID, INSUFFICIENT_FUNDS, INVALID_DEADLINE, NOT_JOINED, NOT_MEMBER,
    PACT_BINDING, PACT_CLOSED, SUSPENDED, UNKNOWN_SUBJECT, Reject,
)
from ledger.rules.roles import require_signer
from ledger.rules.sanctions import suspended

FAILURE = 1  # schedule slot of pact failures (after commitment defaults)
TERMS = ("members", "min_count", "min_weight_pct", "stake", "bonus", "open_until", "delay", "retention")


def status_on(pact: dict, day: int) -> str:
    """OPEN, TRIGGERED (before trigger day + delay), ACTIVE or FAILED on ``day``."""
    status = pact["status"]
    if status == "TRIGGERED" and day >= pact["active_from"]:
        return "ACTIVE"
    return status


def on_pact(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(PACT, body, st)
    sponsor, pid = body["sponsor"], body["id"]
    require_signer(st, ev, sponsor)
    if body["open_until"] < day:
        raise Reject(INVALID_DEADLINE, f"open_until {body['open_until']} is before the entry's day {day}")
    if pid in st.pacts:
        raise Reject(DUPLICATE_ID, f"pact {pid!r} already exists")
    escrow = body["bonus"] * len(body["members"])
    if st.acct[sponsor]["liquid"] < escrow:
        raise Reject(INSUFFICIENT_FUNDS, f"{sponsor} cannot escrow {escrow}")
    pact = {name: body.get(name, 0) for name in TERMS}
    pact["members"] = dict(body["members"])
    pact.update({
        "sponsor": sponsor, "index": ev.index, "day": day, "status": "OPEN", "escrow": escrow,
        "total_weight": sum(body["members"].values()), "joined": {}, "history": [],
        "trigger_day": None, "trigger_index": None, "active_from": None, "failed_day": None,
    })
    st.pacts[pid] = pact
    _escrow_move(st, sponsor, escrow, ev.index, day, pid, None)
    st.schedule(body["open_until"] + 1, FAILURE, pid)


def _escrow_move(st, name: str, amount: int, index, day: int, pid: str, creator) -> None:
    """``amount`` from ``name``'s liquid into the pact's escrow (negative: back out)."""
    st.sys["escrow"] += amount
    st.move(name, "liquid", -amount, index, day, "R9", f"pact:{pid}", creator)


def _pact(st, pid: str) -> dict:
    pact = st.pacts.get(pid)
    if pact is None:
        raise Reject(UNKNOWN_SUBJECT, f"no pact {pid!r}")
    return pact


def on_join(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(JOIN, body, st)
    actor, pid = body["actor"], body["pact"]
    require_signer(st, ev, actor)
    pact = _pact(st, pid)
    if actor not in pact["members"]:
        raise Reject(NOT_MEMBER, f"{actor} is not a member of pact {pid!r}")
    if day > pact["open_until"] or pact["status"] == "FAILED":
        raise Reject(PACT_CLOSED, f"pact {pid!r} is closed for joining")
    if actor in pact["joined"]:
        raise Reject(ALREADY_JOINED, f"{actor} already joined pact {pid!r}")
    if suspended(st, actor, day):
        raise Reject(SUSPENDED, f"{actor} is suspended on day {day}")
    stake = pact["stake"]
    if st.acct[actor]["liquid"] < stake:
        raise Reject(INSUFFICIENT_FUNDS, f"{actor} cannot lock a stake of {stake}")
    pact["joined"][actor] = stake
    pact["history"].append([ev.index, day, "JOIN", actor])
    subject = f"pact:{pid}"
    st.move(actor, "liquid", -stake, ev.index, day, "R9", subject)
    st.move(actor, "locked", stake, ev.index, day, "R9", subject)
    if pact["status"] == "OPEN" and _thresholds_met(pact):
        pact["status"] = "TRIGGERED"
        pact["trigger_day"] = day
        pact["trigger_index"] = ev.index
        pact["active_from"] = day + pact["delay"]
        _escrow_move(st, pact["sponsor"], -pact["escrow"], ev.index, day, pid, None)
        pact["escrow"] = 0


def _thresholds_met(pact: dict) -> bool:
    joined = pact["joined"]
    weight = sum(pact["members"][name] for name in joined)
    return len(joined) >= pact["min_count"] and 100 * weight >= pact["min_weight_pct"] * pact["total_weight"]


def on_withdraw(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(WITHDRAW, body, st)
    actor, pid = body["actor"], body["pact"]
    require_signer(st, ev, actor)
    pact = _pact(st, pid)
    if actor not in pact["joined"]:
        raise Reject(NOT_JOINED, f"{actor} has not joined pact {pid!r}")
    if pact["status"] != "OPEN":
        raise Reject(PACT_BINDING, f"pact {pid!r} is {pact['status']}")
    stake = pact["joined"].pop(actor)
    pact["history"].append([ev.index, day, "WITHDRAW", actor])
    subject = f"pact:{pid}"
    st.move(actor, "locked", -stake, ev.index, day, "R9", subject)
    st.move(actor, "liquid", stake, ev.index, day, "R9", subject)


def fail_if_open(st, pid: str, day: int) -> None:
    """Start of day open_until + 1: an OPEN pact FAILS (R9)."""
    pact = st.pacts[pid]
    if pact["status"] != "OPEN":
        return
    pact["status"] = "FAILED"
    pact["failed_day"] = day
    creator = pact["index"]
    subject = f"pact:{pid}"
    for actor in sorted(pact["joined"]):
        stake = pact["joined"][actor]
        pact["joined"][actor] = 0
        st.move(actor, "locked", -stake, None, day, "R9", subject, creator)
        st.move(actor, "liquid", stake, None, day, "R9", subject, creator)
        _escrow_move(st, actor, -pact["bonus"], None, day, pid, creator)
        pact["escrow"] -= pact["bonus"]
    _escrow_move(st, pact["sponsor"], -pact["escrow"], None, day, pid, creator)
    pact["escrow"] = 0
