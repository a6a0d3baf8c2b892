"""R9 mutual assurance pacts: escrow, joins, trigger by count AND weight, failure (C18, C19)."""

from __future__ import annotations

from .builder import balance, codes


def funded(log, *actors, amount=100):
    for actor in actors:
        log.fund(1, actor, amount)          # each actor: 90 liquid


def test_triggered_by_count_but_not_weight_waits_for_weight(accredited_log):
    log = accredited_log
    funded(log, "A", "B", "C", "D")
    log.pact(2, "D", "p", {"A": 1, "B": 1, "C": 8}, 2, 50, 20, 5, 30, delay=3)   # escrow 15
    log.join(5, "A", "p")
    log.join(5, "B", "p")                   # count 2 >= 2 but weight 2/10 < 50 %
    after_two = log.engine()
    trigger = log.join(6, "C", "p")
    binding = log.withdraw(7, "A", "p")
    engine = log.engine()
    assert after_two.view()["pacts"]["p"]["status"] == "OPEN"
    assert balance(after_two, "D")[0] == 75
    assert log.outcome(binding).code == "PACT_BINDING"
    pact = engine.view(7)["pacts"]["p"]
    assert (pact["trigger_day"], pact["trigger_index"], pact["active_from"], pact["escrow"]) == (6, trigger, 9, 0)
    assert [log.asof(d)["pacts"]["p"]["status"] for d in (6, 8)] == ["TRIGGERED", "TRIGGERED"]
    assert engine.view(9)["pacts"]["p"]["status"] == "ACTIVE"
    assert balance(engine, "D")[0] == 90                       # the escrow came back
    assert balance(engine, "A") == (70, 20, 0, 0)


def test_an_open_pact_fails_at_the_start_of_u_plus_1(accredited_log):
    log = accredited_log
    funded(log, "A", "B", "C", "D")
    log.pact(1, "D", "q", {"A": 1, "B": 1, "C": 1}, 3, 0, 10, 4, 10)   # escrow 12 -> D: 78
    log.join(2, "A", "q")
    log.join(3, "B", "q")
    log.withdraw(4, "B", "q")
    rejoin = log.join(5, "B", "q")
    engine_open = log.engine()
    withdraw = log.withdraw(11, "A", "q")
    join = log.join(11, "C", "q")
    engine = log.engine()
    assert log.outcome(rejoin).code is None
    assert engine_open.view(10)["pacts"]["q"]["status"] == "OPEN"
    failed = engine.view(11)["pacts"]["q"]
    assert (failed["status"], failed["failed_day"], failed["joined"], failed["escrow"]) == ("FAILED", 11, {"A": 0, "B": 0}, 0)
    assert balance(engine, "A") == (94, 0, 0, 0) and balance(engine, "B") == (94, 0, 0, 0)
    assert balance(engine, "D")[0] == 78 + 4
    assert codes(log.outcomes, [withdraw, join]) == ["PACT_BINDING", "PACT_CLOSED"]


def test_join_checks_in_order(accredited_log):
    log = accredited_log
    funded(log, "A", "B")
    log.fund(1, "C", 10)                            # C: 9 liquid
    for n in range(3):
        log.commit(1, "D", f"d{n}", 1)              # D suspended from day 2
    log.pact(1, "A", "p", {"A": 1, "B": 1, "C": 1, "D": 1}, 9, 0, 10, 0, 5)
    unknown = log.join(2, "A", "nope")
    by_monitor = log.add(2, "JOIN", "M1", {"pact": "p", "actor": "A"})
    log.join(2, "A", "p")
    already = log.join(2, "A", "p")
    suspended = log.join(2, "D", "p")
    poor = log.join(2, "C", "p")
    closed = log.join(6, "B", "p")
    log.engine()
    assert codes(log.outcomes, [unknown, by_monitor, already, suspended, poor, closed]) == [
        "UNKNOWN_SUBJECT", "WRONG_ROLE", "ALREADY_JOINED", "SUSPENDED", "INSUFFICIENT_FUNDS", "PACT_CLOSED"]


def test_not_member_is_checked_before_closed(accredited_log):
    log = accredited_log
    funded(log, "A")
    log.pact(1, "A", "p", {"A": 1}, 5, 0, 0, 0, 3)
    outsider = log.join(9, "B", "p")
    log.engine()
    assert log.outcome(outsider).code == "NOT_MEMBER"


def test_pact_creation_checks(accredited_log):
    log = accredited_log
    log.fund(1, "A", 20)                                         # A: 18
    past_dup = log.pact(3, "A", "p", {"A": 1}, 1, 0, 0, 0, 2)    # U before day 3
    log.pact(3, "A", "p", {"A": 1, "B": 1}, 1, 0, 0, 9, 3)       # escrow 18: exactly affordable
    dup_poor = log.pact(3, "A", "p", {"A": 1}, 1, 0, 0, 99, 3)
    poor = log.pact(3, "A", "p2", {"A": 1}, 1, 0, 0, 1, 3)
    engine = log.engine()
    assert codes(log.outcomes, [past_dup, dup_poor, poor]) == ["INVALID_DEADLINE", "DUPLICATE_ID", "INSUFFICIENT_FUNDS"]
    assert engine.view()["pacts"]["p"]["retention"] == 0 and engine.view()["system"]["escrow"] == 18


def test_malformed_pact_terms(log):
    good = {"sponsor": "A", "id": "p", "members": {"A": 1}, "min_count": 1, "min_weight_pct": 0,
            "stake": 0, "bonus": 0, "open_until": 5, "delay": 0}
    bad = [
        {"members": {}}, {"members": {"A": 0}}, {"members": {"Z": 1}}, {"members": {"M1": 1}},
        {"members": {"A": True}}, {"min_weight_pct": 101}, {"min_weight_pct": -1}, {"min_count": -1},
        {"stake": -1}, {"bonus": -5}, {"delay": -1}, {"retention": -1}, {"stake": True},
        {"open_until": "5"}, {"sponsor": "M1"}, {"id": 7}, {"extra": 1},
    ]
    indices = [log.add(1, "PACT", "A", {**good, **change}) for change in bad]
    missing = log.add(1, "PACT", "A", {k: v for k, v in good.items() if k != "delay"})
    ok = log.add(1, "PACT", "A", good)
    log.engine()
    assert codes(log.outcomes, indices + [missing]) == ["MALFORMED"] * (len(bad) + 1)
    assert log.outcome(ok).code is None


def test_a_pact_triggers_only_after_a_join(accredited_log):
    log = accredited_log
    log.pact(1, "A", "p", {"A": 1, "B": 1}, 0, 0, 0, 0, 10)
    engine_created = log.engine()
    log.join(2, "B", "p")
    late_join = log.join(10, "A", "p")              # joining stays possible until U after the trigger
    too_late = log.join(11, "C", "p")
    engine = log.engine()
    assert engine_created.view()["pacts"]["p"]["status"] == "OPEN"
    assert engine.view()["pacts"]["p"]["trigger_day"] == 2
    assert codes(log.outcomes, [late_join, too_late]) == [None, "NOT_MEMBER"]
    assert engine.view()["pacts"]["p"]["joined"] == {"A": 0, "B": 0}


def test_withdraw_checks(accredited_log):
    log = accredited_log
    funded(log, "A")
    log.pact(1, "A", "p", {"A": 1, "B": 1}, 2, 0, 10, 0, 10)
    outsider = log.withdraw(2, "C", "p")
    not_joined = log.withdraw(2, "B", "p")
    unknown = log.withdraw(2, "A", "nope")
    log.join(2, "A", "p")
    ok = log.withdraw(3, "A", "p")
    engine = log.engine()
    assert codes(log.outcomes, [outsider, not_joined, unknown, ok]) == ["NOT_JOINED", "NOT_JOINED", "UNKNOWN_SUBJECT", None]
    assert balance(engine, "A") == (90, 0, 0, 0) and engine.view()["pacts"]["p"]["joined"] == {}


def test_defaults_come_before_pact_failures_on_the_same_morning(accredited_log):
    log = accredited_log
    log.fund(1, "A", 11)                            # A: 10
    log.fund(1, "D", 10)                            # D: 9
    log.pact(1, "D", "p", {"A": 1, "B": 1}, 2, 0, 10, 2, 8)    # escrow 4
    log.join(2, "A", "p")                           # A: 0 liquid, 10 locked
    log.commit(2, "A", "c1", 8)
    engine = log.engine()
    # Day 9: the default is fined first (nothing liquid: 10 outstanding), then the stake returns.
    assert balance(engine, "A", 9) == (12, 0, 0, 10)
    assert balance(engine, "D", 9)[0] == 5 + 2
