"""Governance (R2, C4-C7, C10) and key rotation.

A proposal is identified by its canonical content (nonce included).  Each
governor's approval counts once; the approval that brings the count to
GOV_QUORUM (the value in force that day) resolves it: a valid action takes
effect, an invalid one closes the proposal with the action's reason code.
Either way the proposal is closed; later approvals are CLOSED.
"""

from __future__ import annotations

import json

from ledger.canonical import dumps as canonical_dumps
from ledger.rules import coalition, forms, monitors
from ledger.rules.commitments import decide
from ledger.rules.events import CONFLICT, ROTATE_KEY
from ledger.rules.params import apply_changes
from ledger.rules.reasons import (
    CLOSED, DUPLICATE_APPROVAL, KEY_IN_USE, RETROACTIVE, VERSION_GAP, WRONG_ROLE, Reject,
)
from ledger.rules.roles import distinct_signers, governor_signers, require_signer


def proposal_key(proposal: dict) -> str:
    return canonical_dumps(proposal).decode()


def on_approve(st, ev, day: int) -> None:
    proposal = forms.check_proposal(ev.body, st)
    if proposal["action"] == "SET_GOVERNORS":
        approvers = coalition.approvers_of_governor_set(st, ev, proposal)
    else:
        approvers = governor_signers(st, ev)
    key = proposal_key(proposal)
    record = st.proposals.get(key)
    if record is not None and record["status"] != "OPEN":
        raise Reject(CLOSED, f"the proposal is already {record['status']}")
    if record is None:
        record = {"proposal": json.loads(key), "first_index": ev.index, "approvals": {},   # a copy, not the body
                  "status": "OPEN", "closed_index": None, "closed_day": None, "reason": None}
    approvals = record["approvals"]
    new = [name for name in approvers if name not in approvals]
    if not new:
        raise Reject(DUPLICATE_APPROVAL, "every signer already approved this proposal")
    st.proposals[key] = record
    for name in new:
        approvals[name] = ev.index
    if not _ready(st, proposal, approvals, day):
        return
    record["closed_index"] = ev.index
    record["closed_day"] = day
    try:
        _carry_out(st, proposal, day, ev.index)
    except Reject as rejection:
        record["status"] = "CLOSED"
        record["reason"] = rejection.code
        raise
    record["status"] = "ADOPTED"


def _ready(st, proposal: dict, approvals: dict, day: int) -> bool:
    """Quorum reached: GOV_QUORUM approvals by current governors (and, for a new governor set,
    an approval by every newcomer)."""
    if proposal["action"] == "SET_GOVERNORS":
        return coalition.governor_set_ready(st, proposal, approvals, day)
    governors = st.cast["governors"]
    return sum(1 for name in approvals if name in governors) >= st.params(day)["GOV_QUORUM"]


def _carry_out(st, proposal: dict, day: int, index: int) -> None:
    action = proposal["action"]
    if action == "ACCREDIT":
        monitors.accredit(st, proposal["monitor"], day, index)
    elif action == "REVOKE":
        monitors.revoke(st, proposal["monitor"], day, index)
    elif action == "DECIDE":
        decide(st, proposal, day, index)
    elif action == "ADOPT":
        _adopt(st, proposal, day, index)
    elif action == "ROTATE_KEY":  # by governor quorum (a lost key)
        _rotate(st, proposal["name"], proposal["new_key"], index)
    elif action == "ADMIT":
        coalition.admit(st, proposal, day, index)
    elif action == "OMBUD":
        st.ombuds.setdefault(proposal["monitor"], index)
    else:
        coalition.set_governors(st, proposal, day, index)


def _adopt(st, proposal: dict, day: int, index: int) -> None:
    highest = st.versions[-1]
    if proposal["version"] != highest["version"] + 1:
        raise Reject(VERSION_GAP, f"the next version is {highest['version'] + 1}")
    effective = proposal["effective_day"]
    if effective < day or effective <= highest["effective_day"]:
        raise Reject(RETROACTIVE, f"effective day {effective} is before day {day} or not after "
                                  f"version {highest['version']}'s day {highest['effective_day']}")
    st.add_version({
        "version": proposal["version"], "effective_day": effective, "index": index, "day": day,
        "params": apply_changes(highest["params"], proposal["changes"]),
    })


def _rotate(st, name: str, new_key: str, index: int) -> None:
    if new_key in st.keys_used:
        raise Reject(KEY_IN_USE, f"the key was already registered to {st.keys_used[new_key]}")
    st.set_key(name, new_key, index)


def on_rotate_key(st, ev, day: int) -> None:
    """ROTATE_KEY signed by the name's current key: the new key signs from the next entry on."""
    body = ev.body
    forms.check_body(ROTATE_KEY, body, st)
    require_signer(st, ev, body["name"])
    _rotate(st, body["name"], body["new_key"], ev.index)


def on_conflict(st, ev, day: int) -> None:
    """A conflict declaration (m, X), signed by m and/or governors (C10); repeats change nothing."""
    body = ev.body
    forms.check_body(CONFLICT, body, st)
    monitor, actor = body["monitor"], body["actor"]
    for name in distinct_signers(st, ev):
        if name != monitor and st.role[name] != "governor":
            raise Reject(WRONG_ROLE, f"{name} is neither {monitor} nor a governor")
    st.conflicts.setdefault(monitor, {}).setdefault(actor, [ev.index, day])
