"""The canonical derived state as of a day T (D3): what the state digest covers.

``state_view`` turns the engine's working state into the JSON value that
specs/rules-rs1.md, "Canonical state", describes field by field.  It adds the
T-dependent values (levels, stays, access, flags, pact ACTIVE, appeal LAPSED,
ruleset in force) and leaves out bookkeeping that is not a derived fact
(provenance, schedules, key history).  Free-text details of reasons are not in it.
"""

from __future__ import annotations

from ledger.rules.flags import divergence, hugging_metrics, jump_metrics
from ledger.rules.pacts import TERMS, status_on
from ledger.rules.digest import Lazy
from ledger.rules.params import LEVEL_CAP
from ledger.rules.records import canonical_items
from ledger.rules.sanctions import appeal_status, level, stayed
from ledger.rules.whistle import whistle_flag

FORMAT = "pactlog-rules-state/1"


def state_view(st, day: int, *, lazy: bool = False) -> dict:
    """The canonical state as of ``day``. ``lazy``: claims, commitments, pacts and the ineffective
    entries as :class:`~ledger.rules.digest.Lazy` streams (for :func:`streamed_digest`), so that a
    state kept partly on disk is never held whole."""
    if st.rejected is not None:
        return {"format": FORMAT, "rejected": {"index": st.rejected["index"], "reason": st.rejected["code"]}}
    params = st.params(day)
    view = {
        "format": FORMAT,
        "as_of": day,
        "through_index": st.last_index,
        "ruleset": {
            "in_force": st.version_at(day)["version"],
            "versions": [
                {"version": v["version"], "effective_day": v["effective_day"], "adopted_index": v["index"],
                 "adopted_day": v["day"], "params": v["params"]}
                for v in st.versions
            ],
        },
        "cast": st.cast,
        "system": dict(st.sys),
        "actors": {name: actor_view(st, name, day, params) for name in st.cast["actors"]},
        "monitors": {name: monitor_view(st, name, day) for name in st.cast["monitors"]},
        "claims": _members(st.claims, lambda claim: claim_view(claim), lazy),
        "commitments": _members(st.commitments, lambda c: commitment_view(c, day), lazy),
        "pacts": _members(st.pacts, lambda pact: pact_view(pact, day), lazy),
        "incidents": incidents_view(st),
        "proposals": [proposal_view(p) for p in sorted(st.proposals.values(), key=lambda p: p["first_index"])],
        "ineffective": Lazy(st.journal.iter_ineffective(), is_object=False) if lazy else st.journal.ineffective(),
    }
    if st.extensions:        # absent for plain RS-1, so its canonical state is exactly RS-1's
        view["ruleset"]["extensions"] = st.extensions
        if "coalition" in st.extensions:
            view["exited"] = st.exited
        if "whistleblower" in st.extensions:
            view["ombuds"] = st.ombuds
            view["whistles"] = {ident: {k: r[k] for k in ("about", "ombud", "evidence", "reporter", "index", "day",
                                                           "status", "revealed_index")}
                                for ident, r in st.whistles.items()}
        if "evidence" in st.extensions:
            view["evidence"] = {ident: evidence_view(record) for ident, record in st.evidence.items()}
    return view


def _members(records, view, lazy: bool):
    if lazy:
        return Lazy(((key, view(record)) for key, record in canonical_items(records)), is_object=True)
    return {key: view(record) for key, record in records.items()}


def evidence_view(record: dict) -> dict:
    return {
        "actor": record["actor"], "digest": record["digest"], "label": record["label"], "index": record["index"],
        "day": record["day"], "checks": {m: {"index": c[0], "day": c[1]} for m, c in record["checks"].items()},
        "status": ("REVEALED" if record["revealed_index"] is not None
                   else "CONFIRMED" if record["confirmed_index"] is not None else "COMMITTED"),
        "confirmed_index": record["confirmed_index"], "revealed_index": record["revealed_index"],
    }


def actor_view(st, name: str, day: int, params: dict) -> dict:
    balance = st.acct[name]
    holdings = balance["liquid"] + balance["locked"]
    lvl = level(st, name, day)
    fulfilled, breached, voided = st.board.get(name, (0, 0, 0))
    resolved = fulfilled + breached
    return {
        "liquid": balance["liquid"],
        "locked": balance["locked"],
        "retired": balance["retired"],
        "holdings": holdings,
        "fines_outstanding": balance["fines"],
        "level": lvl,
        "suspended": lvl >= LEVEL_CAP,
        "access": lvl <= LEVEL_CAP - 1 and holdings >= params["ACCESS_MIN"],
        "flags": flags_view(st, name, day),
        "leaderboard": {
            "fulfilled": fulfilled, "breached": breached, "voided": voided,
            "kept": 100 * fulfilled // resolved if resolved else None,
        },
    }


def flags_view(st, name: str, day: int) -> dict:
    flags = {"hugging": hugging_metrics(st, name, day), "divergence": divergence(st, name, day)}
    if "capability_jump" in st.extensions:
        flags["capability_jump"] = jump_metrics(st, name, day)
    if "whistleblower" in st.extensions:
        flags["whistle"] = whistle_flag(st, name, day)
    return flags


def monitor_view(st, name: str, day: int) -> dict:
    terms = st.terms.get(name, [])
    return {
        "accredited": any(t[0] <= day <= t[1] for t in terms),
        "terms": [{"start": t[0], "end": t[1], "revoked": t[2], "index": t[3], "revoke_index": t[4]} for t in terms],
        "conflicts": {actor: {"index": c[0], "day": c[1]} for actor, c in st.conflicts.get(name, {}).items()},
    }


def claim_view(claim: dict) -> dict:
    return {
        "actor": claim["actor"], "amount": claim["amount"], "index": claim["index"], "day": claim["day"],
        "status": "PENDING" if claim["issued"] is None else "ISSUED",
        "verifiers": {m: {"amount": v[0], "index": v[1], "day": v[2]} for m, v in claim["verifiers"].items()},
        "issued": claim["issued"],
    }


def commitment_view(c: dict, day: int) -> dict:
    appeal = c["appeal"]
    fine = c["fine"]
    return {
        "actor": c["actor"], "deadline": c["deadline"], "index": c["index"], "day": c["day"], "status": c["status"],
        "resolved_day": c["resolved_day"], "resolved_index": c["resolved_index"],
        "attestations": {verdict: {m: {"index": a[0], "day": a[1]} for m, a in tally.items()}
                         for verdict, tally in c["tally"].items()},
        "fine": None if fine is None else {"amount": fine[0], "paid": fine[1], "unpaid": fine[2]},
        "appeal": None if appeal is None else {
            "filed_day": appeal["filed_day"], "index": appeal["index"], "stay_end": appeal["stay_end"],
            "status": appeal_status(appeal, day), "decided_day": appeal["decided_day"],
            "decided_index": appeal["decided_index"],
        },
        "stayed": c["status"] == "BREACHED" and stayed(c, day),
    }


def pact_view(pact: dict, day: int) -> dict:
    view = {name: pact[name] for name in TERMS}
    view.update({
        "sponsor": pact["sponsor"], "index": pact["index"], "day": pact["day"], "status": status_on(pact, day),
        "escrow": pact["escrow"], "joined": pact["joined"], "trigger_day": pact["trigger_day"],
        "trigger_index": pact["trigger_index"], "active_from": pact["active_from"],
        "failed_day": pact["failed_day"],
    })
    return view


def incidents_view(st) -> dict:
    nested: dict = {}
    for incident in st.incidents.values():
        nested.setdefault(incident["pact"], {}).setdefault(incident["id"], {})[incident["actor"]] = {
            "status": incident["status"],
            "reports": {m: {"damages": r[0], "index": r[1], "day": r[2]} for m, r in incident["reports"].items()},
            "closed_index": incident["closed_index"],
            "reason": incident["reason"],
            "settlement": incident["settlement"],
        }
    return nested


def proposal_view(record: dict) -> dict:
    return {
        "proposal": record["proposal"], "first_index": record["first_index"],
        "approvals": record["approvals"], "status": record["status"],
        "closed_index": record["closed_index"], "closed_day": record["closed_day"], "reason": record["reason"],
    }
