"""Safety credits (R4, C12): claims verified by monitors, transfers and retirements.

A claim is issued at the VERIFY that brings its distinct counting verifiers to k:
N = min(claimed, every counting verifier's amount), B = floor(N * BUFFER_PCT / 100)
goes to BUFFER and N - B to the claimant's liquid credits.
"""

from __future__ import annotations

from ledger.rules import forms
from ledger.rules.events import CLAIM, RETIRE, TRANSFER, VERIFY
from ledger.rules.flags import quorum
from ledger.rules.monitors import require_counting
from ledger.rules.reasons import (
    CLOSED, DUPLICATE_ID, DUPLICATE_MONITOR, INSUFFICIENT_FUNDS, INVALID_AMOUNT, SUSPENDED,
    UNKNOWN_SUBJECT, Reject,
)
from ledger.rules.roles import monitor_signer, require_signer
from ledger.rules.sanctions import suspended


def require_amount(amount: int, field: str = "amount") -> None:
    if amount < 1:
        raise Reject(INVALID_AMOUNT, f"{field} must be >= 1, not {amount}")


def on_claim(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(CLAIM, body, st)
    actor, claim_id, amount = body["actor"], body["id"], body["amount"]
    require_signer(st, ev, actor)
    require_amount(amount)
    if claim_id in st.claims:
        raise Reject(DUPLICATE_ID, f"claim {claim_id!r} already exists")
    st.claims[claim_id] = {
        "actor": actor, "amount": amount, "index": ev.index, "day": day,
        "verifiers": {}, "issued": None,
    }


def on_verify(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(VERIFY, body, st)
    monitor = monitor_signer(st, ev)
    require_amount(body["amount"])
    claim = st.claims.get(body["claim"])
    if claim is None:
        raise Reject(UNKNOWN_SUBJECT, f"no claim {body['claim']!r}")
    if claim["issued"] is not None:
        raise Reject(CLOSED, "the claim was already issued")
    actor = claim["actor"]
    require_counting(st, monitor, actor, day)
    verifiers = claim["verifiers"]
    if monitor in verifiers:
        raise Reject(DUPLICATE_MONITOR, f"{monitor} already verified this claim")
    verifiers[monitor] = [body["amount"], ev.index, day]
    if len(verifiers) >= quorum(st, actor, day):
        _issue(st, claim, body["claim"], ev.index, day)


def _issue(st, claim: dict, claim_id: str, index: int, day: int) -> None:
    amount = min([claim["amount"]] + [v[0] for v in claim["verifiers"].values()])
    buffer = amount * st.params(day)["BUFFER_PCT"] // 100
    claim["issued"] = {"index": index, "day": day, "amount": amount, "buffer": buffer,
                       "version": st.version_at(day)["version"]}
    st.sys["issued"] += amount
    subject = f"claim:{claim_id}"
    st.move(claim["actor"], "liquid", amount - buffer, index, day, "R4", subject)
    st.move("BUFFER", "liquid", buffer, index, day, "R4", subject)


def on_transfer(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(TRANSFER, body, st)
    sender, recipient, amount = body["from"], body["to"], body["amount"]
    require_signer(st, ev, sender)
    require_amount(amount)
    if suspended(st, sender, day):
        raise Reject(SUSPENDED, f"{sender} is suspended on day {day}")
    if st.acct[sender]["liquid"] < amount:
        raise Reject(INSUFFICIENT_FUNDS, f"{sender} has {st.acct[sender]['liquid']} liquid, needs {amount}")
    if sender != recipient:
        subject = f"transfer:{sender}->{recipient}"
        st.move(sender, "liquid", -amount, ev.index, day, "R4", subject)
        st.move(recipient, "liquid", amount, ev.index, day, "R4", subject)


def on_retire(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(RETIRE, body, st)
    actor, amount = body["actor"], body["amount"]
    require_signer(st, ev, actor)
    require_amount(amount)
    if st.acct[actor]["liquid"] < amount:
        raise Reject(INSUFFICIENT_FUNDS, f"{actor} has {st.acct[actor]['liquid']} liquid, needs {amount}")
    st.move(actor, "liquid", -amount, ev.index, day, "R4", "retire")
    st.move(actor, "retired", amount, ev.index, day, "R4", "retire")
