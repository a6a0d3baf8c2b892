"""Which derived facts an entry concerns, read from its body as far as it is readable.

Used to file an ineffective entry under the facts whose explanations must list it
as "considered, not counted" (R14).  Tolerates malformed bodies: a field that is
not a string is simply skipped.
"""

from __future__ import annotations

from ledger.canonical import dumps as canonical_dumps
from ledger.rules import events as t

# type -> [(subject kind, body field)]
_BY_FIELD = {
    t.CLAIM: [("claim", "id"), ("account", "actor")],
    t.VERIFY: [("claim", "claim")],
    t.TRANSFER: [("account", "from")],
    t.RETIRE: [("account", "actor")],
    t.COMMIT: [("commitment", "id"), ("account", "actor")],
    t.ATTEST: [("commitment", "commitment")],
    t.APPEAL: [("commitment", "commitment")],
    t.PACT: [("pact", "id"), ("account", "sponsor")],
    t.JOIN: [("pact", "pact"), ("account", "actor")],
    t.WITHDRAW: [("pact", "pact"), ("account", "actor")],
    t.SELF_REPORT: [("flags", "actor")],
    t.AUDIT: [("flags", "actor")],
    t.CONFLICT: [("monitor", "monitor")],
    t.ROTATE_KEY: [("key", "name")],
    t.EVIDENCE: [("evidence", "id")],
    t.EVIDENCE_CHECK: [("evidence", "evidence")],
    t.REVEAL: [("evidence", "evidence")],
    t.WHISTLE: [("flags", "about")],
}


def subjects_of(entry_type: str, body) -> list[str]:
    if not isinstance(body, dict):
        return []
    found = []
    for kind, field in _BY_FIELD.get(entry_type, ()):
        value = body.get(field)
        if isinstance(value, str):
            found.append(f"{kind}:{value}")
    if entry_type == t.INCIDENT:
        parts = [body.get("pact"), body.get("id"), body.get("actor")]
        if all(isinstance(p, str) for p in parts):
            found.append("incident:" + canonical_dumps(parts).decode())
    elif entry_type == t.APPROVE:
        proposal = body.get("proposal")
        try:
            found.append("proposal:" + canonical_dumps(proposal).decode())
        except Exception:  # not canonical-JSON-encodable: no subject to file it under
            pass
        if isinstance(proposal, dict) and isinstance(proposal.get("commitment"), str):
            found.append("commitment:" + proposal["commitment"])
        if isinstance(proposal, dict) and isinstance(proposal.get("monitor"), str):
            found.append("monitor:" + proposal["monitor"])
    return found
