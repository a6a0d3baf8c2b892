"""Confidential evidence (extension "evidence"): hash commitments, checks, reveals.

An actor commits to evidence it does not disclose: EVIDENCE carries only the
SHA-256 of the content and a disclosure label.  Monitors who were shown the
content attest "seen and matches the commitment" (EVIDENCE_CHECK, counted as R3:
the evidence is CONFIRMED at k distinct counting monitors).  A later REVEAL by
the owner discloses the content, which must hash to the commitment.
"""

from __future__ import annotations

import hashlib

from ledger.rules import forms
from ledger.rules.events import EVIDENCE, EVIDENCE_CHECK, REVEAL
from ledger.rules.flags import quorum
from ledger.rules.monitors import require_counting
from ledger.rules.reasons import (
    CLOSED, DUPLICATE_ID, DUPLICATE_MONITOR, REVEAL_MISMATCH, UNKNOWN_SUBJECT, WRONG_ROLE, Reject, malformed,
)
from ledger.rules.roles import actor_signer, monitor_signer, require_signer


def _evidence(st, ident: str) -> dict:
    record = st.evidence.get(ident)
    if record is None:
        raise Reject(UNKNOWN_SUBJECT, f"no evidence {ident!r}")
    return record


def on_evidence(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(EVIDENCE, body, st)
    require_signer(st, ev, body["actor"])
    if body["id"] in st.evidence:
        raise Reject(DUPLICATE_ID, f"evidence {body['id']!r} already exists")
    st.evidence[body["id"]] = {
        "actor": body["actor"], "digest": body["digest"], "label": body["label"], "index": ev.index, "day": day,
        "checks": {}, "confirmed_index": None, "revealed_index": None, "revealed_day": None,
    }


def on_evidence_check(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(EVIDENCE_CHECK, body, st)
    monitor = monitor_signer(st, ev)
    record = _evidence(st, body["evidence"])
    if record["confirmed_index"] is not None:
        raise Reject(CLOSED, "the evidence is already confirmed")
    require_counting(st, monitor, record["actor"], day)
    if monitor in record["checks"]:
        raise Reject(DUPLICATE_MONITOR, f"{monitor} already checked this evidence")
    record["checks"][monitor] = [ev.index, day]
    if len(record["checks"]) >= quorum(st, record["actor"], day):
        record["confirmed_index"] = ev.index


def on_reveal(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(REVEAL, body, st)
    signer = actor_signer(st, ev)
    record = _evidence(st, body["evidence"])
    if signer != record["actor"]:
        raise Reject(WRONG_ROLE, f"only {record['actor']} may reveal this evidence")
    if record["revealed_index"] is not None:
        raise Reject(CLOSED, "the evidence was already revealed")
    try:
        digest = hashlib.sha256(body["content"].encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        raise malformed("content is not valid Unicode") from None
    if digest != record["digest"]:
        raise Reject(REVEAL_MISMATCH, "the content does not hash to the committed digest")
    record["revealed_index"] = ev.index
    record["revealed_day"] = day
