"""Whistleblower reports (extension "whistleblower").

A whistleblower never signs the log.  An ombud — a monitor the governors designated
with an OMBUD proposal, counting as R3 on the report's day — relays the report in a
WHISTLE entry that carries only two SHA-256 commitments: to the evidence and to the
reporter's identity (SHA-256 of "<name>\\n<salt>").  For WHISTLE_WINDOW days the
actor the report is about carries the WHISTLE flag, which (like R11's flags) only
raises the attester quorum k.  A later WHISTLE_REVEAL by the same ombud must match
both commitments; if it shows that the reporter is the actor the report is about,
the report is VOID from then on: a report can never be a fact that counts against
its own submitter.
"""

from __future__ import annotations

import hashlib

from ledger.rules import forms
from ledger.rules.events import WHISTLE, WHISTLE_REVEAL
from ledger.rules.monitors import require_counting
from ledger.rules.reasons import (
    CLOSED, DUPLICATE_ID, REVEAL_MISMATCH, UNKNOWN_SUBJECT, WRONG_ROLE, Reject, malformed,
)
from ledger.rules.roles import monitor_signer


def whistle_flag(st, actor: str, day: int) -> bool:
    """Whether a non-void report about ``actor`` is dated in [day - WHISTLE_WINDOW + 1, day]."""
    window = st.params(day).get("WHISTLE_WINDOW", 0)
    for ident in reversed(st.whistled.get(actor, ())):
        report = st.whistles[ident]
        if report["day"] < day - window + 1:
            return False
        if report["status"] != "VOID":
            return True
    return False


def _sha256(text: str) -> str:
    try:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        raise malformed("text is not valid Unicode") from None


def on_whistle(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(WHISTLE, body, st)
    ombud = monitor_signer(st, ev)
    if ombud not in st.ombuds:
        raise Reject(WRONG_ROLE, f"{ombud} is not an ombud")
    if body["id"] in st.whistles:
        raise Reject(DUPLICATE_ID, f"whistle {body['id']!r} already exists")
    require_counting(st, ombud, body["about"], day)
    st.whistles[body["id"]] = {
        "about": body["about"], "ombud": ombud, "evidence": body["evidence"], "reporter": body["reporter"],
        "index": ev.index, "day": day, "status": "OPEN", "revealed_index": None,
    }
    st.whistled.setdefault(body["about"], []).append(body["id"])


def on_whistle_reveal(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(WHISTLE_REVEAL, body, st)
    signer = monitor_signer(st, ev)
    report = st.whistles.get(body["whistle"])
    if report is None:
        raise Reject(UNKNOWN_SUBJECT, f"no whistle {body['whistle']!r}")
    if signer != report["ombud"]:
        raise Reject(WRONG_ROLE, f"only {report['ombud']} may reveal this report")
    if report["revealed_index"] is not None:
        raise Reject(CLOSED, "the report was already revealed")
    if _sha256(body["content"]) != report["evidence"] or _sha256(f"{body['reporter']}\n{body['salt']}") != report["reporter"]:
        raise Reject(REVEAL_MISMATCH, "the revealed evidence or reporter does not match the commitments")
    report["revealed_index"] = ev.index
    report["status"] = "VOID" if body["reporter"] == report["about"] else "REVEALED"
