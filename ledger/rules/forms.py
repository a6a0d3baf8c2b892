"""Form checks of entry bodies (the first step of C1): a bad body is MALFORMED.

Each entry type has exactly the fields of its schema (none missing, none extra);
integers are JSON integers (not booleans); names in fields must be declared with
the right role; ids, metric names and nonces are any strings, "" included.
Amount ranges (>= 1) are not form: they are INVALID_AMOUNT, checked after the role.
"""

from __future__ import annotations

import re

from ledger.rules import events as t
from ledger.rules.params import changes_problem, is_int
from ledger.rules.reasons import malformed

STR, INT, NAT, ACTOR, MONITOR, NAME, KEY, VERDICT, PCT, MEMBERS, DIGEST = range(11)

_DIGEST = re.compile("[0-9a-f]{64}")

VERDICTS = ("FULFILLED", "BREACHED")
DECISIONS = ("UPHOLD", "OVERTURN")

# type -> (required fields, optional fields); each field is (name, kind).
SCHEMAS: dict[str, tuple[tuple, tuple]] = {
    t.CONFLICT: ((("monitor", MONITOR), ("actor", ACTOR)), ()),
    t.ROTATE_KEY: ((("name", NAME), ("new_key", KEY)), ()),
    t.CLAIM: ((("actor", ACTOR), ("id", STR), ("amount", INT)), ()),
    t.VERIFY: ((("claim", STR), ("amount", INT)), ()),
    t.TRANSFER: ((("from", ACTOR), ("to", ACTOR), ("amount", INT)), ()),
    t.RETIRE: ((("actor", ACTOR), ("amount", INT)), ()),
    t.COMMIT: ((("actor", ACTOR), ("id", STR), ("deadline", INT)), ()),
    t.ATTEST: ((("commitment", STR), ("verdict", VERDICT)), ()),
    t.APPEAL: ((("commitment", STR),), ()),
    t.PACT: (
        (("sponsor", ACTOR), ("id", STR), ("members", MEMBERS), ("min_count", NAT),
         ("min_weight_pct", PCT), ("stake", NAT), ("bonus", NAT), ("open_until", INT), ("delay", NAT)),
        (("retention", NAT),),
    ),
    t.JOIN: ((("pact", STR), ("actor", ACTOR)), ()),
    t.WITHDRAW: ((("pact", STR), ("actor", ACTOR)), ()),
    t.SELF_REPORT: ((("actor", ACTOR), ("metric", STR), ("value", NAT)), ()),
    t.AUDIT: ((("actor", ACTOR), ("metric", STR), ("value", NAT)), ()),
    t.INCIDENT: ((("pact", STR), ("id", STR), ("actor", ACTOR), ("damages", INT)), ()),
    # Seed mechanisms beyond RS-1 (recognised only when the genesis declares their extension).
    t.EVIDENCE: ((("actor", ACTOR), ("id", STR), ("digest", DIGEST), ("label", STR)), ()),
    t.EVIDENCE_CHECK: ((("evidence", STR),), ()),
    t.REVEAL: ((("evidence", STR), ("content", STR)), ()),
    t.EXIT: ((("name", NAME),), ()),
    t.WHISTLE: ((("id", STR), ("about", ACTOR), ("evidence", DIGEST), ("reporter", DIGEST)), ()),
    t.WHISTLE_REVEAL: ((("whistle", STR), ("reporter", NAME), ("salt", STR), ("content", STR)), ()),
}

PROPOSAL_SCHEMAS: dict[str, tuple] = {
    "ACCREDIT": (("monitor", MONITOR),),
    "REVOKE": (("monitor", MONITOR),),
    "DECIDE": (("commitment", STR), ("decision", STR)),
    "ADOPT": (("version", INT), ("effective_day", INT), ("changes", STR)),
    "ROTATE_KEY": (("name", NAME), ("new_key", KEY)),
}

EXTENSION_ACTIONS = {
    "ADMIT": ("coalition", (("role", STR), ("name", STR), ("key", KEY))),
    "SET_GOVERNORS": ("coalition", (("governors", STR),)),
    "OMBUD": ("whistleblower", (("monitor", MONITOR),)),
}


def check_body(entry_type: str, body, st) -> None:
    """Raise Reject(MALFORMED) unless ``body`` fits ``entry_type``'s schema (not APPROVE/GENESIS)."""
    required, optional = SCHEMAS[entry_type]
    _check_fields(body, required, optional, "body")
    for name, kind in required:
        _check_value(body[name], kind, name, st)
    for name, kind in optional:
        if name in body:
            _check_value(body[name], kind, name, st)


def _check_fields(obj, required, optional, where: str) -> None:
    if not isinstance(obj, dict):
        raise malformed(f"{where} must be an object")
    present = 0
    for name, _ in required:
        if name not in obj:
            raise malformed(f"{where} lacks the field {name!r}")
        present += 1
    for name, _ in optional:
        present += name in obj
    if present != len(obj):
        allowed = {name for name, _ in required} | {name for name, _ in optional}
        extra = sorted(set(obj) - allowed)
        raise malformed(f"{where} has the unknown field {extra[0]!r}")


def _check_value(value, kind: int, name: str, st) -> None:
    if kind == STR:
        ok = isinstance(value, str)
    elif kind == INT:
        ok = is_int(value)
    elif kind == NAT:
        ok = is_int(value) and value >= 0
    elif kind == ACTOR:
        ok = isinstance(value, str) and st.is_actor(value)
    elif kind == MONITOR:
        ok = isinstance(value, str) and st.is_monitor(value)
    elif kind == NAME:
        ok = isinstance(value, str) and value in st.role
    elif kind == KEY:
        ok = isinstance(value, str) and value != ""
    elif kind == VERDICT:
        ok = value in VERDICTS
    elif kind == DIGEST:
        ok = isinstance(value, str) and _DIGEST.fullmatch(value) is not None
    elif kind == PCT:
        ok = is_int(value) and 0 <= value <= 100
    else:  # MEMBERS: a non-empty map of declared actors to weights >= 1 (C18)
        ok = (isinstance(value, dict) and bool(value)
              and all(st.is_actor(m) and is_int(w) and w >= 1 for m, w in value.items()))
    if not ok:
        raise malformed(f"field {name!r} is not {_KIND_TEXT[kind]}: {value!r}"[:200])


_KIND_TEXT = {
    STR: "a string", INT: "an integer", NAT: "an integer >= 0", ACTOR: "a declared actor",
    MONITOR: "a declared monitor", NAME: "a name of the cast", KEY: "a non-empty key string",
    VERDICT: "FULFILLED or BREACHED", PCT: "an integer 0..100",
    MEMBERS: "a non-empty map of declared actors to integer weights >= 1",
    DIGEST: "64 lowercase hex digits (a SHA-256)",
}


def check_proposal(body, st) -> dict:
    """Form of an APPROVE body {"proposal": {...}} (C6); returns the proposal."""
    _check_fields(body, (("proposal", None),), (), "body")
    proposal = body["proposal"]
    if not isinstance(proposal, dict):
        raise malformed("proposal must be an object")
    action = proposal.get("action")
    extension, fields = EXTENSION_ACTIONS.get(action, (None, None)) if isinstance(action, str) else (None, None)
    if extension is None or extension not in st.extensions:
        if not isinstance(action, str) or action not in PROPOSAL_SCHEMAS:
            raise malformed(f"unknown proposal action {action!r}"[:200])
        fields = PROPOSAL_SCHEMAS[action]
    _check_fields(proposal, (("action", None),) + fields, (("nonce", None),), "proposal")
    if "nonce" in proposal and not isinstance(proposal["nonce"], str):
        raise malformed("nonce must be a string")
    if action == "DECIDE":
        if not isinstance(proposal["commitment"], str):
            raise malformed("commitment must be a string")
        if proposal["decision"] not in DECISIONS:
            raise malformed(f"decision must be UPHOLD or OVERTURN, not {proposal['decision']!r}"[:200])
    elif extension == "coalition":
        from ledger.rules.coalition import check_proposal_terms

        check_proposal_terms(proposal, st)
    elif action == "ADOPT":
        if not is_int(proposal["version"]) or proposal["version"] < 1:
            raise malformed("version must be an integer >= 1")
        if not is_int(proposal["effective_day"]) or proposal["effective_day"] < 0:
            raise malformed("effective_day must be an integer >= 0")
        problem = changes_problem(proposal["changes"], len(st.cast["governors"]), st.extensions)
        if problem:
            raise malformed(problem)
    else:
        for name, kind in fields:
            _check_value(proposal[name], kind, name, st)
    return proposal
