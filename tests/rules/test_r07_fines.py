"""R7 fines: 10 x L at the breach, partly paid from liquid, the rest outstanding (C13)."""

from __future__ import annotations

from .builder import balance


def test_fines_grow_with_the_level_and_unpaid_parts_stay_outstanding(accredited_log):
    log = accredited_log
    log.fund(1, "A", 28)                      # N 28, B 2: A liquid 26... floor(2.8) = 2
    log.commit(1, "A", "c1", 5)               # default day 6: L 1, fine 10, paid 10
    log.commit(1, "A", "c2", 7)               # default day 8: L 2, fine 20, paid 16, outstanding 4
    engine = log.engine()
    assert balance(engine, "A", 6) == (16, 0, 0, 0)
    assert balance(engine, "A", 8) == (0, 0, 0, 4)
    c2 = engine.view(8)["commitments"]["c2"]["fine"]
    assert c2 == {"amount": 20, "paid": 16, "unpaid": 4}
    assert engine.view(8)["system"]["BUFFER"] == 2 + 10 + 16


def test_several_defaults_on_one_morning_in_creation_order(accredited_log):
    log = accredited_log
    log.fund(1, "A", 200)                    # A: 180
    for cid in ("z", "m", "a", "b"):         # created in this log order, same deadline
        log.commit(2, "A", cid, 3)
    engine = log.engine()
    fines = {cid: c["fine"]["amount"] for cid, c in engine.view(4)["commitments"].items()}
    assert fines == {"z": 10, "m": 20, "a": 30, "b": 30}            # the level caps at 3
    assert balance(engine, "A", 4)[0] == 180 - 90


def test_a_default_is_fined_with_the_value_in_force_on_d_plus_1(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)
    log.adopt2(1, "ADOPT", version=2, effective_day=6, changes={"FINE_PER_LEVEL": 7})
    log.commit(1, "A", "c1", 5)               # default on day 6: version 2
    log.commit(1, "A", "c0", 4)               # default on day 5: version 1
    engine = log.engine()
    view = engine.view(6)["commitments"]
    assert (view["c0"]["fine"]["amount"], view["c1"]["fine"]["amount"]) == (10, 14)


def test_a_quorum_breach_counts_earlier_breaches_of_the_same_day(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)                     # A: 90
    log.commit(1, "A", "c1", 30)
    log.commit(1, "A", "c2", 30)
    log.attest(5, "M1", "c1", "BREACHED")
    log.attest(5, "M2", "c1", "BREACHED")     # L 1 -> 10
    log.attest(5, "M1", "c2", "BREACHED")
    log.attest(5, "M2", "c2", "BREACHED")     # L 2 -> 20
    engine = log.engine()
    view = engine.view()["commitments"]
    assert (view["c1"]["fine"]["amount"], view["c2"]["fine"]["amount"]) == (10, 20)
    assert balance(engine, "A")[0] == 60


def test_a_stayed_breach_does_not_raise_the_next_fine(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)
    log.commit(1, "A", "c1", 2)               # breach day 3
    log.commit(1, "A", "c2", 9)               # breach day 10: L = 1 (c1 stayed)
    log.appeal(4, "A", "c1")                  # stayed on days 4..34
    engine = log.engine()
    assert engine.view(10)["commitments"]["c2"]["fine"]["amount"] == 10
