"""Random coalition logs for property tests: mostly plausible entries, with invalid ones mixed in.

A light model of the log (ids created so far, each name's current key) makes most
entries refer to existing subjects and be signed by the right key, while small
name and id pools make duplicates, unknown subjects, closed subjects, wrong roles
and bad amounts occur naturally.
"""

from __future__ import annotations

import hashlib

from hypothesis import strategies as st

from ledger.rules import Event

from .builder import EPOCH, NOON, fake_vkey

GOVERNORS = ("G1", "G2", "G3")
ACTORS = ("A", "B", "C", "D")
MONITORS = ("M1", "M2", "M3", "M4")
IDS = ("x0", "x1", "x2", "x3", "x4", "x5")
PARAM_CHANGES = (
    {}, {"BUFFER_PCT": 25}, {"K_ATTEST": 1}, {"K_ATTEST": 3}, {"SANCTION_WINDOW": 20},
    {"FINE_PER_LEVEL": 3}, {"APPEAL_FILING_DAYS": 2}, {"APPEAL_DECISION_DAYS": 3}, {"ACCESS_MIN": 10},
    {"HUGGING_OF": 2, "HUGGING_MIN": 1}, {"DIVERGENCE_WINDOW": 5, "DIVERGENCE_MIN": 1},
    {"ACCREDITATION_TERM": 15}, {"GOV_QUORUM": 1}, {"METRICS": {"m2": {"theta": 10, "band": 2}}},
    {"BUFFER_PCT": 101}, {"JUMP_PCT": 20, "WHISTLE_WINDOW": 5},
)
TYPES = ("APPROVE", "CONFLICT", "CLAIM", "VERIFY", "TRANSFER", "RETIRE", "COMMIT", "ATTEST", "APPEAL", "PACT",
         "JOIN", "WITHDRAW", "SELF_REPORT", "AUDIT", "INCIDENT", "ROTATE_KEY", "BOGUS",
         "EVIDENCE", "EVIDENCE_CHECK", "REVEAL", "EXIT", "WHISTLE", "WHISTLE_REVEAL")
WEIGHTS = (5, 1, 6, 10, 4, 2, 6, 10, 3, 3, 8, 2, 5, 3, 8, 1, 1,
           2, 2, 2, 1, 2, 2)
EXTENSIONS = ["capability_jump", "coalition", "evidence", "metric_sunset", "whistleblower"]
CONTENTS = ("memo", "report", "")
WEIGHTED_TYPES = tuple(t for t, w in zip(TYPES, WEIGHTS) for _ in range(w))
DAY_STEPS = (0,) * 24 + (1, 1, 1, 1, 2, 5, 13, 30)
NAMESPACE = {"CLAIM": "claim", "VERIFY": "claim", "COMMIT": "commitment", "ATTEST": "commitment",
             "APPEAL": "commitment", "PACT": "pact", "JOIN": "pact", "WITHDRAW": "pact", "INCIDENT": "pact"}


@st.composite
def coalition(draw):
    governors = GOVERNORS[: draw(st.integers(1, 3))]
    actors = ACTORS[: draw(st.integers(1, 4))]
    monitors = MONITORS[: draw(st.sampled_from((0, 2, 3, 4, 4)))]
    changes = draw(st.sampled_from(({}, {}, {"K_ATTEST": 1}, {"FINE_PER_LEVEL": 4, "SANCTION_WINDOW": 30})))
    if len(governors) < 2:
        changes = {**changes, "GOV_QUORUM": 1}
    extensions = draw(st.sampled_from((None, None, EXTENSIONS)))
    return governors, actors, monitors, changes, extensions


class Model:
    """What the generator remembers: created ids per namespace and every name's current key."""

    def __init__(self, governors, actors, monitors):
        self.governors, self.actors, self.monitors = governors, actors, monitors
        self.cast = (*governors, *actors, *monitors)
        self.keys = {name: fake_vkey(name) for name in self.cast}
        self.used = set(self.keys.values())
        self.keys["G9"] = fake_vkey("G9")          # a would-be governor (extension "coalition")
        self.known = {"claim": [], "commitment": [], "pact": []}
        self.day = 0

    def ident(self, draw, namespace: str) -> str:
        known = self.known[namespace]
        if known and draw(st.integers(0, 9)) < 8:
            return draw(st.sampled_from(known))
        return draw(st.sampled_from(IDS))


@st.composite
def coalition_log(draw, max_entries: int = 60):
    governors, actors, monitors, changes, extensions = draw(coalition())
    model = Model(governors, actors, monitors)
    keys = model.keys
    body = {"epoch": EPOCH, "governors": {g: keys[g] for g in governors}, "actors": {a: keys[a] for a in actors},
            "monitors": {m: keys[m] for m in monitors},
            "ruleset": {"version": 1, "effective_day": 0, "changes": changes}}
    if extensions:
        body["ruleset"]["extensions"] = extensions
    events = [Event(0, EPOCH, "GENESIS", (keys[governors[0]],), body)]
    if monitors and draw(st.integers(0, 4)) > 0:
        for m in monitors:
            events.append(Event(len(events), EPOCH + NOON, "APPROVE", tuple(keys[g] for g in governors[:2]),
                                {"proposal": {"action": "ACCREDIT", "monitor": m}}))
        if extensions:
            events.append(Event(len(events), EPOCH + NOON, "APPROVE", tuple(keys[g] for g in governors[:2]),
                                {"proposal": {"action": "OMBUD", "monitor": monitors[0]}}))
    if monitors and draw(st.booleans()):
        events.extend(prelude(draw, model, len(events)))
    for _ in range(draw(st.integers(0, max_entries))):
        model.day += draw(st.sampled_from(DAY_STEPS))
        type_ = draw(st.sampled_from(WEIGHTED_TYPES))
        signers, entry_body = entry(draw, model, type_)
        if type_ in ("CLAIM", "COMMIT", "PACT") and isinstance(entry_body.get("id"), str):
            model.known[NAMESPACE[type_]].append(entry_body["id"])
        vkeys = tuple(keys.get(s, s) for s in signers)
        events.append(Event(len(events), EPOCH + model.day * 86_400 + NOON, type_, vkeys, entry_body))
        if type_ == "ROTATE_KEY" and entry_body["new_key"] not in model.used:
            model.used.add(entry_body["new_key"])          # signed by the current key: it takes effect
            keys[entry_body["name"]] = entry_body["new_key"]
    return events


def prelude(draw, model: Model, start: int) -> list[Event]:
    """Fund every actor (a claim verified by every monitor) and open one pact among all actors,
    so that joins, triggers, failures and liability settlements are common."""
    out = []

    def add(type_, signer, body):
        out.append(Event(start + len(out), EPOCH + NOON, type_, (model.keys[signer],), body))

    for actor in model.actors:
        add("CLAIM", actor, {"actor": actor, "id": f"f-{actor}", "amount": 200})
        for m in model.monitors:
            add("VERIFY", m, {"claim": f"f-{actor}", "amount": draw(st.sampled_from((100, 150, 200)))})
    sponsor = model.actors[0]
    add("PACT", sponsor, {
        "sponsor": sponsor, "id": "x0", "members": {a: draw(st.integers(1, 3)) for a in model.actors},
        "min_count": draw(st.integers(0, len(model.actors))), "min_weight_pct": draw(st.sampled_from((0, 30, 60, 100))),
        "stake": draw(st.sampled_from((10, 30, 60))), "bonus": draw(st.integers(0, 2)),
        "open_until": draw(st.integers(2, 30)), "delay": draw(st.integers(0, 3)), "retention": draw(st.integers(0, 20)),
    })
    model.known["pact"].append("x0")
    return out


def entry(draw, model: Model, type_: str):
    """(signer names, body) of one random entry of ``type_``."""
    actors, monitors, day = model.actors, model.monitors, model.day
    actor = st.sampled_from(actors * 12 + ("Z",))          # an undeclared name now and then
    name = st.sampled_from(model.cast)
    small = st.integers(-1, 60)
    monitor = st.sampled_from(monitors) if monitors else st.sampled_from(actors)
    metric = st.sampled_from(("bio_uplift", "bio_uplift", "bio_uplift", "m2"))
    role_ok = draw(st.integers(0, 14)) > 0
    if type_ == "APPROVE":
        signers = tuple(draw(st.lists(st.sampled_from(model.governors * 4 + ("G9",)), min_size=1, max_size=2)))
        return (signers if role_ok else (draw(name),)), {"proposal": proposal(draw, model)}
    if type_ == "CONFLICT":
        m = draw(monitor)
        return (m if role_ok else draw(name),), {"monitor": m, "actor": draw(actor)}
    if type_ == "ROTATE_KEY":
        who = draw(name)
        return (who,), {"name": who, "new_key": fake_vkey(who, draw(st.integers(0, 3)))}
    if type_ in ("VERIFY", "ATTEST", "AUDIT", "INCIDENT"):
        signer = draw(monitor) if role_ok else draw(name)
        if type_ == "VERIFY":
            return (signer,), {"claim": model.ident(draw, "claim"), "amount": draw(st.integers(-1, 150))}
        if type_ == "ATTEST":
            verdict = draw(st.sampled_from(("FULFILLED", "BREACHED")))
            return (signer,), {"commitment": model.ident(draw, "commitment"), "verdict": verdict}
        if type_ == "AUDIT":
            return (signer,), {"actor": draw(actor), "metric": draw(metric), "value": draw(st.sampled_from((0, 8, 40, 48, 55, 70, -1)))}
        return (signer,), {"pact": model.ident(draw, "pact"), "id": draw(st.sampled_from(("i0", "i1"))),
                           "actor": draw(actor), "damages": draw(small)}
    if type_ == "BOGUS":
        return (draw(name),), {"anything": draw(small)}
    if type_ in ("EVIDENCE", "REVEAL"):
        who = draw(actor)
        digest = hashlib.sha256(draw(st.sampled_from(CONTENTS)).encode()).hexdigest()
        if type_ == "EVIDENCE":
            return (who,), {"actor": who, "id": draw(st.sampled_from(IDS)), "digest": digest, "label": "confidential"}
        return (who,), {"evidence": draw(st.sampled_from(IDS)), "content": draw(st.sampled_from(CONTENTS))}
    if type_ == "EVIDENCE_CHECK":
        return (draw(monitor),), {"evidence": draw(st.sampled_from(IDS))}
    if type_ == "EXIT":
        who = draw(name)
        return (who,), {"name": who}
    if type_ in ("WHISTLE", "WHISTLE_REVEAL"):
        reporter = draw(actor)
        content = draw(st.sampled_from(CONTENTS))
        if type_ == "WHISTLE":
            return (draw(monitor),), {"id": draw(st.sampled_from(("w0", "w1"))), "about": draw(actor),
                                      "evidence": hashlib.sha256(content.encode()).hexdigest(),
                                      "reporter": hashlib.sha256(f"{reporter}\ns".encode()).hexdigest()}
        return (draw(monitor),), {"whistle": draw(st.sampled_from(("w0", "w1"))), "reporter": reporter, "salt": "s",
                                  "content": content}
    who = draw(actor)
    signer = who if role_ok else draw(name)
    if type_ == "CLAIM":
        body = {"actor": who, "id": draw(st.sampled_from(IDS)), "amount": draw(st.integers(-1, 200))}
    elif type_ == "TRANSFER":
        body = {"from": who, "to": draw(actor), "amount": draw(small)}
    elif type_ == "RETIRE":
        body = {"actor": who, "amount": draw(small)}
    elif type_ == "COMMIT":
        body = {"actor": who, "id": draw(st.sampled_from(IDS)), "deadline": day + draw(st.integers(-1, 30))}
    elif type_ == "APPEAL":
        body = {"commitment": model.ident(draw, "commitment")}
    elif type_ == "PACT":
        members = draw(st.dictionaries(st.sampled_from(actors), st.sampled_from((1,) * 8 + (2, 3, 0)), min_size=1))
        body = {"sponsor": who, "id": draw(st.sampled_from(IDS)), "members": members,
                "min_count": draw(st.integers(0, 3)), "min_weight_pct": draw(st.integers(0, 100)),
                "stake": draw(st.sampled_from((0, 0, 5, 10, 30))), "bonus": draw(st.sampled_from((0, 0, 0, 1, 2, 5))),
                "open_until": day + draw(st.integers(-1, 30)), "delay": draw(st.integers(0, 4))}
        if draw(st.booleans()):
            body["retention"] = draw(st.integers(0, 20))
    elif type_ in ("JOIN", "WITHDRAW"):
        body = {"pact": model.ident(draw, "pact"), "actor": who}
    else:  # SELF_REPORT
        body = {"actor": who, "metric": draw(metric), "value": draw(st.sampled_from((47, 48, 49, 48, 50, 9, 30, 60, -1)))}
    return (signer,), body


def proposal(draw, model: Model) -> dict:
    kind = draw(st.sampled_from(("ACCREDIT", "ACCREDIT", "REVOKE", "DECIDE", "DECIDE", "ADOPT", "ADMIT", "OMBUD",
                                 "SET_GOVERNORS")))
    if kind == "ADMIT":
        name = draw(st.sampled_from(("E", "F", "A")))
        p = {"action": kind, "role": draw(st.sampled_from(("actor", "monitor"))), "name": name, "key": fake_vkey(name)}
    elif kind == "OMBUD":
        p = {"action": kind, "monitor": draw(st.sampled_from(model.monitors or ("A",)))}
    elif kind == "SET_GOVERNORS":
        kept = draw(st.lists(st.sampled_from(model.governors), min_size=1, unique=True))
        p = {"action": kind, "governors": {g: model.keys[g] for g in kept}}
        if draw(st.booleans()):
            p["governors"]["G9"] = fake_vkey("G9")
    elif kind in ("ACCREDIT", "REVOKE"):
        p = {"action": kind, "monitor": draw(st.sampled_from(model.monitors or ("A",)))}
    elif kind == "DECIDE":
        p = {"action": kind, "commitment": model.ident(draw, "commitment"),
             "decision": draw(st.sampled_from(("UPHOLD", "OVERTURN")))}
    else:
        p = {"action": kind, "version": draw(st.integers(1, 4)),
             "effective_day": model.day + draw(st.integers(-1, 20)), "changes": draw(st.sampled_from(PARAM_CHANGES))}
    nonce = draw(st.sampled_from((None, None, "", "n1", "n2")))
    if nonce is not None:
        p["nonce"] = nonce
    return p
