"""The worked examples behind specs/vectors/rules/*.json, with their hand-derived expectations.

``cd tests && python -m rules.vectors`` (after review) rewrites the
JSON files; test_vectors.py checks that the files, this module and the engine agree.
Every expected number below is derived by hand in the comments, not read off the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

from .builder import Log, fake_vkey

VECTOR_DIR = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "rules"


def credits_fines_appeal():
    log = Log()
    log.accredit(0, "M1", "M2")                                  # 1, 2
    log.claim(1, "A", "k1", 105)                                 # 3
    log.verify(1, "M1", "k1", 103)                               # 4
    log.verify(1, "M2", "k1", 99)                                # 5: N = 99, B = floor(9.9) = 9, A 90
    log.commit(1, "A", "c1", 3)                                  # 6
    log.commit(1, "A", "c2", 3)                                  # 7
    log.transfer(2, "A", "B", 100)                               # 8: INSUFFICIENT_FUNDS (90 < 100)
    # start of day 4: c1 default, L 1, fine 10 (A 80); c2 default, L 2, fine 20 (A 60); BUFFER 39
    log.appeal(4, "A", "c2")                                     # 9: stayed on days 4..34
    log.decide(5, "c2", "OVERTURN", governors="G1")              # 10
    log.decide(5, "c2", "OVERTURN", governors="G2")              # 11: VOIDED, refund 20: A 80, BUFFER 19
    log.appeal(18, "A", "c1")                                    # 12: E + 14 = 18: valid, stayed 18..48
    log.appeal(19, "A", "c2")                                    # 13: VOIDED: NOT_BREACHED
    expect = [
        (4, {"actors/A/liquid": 60, "actors/A/level": 1, "commitments/c2/stayed": True,
             "commitments/c1/fine": {"amount": 10, "paid": 10, "unpaid": 0}, "system/BUFFER": 39}),
        (5, {"actors/A/liquid": 80, "actors/A/level": 1, "commitments/c2/status": "VOIDED", "system/BUFFER": 19,
             "actors/A/leaderboard": {"fulfilled": 0, "breached": 1, "voided": 1, "kept": 0}}),
        (18, {"actors/A/level": 0, "commitments/c1/appeal/status": "PENDING"}),
        (49, {"actors/A/level": 1, "commitments/c1/appeal/status": "LAPSED", "actors/A/access": True}),
        (184, {"actors/A/level": 0}),
    ]
    return log, expect, {8: "INSUFFICIENT_FUNDS", 13: "NOT_BREACHED"}


def pact_liability():
    log = Log()
    log.accredit(0, "M1", "M2", "M3")                            # 1..3
    for actor in "ABC":
        log.fund(1, actor, 100, cid=f"k-{actor}")               # 4..12: 90 each, BUFFER 30
    log.pact(1, "A", "p", {"A": 2, "B": 1, "C": 1}, 2, 75, 30, 2, 10, delay=2, retention=10)   # 13: escrow 6, A 84
    log.join(2, "B", "p")                                        # 14
    log.join(2, "C", "p")                                        # 15: count 2 but weight 2/4 = 50 % < 75 %
    log.join(3, "A", "p")                                        # 16: TRIGGERED day 3, escrow back: A 60; ACTIVE from 5
    log.incident(4, "M1", "p", "i1", "B", 50)                    # 17
    log.incident(4, "M2", "p", "i1", "B", 50)                    # 18: PACT_NOT_ACTIVE, closed
    log.incident(5, "M3", "p", "i1", "B", 50)                    # 19: CLOSED
    log.incident(6, "M1", "p", "i2", "C", 80)                    # 20
    log.incident(6, "M2", "p", "i2", "C", 70)                    # 21: E 70, r 10 (C 50), s 20 each: locked 10
    log.incident(7, "M1", "p", "i3", "A", 100)                   # 22
    log.incident(7, "M2", "p", "i3", "A", 100)                   # 23: r 10 (A 50), s 30 capped at 10: uncovered 60
    log.withdraw(8, "B", "p")                                    # 24: PACT_BINDING
    expect = [
        (2, {"pacts/p/status": "OPEN", "actors/A/liquid": 84, "system/escrow": 6}),
        (3, {"pacts/p/status": "TRIGGERED", "pacts/p/active_from": 5, "actors/A/liquid": 60, "system/escrow": 0}),
        (6, {"pacts/p/status": "ACTIVE", "pacts/p/joined": {"A": 10, "B": 10, "C": 10}, "actors/C/liquid": 50,
             "system/VICTIM": 70}),
        (8, {"actors/A/liquid": 50, "actors/A/locked": 0, "actors/B/liquid": 60, "actors/C/liquid": 50,
             "system/VICTIM": 110, "system/uncovered": 60, "system/BUFFER": 30, "system/issued": 300,
             "incidents/p/i3/A/settlement": {"day": 7, "damages": 100, "retention": 10, "retained": 10, "share": 30,
                                              "paid": {"A": 10, "B": 10, "C": 10}, "uncovered": 60}}),
    ]
    return log, expect, {18: "PACT_NOT_ACTIVE", 19: "CLOSED", 24: "PACT_BINDING"}


def governance_flags():
    log = Log()
    log.approve(0, "G1", action="ADOPT", version=2, effective_day=10, changes={"K_ATTEST": 1, "ACCESS_MIN": 20})  # 1
    log.approve(0, "G2", action="ADOPT", version=2, effective_day=10, changes={"K_ATTEST": 1, "ACCESS_MIN": 20})  # 2
    log.accredit(0, "M1", "M2", "M3")                            # 3..5
    for value in (48, 49, 47, 12):
        log.self_report(1, "A", value)                           # 6..9: 3 of the last 4 in 47..49: HUGGING
    log.claim(2, "A", "k1", 60)                                  # 10
    log.verify(2, "M1", "k1", 60)                                # 11
    log.verify(2, "M2", "k1", 55)                                # 12: k = 3 (A flagged): pending
    log.verify(2, "M3", "k1", 58)                                # 13: N 55, B 5: A 50
    log.self_report(3, "B", 60)                                  # 14
    log.audit(3, "M1", "B", 50)                                  # 15: 1000 > 500: divergent
    log.claim(10, "B", "k2", 40)                                 # 16
    log.verify(10, "M1", "k2", 40)                               # 17: v2: K_ATTEST 1: B 36
    log.audit(50, "M2", "B", 45)                                 # 18: 1500 > 450: divergent
    log.approve(50, "G3", action="ADOPT", version=2, effective_day=10, changes={"K_ATTEST": 1, "ACCESS_MIN": 20})  # 19
    log.approve(50, "G1", action="ADOPT", version=4, effective_day=60, changes={})                 # 20
    log.approve(50, "G2", action="ADOPT", version=4, effective_day=60, changes={})                 # 21: VERSION_GAP
    expect = [
        (1, {"actors/A/flags": {"hugging": ["bio_uplift"], "divergence": False}}),
        (2, {"claims/k1/issued": {"index": 13, "day": 2, "amount": 55, "buffer": 5, "version": 1},
             "actors/A/access": True}),
        (9, {"ruleset/in_force": 1, "actors/B/access": False}),
        (10, {"ruleset/in_force": 2, "actors/B/liquid": 36, "actors/B/access": True}),
        (50, {"actors/B/flags": {"hugging": [], "divergence": True}}),
        (92, {"actors/B/flags": {"hugging": [], "divergence": True}}),
        (93, {"actors/B/flags": {"hugging": [], "divergence": False}}),
    ]
    return log, expect, {19: "CLOSED", 21: "VERSION_GAP"}


def monitors_terms():
    log = Log()
    log.accredit(0, "M1", "M2")                                  # 1, 2: terms 0..364
    log.conflict(1, "M2", "A", signers=("G3",))                  # 3
    log.commit(1, "A", "c1", 400)                                # 4
    log.attest(364, "M1", "c1", "FULFILLED")                     # 5: counts (last day of the term)
    log.attest(364, "M2", "c1", "FULFILLED")                     # 6: CONFLICT
    log.attest(365, "M3", "c1", "FULFILLED")                     # 7: NOT_ACCREDITED
    log.attest(365, "M1", "c1", "BREACHED")                      # 8: EXPIRED
    log.accredit(365, "M1", nonce="renew")                       # 9: term 365..729
    log.revoke(365, "M1")                                        # 10: cut to 365..364, revoked
    log.attest(365, "M1", "c1", "BREACHED")                      # 11: REVOKED
    # start of day 401: c1 still OPEN: BREACHED, L 1, fine 10, all outstanding (A holds nothing)
    expect = [
        (364, {"monitors/M1/accredited": True, "commitments/c1/status": "OPEN"}),
        (365, {"monitors/M1/accredited": False,
               "monitors/M1/terms": [{"start": 0, "end": 364, "revoked": False, "index": 1, "revoke_index": None},
                                     {"start": 365, "end": 364, "revoked": True, "index": 9, "revoke_index": 10}]}),
        (401, {"commitments/c1/status": "BREACHED", "commitments/c1/resolved_day": 401, "actors/A/level": 1,
               "actors/A/fines_outstanding": 10}),
    ]
    return log, expect, {6: ("MONITOR_NOT_COUNTING", "CONFLICT"), 7: ("MONITOR_NOT_COUNTING", "NOT_ACCREDITED"),
                         8: ("MONITOR_NOT_COUNTING", "EXPIRED"), 11: ("MONITOR_NOT_COUNTING", "REVOKED")}


def keys_and_mornings():
    log = Log()
    log.accredit(0, "M1", "M2")                                  # 1, 2
    new_a = fake_vkey("A", 1)
    log.add(1, "ROTATE_KEY", "A", {"name": "A", "new_key": new_a})                     # 3
    log.claim(1, "A", "k1", 20)                                  # 4: the old key: WRONG_ROLE
    log.add(1, "CLAIM", new_a, {"actor": "A", "id": "k1", "amount": 20})               # 5
    log.verify(1, "M1", "k1", 20)                                # 6
    log.verify(1, "M2", "k1", 20)                                # 7: A 18, BUFFER 2
    log.add(1, "PACT", new_a, {"sponsor": "A", "id": "p", "members": {"A": 1, "B": 1}, "min_count": 2,
                               "min_weight_pct": 0, "stake": 10, "bonus": 1, "open_until": 3, "delay": 0})  # 8: A 16
    log.add(1, "JOIN", new_a, {"pact": "p", "actor": "A"})                             # 9: A 6 + 10 locked
    log.add(1, "COMMIT", new_a, {"actor": "A", "id": "c1", "deadline": 3})             # 10
    # start of day 4: first the default (fine 10: 6 paid, 4 outstanding), then the pact failure
    # (stake 10 back, bonus 1, the remaining escrow 1 to the sponsor A): A 12.
    new_m2 = fake_vkey("M2", 1)
    log.approve(4, "G1", action="ROTATE_KEY", name="M2", new_key=new_m2)               # 11
    log.approve(4, "G3", action="ROTATE_KEY", name="M2", new_key=new_m2)               # 12
    log.claim(4, "B", "k2", 10)                                  # 13
    log.verify(4, "M2", "k2", 10)                                # 14: the lost key: WRONG_ROLE
    log.add(4, "VERIFY", new_m2, {"claim": "k2", "amount": 10})                        # 15
    log.verify(4, "M1", "k2", 10)                                # 16: B 9, BUFFER 2 + 6 + 1 = 9
    expect = [
        (1, {"cast/actors/A": new_a, "actors/A/liquid": 6, "actors/A/locked": 10, "system/escrow": 2}),
        (4, {"actors/A/liquid": 12, "actors/A/locked": 0, "actors/A/fines_outstanding": 4, "pacts/p/status": "FAILED",
             "actors/B/liquid": 9, "system/BUFFER": 9, "system/issued": 30, "cast/monitors/M2": new_m2}),
    ]
    return log, expect, {4: "WRONG_ROLE", 14: "WRONG_ROLE"}


SCENARIOS = {
    "credits-fines-appeal": (credits_fines_appeal, "Issuance with the buffer, fines of two defaults on one morning, "
                             "an appeal staying and overturning a breach, the filing window."),
    "pact-liability": (pact_liability, "A pact triggered by count and weight, an incident before the pact is "
                       "active, two settlements with shares capped by stakes."),
    "governance-flags": (governance_flags, "A version adopted ahead of its effective day, HUGGING raising k to 3, "
                         "DIVERGENCE in its window, closed and gapped proposals."),
    "monitors-terms": (monitors_terms, "Accreditation term boundaries, conflict, expiry, revocation on the day "
                       "of accreditation, a default breach a year later."),
    "keys-and-mornings": (keys_and_mornings, "Key rotation by the old key and by governor quorum; a default "
                          "fined before a pact failure on the same morning."),
}


def to_json(log: Log, expect, reasons, description: str) -> dict:
    engine = log.engine()
    states = []
    for day, excerpt in expect:
        states.append({"as_of": day, "excerpt": excerpt, "digest": digest_as_of(log, day)})
    ineffective = {}
    for index, reason in reasons.items():
        code, sub = reason if isinstance(reason, tuple) else (reason, None)
        ineffective[str(index)] = {"code": code, "sub": sub}
    return {
        "description": description,
        "entries": [{"index": ev.index, "time": ev.time, "day": (ev.time - log.events[0].time) // 86_400,
                     "type": ev.type, "signers": list(ev.signers), "body": ev.body} for ev in log.events],
        "ineffective": ineffective,
        "states": states,
        "final_digest": engine.digest(),
    }


def digest_as_of(log: Log, day: int) -> str:
    from ledger.rules import Engine

    engine = Engine()
    for ev in log.events:
        if ev.index and (ev.time - log.events[0].time) // 86_400 > day:
            break
        engine.apply(ev)
    return engine.digest(day)


def main() -> None:
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    for name, (build, description) in SCENARIOS.items():
        data = to_json(*build(), description)
        (VECTOR_DIR / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
