"""Form and role checks (R1, C1): every bad body is a reason code, never an exception."""

from __future__ import annotations

import pytest

from ledger.rules import Engine, Event

from .builder import EPOCH, Log, at, codes

GOOD = {
    "CLAIM": ("A", {"actor": "A", "id": "k", "amount": 5}),
    "VERIFY": ("M1", {"claim": "k", "amount": 5}),
    "TRANSFER": ("A", {"from": "A", "to": "B", "amount": 5}),
    "RETIRE": ("A", {"actor": "A", "amount": 5}),
    "COMMIT": ("A", {"actor": "A", "id": "c", "deadline": 9}),
    "ATTEST": ("M1", {"commitment": "c", "verdict": "FULFILLED"}),
    "APPEAL": ("A", {"commitment": "c"}),
    "PACT": ("A", {"sponsor": "A", "id": "p", "members": {"A": 1}, "min_count": 1, "min_weight_pct": 0,
                   "stake": 0, "bonus": 0, "open_until": 9, "delay": 0}),
    "JOIN": ("A", {"pact": "p", "actor": "A"}),
    "WITHDRAW": ("A", {"pact": "p", "actor": "A"}),
    "SELF_REPORT": ("A", {"actor": "A", "metric": "bio_uplift", "value": 5}),
    "AUDIT": ("M1", {"actor": "A", "metric": "bio_uplift", "value": 5}),
    "INCIDENT": ("M1", {"pact": "p", "id": "i", "actor": "A", "damages": 5}),
    "CONFLICT": ("M1", {"monitor": "M1", "actor": "A"}),
    "ROTATE_KEY": ("A", {"name": "A", "new_key": "A+12345678+AQnew="}),
    "APPROVE": ("G1", {"proposal": {"action": "ACCREDIT", "monitor": "M1"}}),
}

NAME_FIELDS = {"actor", "from", "to", "sponsor", "monitor", "name"}


def bad_variants(type_, body):
    """Bodies that break the schema of ``type_`` in every generic way."""
    yield "not an object", ["list"]
    yield "null body", None
    yield "extra field", {**body, "extra": 1}
    for field, value in body.items():
        yield f"missing {field}", {k: v for k, v in body.items() if k != field}
        if isinstance(value, int):
            yield f"{field} as bool", {**body, field: True}
            yield f"{field} as string", {**body, field: str(value)}
            yield f"{field} as float", {**body, field: float(value)}
        elif isinstance(value, str):
            yield f"{field} as int", {**body, field: 1}
            yield f"{field} as null", {**body, field: None}
        if field in NAME_FIELDS:
            yield f"{field} unknown name", {**body, field: "Nobody"}
            yield f"{field} system account", {**body, field: "BUFFER"}


CASES = [(t, label, body) for t, (_, good) in GOOD.items() for label, body in bad_variants(t, good)]


@pytest.mark.parametrize("type_,label,body", CASES, ids=[f"{t}-{label}" for t, label, _ in CASES])
def test_bad_bodies_are_malformed(type_, label, body):
    log = Log()
    signer = GOOD[type_][0]
    index = log.add(1, type_, signer, body)
    log.engine()
    assert log.outcome(index).code == "MALFORMED"


@pytest.mark.parametrize("type_", sorted(GOOD))
def test_good_bodies_pass_the_form_check(type_):
    log = Log()
    signer, body = GOOD[type_]
    index = log.add(1, type_, signer, body)
    log.engine()
    assert log.outcome(index).code != "MALFORMED"


SPECIFIC_BAD = [
    ("ATTEST", "M1", {"commitment": "c", "verdict": "MAYBE"}),
    ("SELF_REPORT", "A", {"actor": "A", "metric": "bio_uplift", "value": -3}),
    ("AUDIT", "M1", {"actor": "A", "metric": "bio_uplift", "value": -3}),
    ("ROTATE_KEY", "A", {"name": "A", "new_key": ""}),
    ("CONFLICT", "M1", {"monitor": "A", "actor": "A"}),
    ("CONFLICT", "M1", {"monitor": "M1", "actor": "M2"}),
    ("INCIDENT", "M1", {"pact": "p", "id": "i", "actor": "M1", "damages": 5}),
    ("APPROVE", "G1", {"proposal": None}),
    ("APPROVE", "G1", {"proposal": {"action": "FIRE", "monitor": "M1"}}),
    ("APPROVE", "G1", {"proposal": {"monitor": "M1"}}),
    ("APPROVE", "G1", {"proposal": {"action": "REVOKE", "monitor": "G2"}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3, "changes": []}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3, "changes": {"BUFFER_PCT": 101}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3, "changes": {"GOV_QUORUM": 0}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3, "changes": {"K_ATTEST": "2"}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3,
                                    "changes": {"METRICS": {"m": {"theta": 2, "band": 3}}}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3,
                                    "changes": {"METRICS": {"m": {"theta": 5, "band": 0}}}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": 2, "effective_day": 3,
                                    "changes": {"METRICS": {"m": {"theta": 5}}}}}),
    ("APPROVE", "G1", {"proposal": {"action": "ADOPT", "version": True, "effective_day": 3, "changes": {}}}),
    ("APPROVE", "G1", {"proposal": {"action": "DECIDE", "commitment": 5, "decision": "UPHOLD"}}),
    ("APPROVE", "G1", {"proposal": {"action": "ROTATE_KEY", "name": "Nobody", "new_key": "k"}}),
    ("APPROVE", "G1", {"proposal": {"action": "ACCREDIT", "monitor": "M1"}, "extra": 1}),
    ("NOT_A_TYPE", "A", {}),
    ("GENESIS", "G1", {}),
]


@pytest.mark.parametrize("type_,signer,body", SPECIFIC_BAD)
def test_specific_malformed_bodies(type_, signer, body):
    log = Log()
    index = log.add(1, type_, signer, body)
    log.engine()
    assert log.outcome(index).code == "MALFORMED"


def test_check_order_form_role_amount_subject(log):
    malformed_and_wrong = log.add(1, "CLAIM", "B", {"actor": "Nobody", "id": "k", "amount": 5})
    wrong_and_zero = log.add(1, "CLAIM", "B", {"actor": "A", "id": "k", "amount": 0})
    zero_and_unknown = log.add(1, "VERIFY", "M1", {"claim": "nope", "amount": 0})
    unknown_and_not_counting = log.add(1, "VERIFY", "M1", {"claim": "nope", "amount": 5})
    log.engine()
    assert codes(log.outcomes, [malformed_and_wrong, wrong_and_zero, zero_and_unknown, unknown_and_not_counting]) == [
        "MALFORMED", "WRONG_ROLE", "INVALID_AMOUNT", "UNKNOWN_SUBJECT"]


def test_signer_counts(log):
    twice = log.add(1, "CLAIM", ("A", "A"), {"actor": "A", "id": "k", "amount": 5})
    cosigned = log.add(1, "CLAIM", ("A", "G1"), {"actor": "A", "id": "k", "amount": 5})
    nobody = log.add(1, "CLAIM", (), {"actor": "A", "id": "k", "amount": 5})
    unknown_key = log.add(1, "CLAIM", "A+deadbeef+AQ==", {"actor": "A", "id": "k", "amount": 5})
    approve_nobody = log.add(1, "APPROVE", (), {"proposal": {"action": "ACCREDIT", "monitor": "M1"}})
    ok = log.add(1, "CLAIM", "A", {"actor": "A", "id": "k", "amount": 5})
    log.engine()
    assert codes(log.outcomes, [twice, cosigned, nobody, unknown_key, approve_nobody, ok]) == ["WRONG_ROLE"] * 5 + [None]


def test_ids_metrics_and_nonces_may_be_any_string(accredited_log):
    log = accredited_log
    for cid in ("", " ", "ü/∂:\u0000", "😀"):
        assert log.claim(1, "A", cid, 5)
    log.approve(1, ("G1", "G2"), action="ACCREDIT", monitor="M1", nonce="")
    engine = log.engine()
    assert all(o.code is None for o in log.outcomes)
    assert len(engine.view()["claims"]) == 4
    engine.digest()


def test_entries_before_the_epoch_or_going_back_in_time_are_malformed(log):
    before = log.add(-1, "CLAIM", "A", {"actor": "A", "id": "k", "amount": 5}, allow_earlier=True)
    log.add(3, "CLAIM", "A", {"actor": "A", "id": "k2", "amount": 5})
    back = log.add(2, "CLAIM", "A", {"actor": "A", "id": "k3", "amount": 5}, allow_earlier=True)
    log.engine()
    assert codes(log.outcomes, [before, back]) == ["MALFORMED", "MALFORMED"]


def test_a_second_genesis_is_malformed(log):
    index = log.add(1, "GENESIS", "G1", log.genesis_body)
    log.engine()
    assert log.outcome(index).code == "MALFORMED"


def test_day_boundaries_use_the_epoch():
    log = Log()
    engine = Engine()
    engine.apply(log.events[0])
    last_second = engine.apply(Event(1, EPOCH + 86_399, "RETIRE", (log.keys["A"],), {"actor": "A", "amount": 1}))
    next_day = engine.apply(Event(2, EPOCH + 86_400, "RETIRE", (log.keys["A"],), {"actor": "A", "amount": 1}))
    assert (last_second.day, next_day.day) == (0, 1)
    assert at(0) == EPOCH + 43_200
