"""Same-day ordering (D10, C2), start-of-day effects (C3) and projections (D2)."""

from __future__ import annotations

from .builder import balance, codes


def test_entries_see_earlier_entries_of_the_same_day(accredited_log):
    log = accredited_log
    too_early = log.transfer(1, "A", "B", 5)
    log.fund(1, "A", 10)
    after = log.transfer(1, "A", "B", 5)
    log.engine()
    assert codes(log.outcomes, [too_early, after]) == ["INSUFFICIENT_FUNDS", None]


def test_start_of_day_effects_come_before_the_first_entry_of_the_day(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)                     # A: 90
    for n in range(3):
        log.commit(1, "A", f"c{n}", 4)        # defaults on day 5: suspended before any day-5 entry
    blocked = log.transfer(5, "A", "B", 1)
    log.engine()
    assert log.outcome(blocked).code == "SUSPENDED"


def test_effects_of_skipped_days_apply_in_day_order(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)                     # A: 90
    log.commit(1, "A", "late", 20)            # default on day 21 (created first)
    log.commit(1, "A", "early", 10)           # default on day 11
    log.retire(30, "A", 1)
    engine = log.engine()
    view = engine.view()["commitments"]
    assert (view["early"]["fine"]["amount"], view["late"]["fine"]["amount"]) == (10, 20)
    assert (view["early"]["resolved_day"], view["late"]["resolved_day"]) == (11, 21)


def test_a_projection_does_not_change_what_later_entries_see(accredited_log):
    log = accredited_log
    log.commit(5, "A", "c1", 10)
    engine = log.engine()
    assert engine.view(20)["commitments"]["c1"]["status"] == "BREACHED"       # projected
    for m in ("M1", "M2"):
        index = log.add(8, "ATTEST", m, {"commitment": "c1", "verdict": "FULFILLED"})
        engine.apply(log.events[index])
    assert engine.view(20)["commitments"]["c1"]["status"] == "FULFILLED"
    assert engine.day == 8


def test_projection_equals_a_later_entry_dated_that_day(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100)
    log.commit(1, "A", "c1", 10)
    log.pact(1, "A", "p", {"A": 1, "B": 1}, 2, 0, 5, 3, 12)
    log.join(2, "A", "p")
    projected = log.engine().view(15)
    log.self_report(15, "B", 1)               # an unrelated entry dated 15
    actual = log.engine().view(15)
    assert projected["actors"] == {**actual["actors"], "B": projected["actors"]["B"]}
    assert projected["pacts"] == actual["pacts"] and projected["commitments"] == actual["commitments"]
    assert balance(log.engine(), "A")[0] == 90 - 6 - 5 + 5 + 3 + 3 - 10
