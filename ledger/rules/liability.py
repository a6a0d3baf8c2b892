"""Liability pools (R12, C20): incidents reported by monitors, settled from a pact's stakes.

An incident subject is (pact, id, actor).  At the report that brings its distinct
counting monitors to k, E = min(reported damages); the pact must be ACTIVE and the
actor joined, else the incident is closed without effect.  Settlement: retention
r = min(E, pact retention) from the actor's liquid, then s = floor((E - r) / n)
from each joined member's locked stake in this pact (capped by that stake), all to
VICTIM; whatever is not paid is recorded as uncovered.
"""

from __future__ import annotations

from ledger.canonical import dumps as canonical_dumps
from ledger.rules import forms
from ledger.rules.events import INCIDENT
from ledger.rules.flags import quorum
from ledger.rules.monitors import require_counting
from ledger.rules.pacts import status_on
from ledger.rules.reasons import (
    CLOSED, DUPLICATE_MONITOR, INVALID_AMOUNT, NOT_MEMBER, PACT_NOT_ACTIVE, UNKNOWN_SUBJECT, Reject,
)
from ledger.rules.roles import monitor_signer


def incident_key(pact: str, ident: str, actor: str) -> str:
    return canonical_dumps([pact, ident, actor]).decode()


def on_incident(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(INCIDENT, body, st)
    monitor = monitor_signer(st, ev)
    pid, ident, actor, damages = body["pact"], body["id"], body["actor"], body["damages"]
    if damages < 1:
        raise Reject(INVALID_AMOUNT, f"damages must be >= 1, not {damages}")
    pact = st.pacts.get(pid)
    if pact is None:
        raise Reject(UNKNOWN_SUBJECT, f"no pact {pid!r}")
    key = incident_key(pid, ident, actor)
    incident = st.incidents.get(key)
    if incident is not None and incident["status"] != "OPEN":
        raise Reject(CLOSED, "the incident is already closed")
    require_counting(st, monitor, actor, day)
    if incident is None:
        incident = st.incidents[key] = {
            "pact": pid, "id": ident, "actor": actor, "status": "OPEN", "reports": {},
            "closed_index": None, "reason": None, "settlement": None,
        }
    reports = incident["reports"]
    if monitor in reports:
        raise Reject(DUPLICATE_MONITOR, f"{monitor} already reported this incident")
    reports[monitor] = [damages, ev.index, day]
    if len(reports) < quorum(st, actor, day):
        return
    incident["closed_index"] = ev.index
    if status_on(pact, day) != "ACTIVE":
        _close(incident, PACT_NOT_ACTIVE, f"pact {pid!r} is {status_on(pact, day)} on day {day}")
    if actor not in pact["joined"]:
        _close(incident, NOT_MEMBER, f"{actor} has not joined pact {pid!r}")
    _settle(st, pact, incident, key, day, ev.index)


def _close(incident: dict, code: str, detail: str) -> None:
    """R12's closing case: the subject closes, the entry is ineffective with ``code``."""
    incident["status"] = "CLOSED"
    incident["reason"] = code
    raise Reject(code, detail)


def _settle(st, pact: dict, incident: dict, key: str, day: int, index: int) -> None:
    actor = incident["actor"]
    damages = min(report[0] for report in incident["reports"].values())
    subject = f"incident:{key}"
    retention = min(damages, pact["retention"])
    retained = min(retention, st.acct[actor]["liquid"])
    st.move(actor, "liquid", -retained, index, day, "R12", subject)
    st.move("VICTIM", "liquid", retained, index, day, "R12", subject)
    rest = damages - retention
    joined = pact["joined"]
    share = rest // len(joined)
    paid = {}
    for member in sorted(joined):
        amount = min(share, joined[member])
        joined[member] -= amount
        paid[member] = amount
        st.move(member, "locked", -amount, index, day, "R12", subject)
        st.move("VICTIM", "liquid", amount, index, day, "R12", subject)
    uncovered = (retention - retained) + (rest - sum(paid.values()))
    st.sys["uncovered"] += uncovered
    incident["status"] = "SETTLED"
    incident["settlement"] = {
        "day": day, "damages": damages, "retention": retention, "retained": retained,
        "share": share, "paid": paid, "uncovered": uncovered,
    }
