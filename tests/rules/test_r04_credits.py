"""R4 credits: issuance with the buffer cut, transfers, retirements (C11, C12)."""

from __future__ import annotations

from .builder import balance, codes


def test_issuance_takes_the_smallest_amount_and_floors_the_buffer(accredited_log):
    log = accredited_log
    log.claim(1, "A", "k1", 105)
    log.verify(1, "M1", "k1", 103)
    issuing = log.verify(2, "M2", "k1", 99)
    engine = log.engine()
    # N = min(105, 103, 99) = 99; B = floor(99 * 10 / 100) = 9; A gets 90.
    assert balance(engine, "A") == (90, 0, 0, 0)
    system = engine.view()["system"]
    assert (system["BUFFER"], system["issued"]) == (9, 99)
    assert engine.view()["claims"]["k1"]["issued"] == {"index": issuing, "day": 2, "amount": 99, "buffer": 9, "version": 1}


def test_buffer_rounds_down(accredited_log):
    log = accredited_log
    log.fund(1, "A", 19)       # B = floor(1.9) = 1
    log.fund(1, "B", 9)        # B = floor(0.9) = 0
    engine = log.engine()
    assert balance(engine, "A")[0] == 18 and balance(engine, "B")[0] == 9
    assert engine.view()["system"]["BUFFER"] == 1


def test_the_claimed_amount_caps_issuance(accredited_log):
    log = accredited_log
    log.claim(1, "C", "k1", 30)
    log.verify(1, "M1", "k1", 500)
    log.verify(1, "M2", "k1", 400)
    engine = log.engine()
    assert balance(engine, "C")[0] == 27 and engine.view()["system"]["BUFFER"] == 3


def test_amounts_below_one_are_invalid(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100, cid="k0")
    zero_claim = log.claim(1, "A", "k1", 0)
    log.claim(1, "A", "k2", 10)
    negative_verify = log.verify(1, "M1", "k2", -1)
    zero_transfer = log.transfer(1, "A", "B", 0)
    zero_retire = log.retire(1, "A", 0)
    log.engine()
    assert codes(log.outcomes, [zero_claim, negative_verify, zero_transfer, zero_retire]) == ["INVALID_AMOUNT"] * 4


def test_an_ineffective_creation_does_not_reserve_its_id(accredited_log):
    log = accredited_log
    bad = log.claim(1, "A", "x", 0)
    b_claims = log.claim(1, "B", "x", 5)
    dup = log.claim(1, "A", "x", 5)
    log.engine()
    assert codes(log.outcomes, [bad, b_claims, dup]) == ["INVALID_AMOUNT", None, "DUPLICATE_ID"]


def test_claim_and_verify_roles_and_subjects(accredited_log):
    log = accredited_log
    other = log.claim(1, "A", "k1", 5, signer="B")
    by_monitor = log.claim(1, "A", "k1", 5, signer="M1")
    unknown = log.verify(1, "M1", "nope", 5)
    log.claim(1, "A", "k1", 5)
    by_actor = log.add(1, "VERIFY", "B", {"claim": "k1", "amount": 5})
    log.engine()
    assert codes(log.outcomes, [other, by_monitor, unknown, by_actor]) == ["WRONG_ROLE", "WRONG_ROLE", "UNKNOWN_SUBJECT", "WRONG_ROLE"]


def test_transfers_move_all_or_nothing(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)                       # A: 90
    ok = log.transfer(2, "A", "B", 60)
    too_much = log.transfer(2, "A", "B", 31)
    exact = log.transfer(2, "A", "C", 30)
    to_self = log.transfer(2, "B", "B", 60)
    too_much_self = log.transfer(2, "B", "B", 61)
    engine = log.engine()
    assert codes(log.outcomes, [ok, too_much, exact, to_self, too_much_self]) == [None, "INSUFFICIENT_FUNDS", None, None, "INSUFFICIENT_FUNDS"]
    assert [balance(engine, x)[0] for x in "ABC"] == [0, 60, 30]


def test_transfer_to_an_undeclared_name_is_malformed(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)
    to_monitor = log.transfer(2, "A", "M1", 5)
    to_buffer = log.transfer(2, "A", "BUFFER", 5)
    wrong_signer = log.transfer(2, "A", "B", 5, signer="B")
    log.engine()
    assert codes(log.outcomes, [to_monitor, to_buffer, wrong_signer]) == ["MALFORMED", "MALFORMED", "WRONG_ROLE"]


def test_suspension_blocks_transfers_but_not_retirement(accredited_log):
    log = accredited_log
    log.fund(1, "A", 200)                        # A: 180
    for n in range(3):
        log.commit(1, "A", f"c{n}", 1)           # three defaults on day 2: fines 10 + 20 + 30
    suspended_and_poor = log.transfer(2, "A", "B", 10_000)
    suspended = log.transfer(2, "A", "B", 10)
    retire = log.retire(2, "A", 100)
    engine = log.engine()
    assert codes(log.outcomes, [suspended_and_poor, suspended, retire]) == ["SUSPENDED", "SUSPENDED", None]
    assert balance(engine, "A") == (20, 0, 100, 0)
    assert engine.view()["actors"]["A"]["suspended"] is True


def test_retirement_is_terminal_and_only_from_liquid(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)                        # A: 90 liquid
    log.pact(1, "B", "p", {"A": 1}, 5, 0, 40, 0, 30)
    log.join(1, "A", "p")                        # A: 50 liquid, 40 locked
    too_much = log.retire(2, "A", 60)
    ok = log.retire(2, "A", 50)
    nothing_left = log.transfer(2, "A", "B", 1)
    engine = log.engine()
    assert codes(log.outcomes, [too_much, ok, nothing_left]) == ["INSUFFICIENT_FUNDS", None, "INSUFFICIENT_FUNDS"]
    assert balance(engine, "A") == (0, 40, 50, 0)
