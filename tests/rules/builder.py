"""A small log builder for rules tests: a cast with fake vkeys and one helper per entry type.

Entries are dated at 12:00:00Z of their day (as RS-1's scenarios are); the engine
only compares key strings, so vkeys are fake but C2SP-shaped.
"""

from __future__ import annotations

import hashlib

from ledger.rules import Engine, Event

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z, day 0
NOON = 43_200


def fake_vkey(name: str, generation: int = 0) -> str:
    digest = hashlib.sha256(f"{name}/{generation}".encode()).hexdigest()
    return f"{name}+{digest[:8]}+AQ{digest[8:50]}="


def at(day: int, second: int = NOON) -> int:
    return EPOCH + day * 86_400 + second


class Log:
    """A coalition log under construction; ``events`` starts with its genesis entry."""

    def __init__(self, governors=("G1", "G2", "G3"), actors=("A", "B", "C", "D"),
                 monitors=("M1", "M2", "M3", "M4", "M5"), changes=None, genesis_day: int = 0, extensions=None):
        self.keys = {name: fake_vkey(name) for name in (*governors, *actors, *monitors)}
        self.genesis_body = {
            "epoch": EPOCH,
            "governors": {g: self.keys[g] for g in governors},
            "actors": {a: self.keys[a] for a in actors},
            "monitors": {m: self.keys[m] for m in monitors},
            "ruleset": {"version": 1, "effective_day": 0, "changes": dict(changes or {})},
        }
        if extensions is not None:
            self.genesis_body["ruleset"]["extensions"] = sorted(extensions)
        self.events: list[Event] = [Event(0, at(genesis_day, 0), "GENESIS", (self.keys[governors[0]],), self.genesis_body)]

    # --- generic ------------------------------------------------------------------------------

    def add(self, day: int, type_: str, signers, body, *, allow_earlier: bool = False) -> int:
        """Append an entry signed by ``signers`` (a name, a vkey, or a tuple of them); return its index.

        Days must not decrease (the core guarantees it) unless ``allow_earlier`` says the test means it."""
        assert allow_earlier or at(day) >= self.events[-1].time, f"day {day} goes back in time"
        if isinstance(signers, str):
            signers = (signers,)
        vkeys = tuple(self.keys.get(s, s) for s in signers)
        index = len(self.events)
        self.events.append(Event(index, at(day), type_, vkeys, body))
        return index

    def engine(self, upto: int | None = None) -> Engine:
        engine = Engine()
        self.outcomes = [engine.apply(ev) for ev in self.events[: upto]]
        return engine

    def asof(self, day: int) -> dict:
        """The canonical state as of ``day`` from the entries dated <= day (a fresh replay)."""
        engine = Engine()
        for ev in self.events:
            if ev.index and (ev.time - EPOCH) // 86_400 > day:
                break
            engine.apply(ev)
        return engine.view(day)

    def outcome(self, index: int):
        return self.outcomes[index]

    # --- governance ---------------------------------------------------------------------------

    def approve(self, day, by, **proposal) -> int:
        """An APPROVE of ``proposal`` signed by ``by`` (a name or a tuple of names)."""
        return self.add(day, "APPROVE", by, {"proposal": proposal})

    def adopt2(self, day, action, g=("G1", "G2"), **fields) -> tuple[int, int]:
        """Two approvals by two governors in two entries (the second adopts)."""
        first = self.approve(day, g[0], action=action, **fields)
        return first, self.approve(day, g[1], action=action, **fields)

    def accredit(self, day, *monitors, nonce=None):
        for m in monitors:
            extra = {} if nonce is None else {"nonce": nonce}
            self.approve(day, ("G1", "G2"), action="ACCREDIT", monitor=m, **extra)

    def revoke(self, day, monitor, nonce=None):
        extra = {} if nonce is None else {"nonce": nonce}
        return self.approve(day, ("G1", "G2"), action="REVOKE", monitor=monitor, **extra)

    def decide(self, day, commitment, decision, governors=("G1", "G2")):
        return self.approve(day, governors, action="DECIDE", commitment=commitment, decision=decision)

    def conflict(self, day, monitor, actor, signers=None):
        return self.add(day, "CONFLICT", signers or monitor, {"monitor": monitor, "actor": actor})

    # --- credits ------------------------------------------------------------------------------

    def claim(self, day, actor, cid, amount, signer=None):
        return self.add(day, "CLAIM", signer or actor, {"actor": actor, "id": cid, "amount": amount})

    def verify(self, day, monitor, cid, amount):
        return self.add(day, "VERIFY", monitor, {"claim": cid, "amount": amount})

    def fund(self, day, actor, amount, cid=None, monitors=("M1", "M2")):
        """A claim verified by ``monitors`` at ``amount`` (they must be counting)."""
        cid = cid or f"fund-{actor}-{len(self.events)}"
        self.claim(day, actor, cid, amount)
        for m in monitors:
            last = self.verify(day, m, cid, amount)
        return last

    def transfer(self, day, sender, recipient, amount, signer=None):
        return self.add(day, "TRANSFER", signer or sender, {"from": sender, "to": recipient, "amount": amount})

    def retire(self, day, actor, amount):
        return self.add(day, "RETIRE", actor, {"actor": actor, "amount": amount})

    # --- commitments --------------------------------------------------------------------------

    def commit(self, day, actor, cid, deadline):
        return self.add(day, "COMMIT", actor, {"actor": actor, "id": cid, "deadline": deadline})

    def attest(self, day, monitor, cid, verdict):
        return self.add(day, "ATTEST", monitor, {"commitment": cid, "verdict": verdict})

    def appeal(self, day, actor, cid):
        return self.add(day, "APPEAL", actor, {"commitment": cid})

    # --- pacts, flags, incidents ----------------------------------------------------------------

    def pact(self, day, sponsor, pid, members, min_count, min_weight_pct, stake, bonus, open_until,
             delay=0, retention=None):
        body = {"sponsor": sponsor, "id": pid, "members": members, "min_count": min_count,
                "min_weight_pct": min_weight_pct, "stake": stake, "bonus": bonus,
                "open_until": open_until, "delay": delay}
        if retention is not None:
            body["retention"] = retention
        return self.add(day, "PACT", sponsor, body)

    def join(self, day, actor, pid):
        return self.add(day, "JOIN", actor, {"pact": pid, "actor": actor})

    def withdraw(self, day, actor, pid):
        return self.add(day, "WITHDRAW", actor, {"pact": pid, "actor": actor})

    def self_report(self, day, actor, value, metric="bio_uplift"):
        return self.add(day, "SELF_REPORT", actor, {"actor": actor, "metric": metric, "value": value})

    def audit(self, day, monitor, actor, value, metric="bio_uplift"):
        return self.add(day, "AUDIT", monitor, {"actor": actor, "metric": metric, "value": value})

    def incident(self, day, monitor, pid, iid, actor, damages):
        return self.add(day, "INCIDENT", monitor, {"pact": pid, "id": iid, "actor": actor, "damages": damages})


# --- reading results ------------------------------------------------------------------------


def codes(outcomes, indices=None) -> list:
    """The reason code (None = effective) of each outcome, or of the given indices."""
    if indices is None:
        return [o.code for o in outcomes]
    return [outcomes[i].code for i in indices]


def balance(engine, actor: str, day: int | None = None) -> tuple[int, int, int, int]:
    """(liquid, locked, retired, fines_outstanding) of ``actor`` as of ``day``."""
    a = engine.view(day)["actors"][actor]
    return a["liquid"], a["locked"], a["retired"], a["fines_outstanding"]
