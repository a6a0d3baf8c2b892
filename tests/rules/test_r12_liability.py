"""R12 liability pools: incidents settled by retention then equal shares capped by stakes (C20)."""

from __future__ import annotations

from .builder import balance, codes


def active_pact(log, stake=20, retention=10, members=("A", "B", "C")):
    """A, B, C funded (90 liquid each) and joined on day 2; the pact is ACTIVE from day 4."""
    for actor in members:
        log.fund(1, actor, 100)
    log.pact(1, "A", "p", {m: 1 for m in members}, len(members), 0, stake, 0, 30, delay=2, retention=retention)
    for actor in members:
        log.join(2, actor, "p")


def test_shares_are_capped_by_stakes(accredited_log):
    log = accredited_log
    active_pact(log)
    log.incident(5, "M1", "p", "i1", "A", 120)
    settling = log.incident(5, "M2", "p", "i1", "A", 100)      # E = min = 100
    engine = log.engine()
    assert log.outcome(settling).code is None
    # retention 10 from A liquid; E2 = 90, n = 3, s = 30, each pays min(30, 20) = 20.
    assert balance(engine, "A") == (60, 0, 0, 0)
    assert balance(engine, "B") == (70, 0, 0, 0)
    system = engine.view()["system"]
    assert (system["VICTIM"], system["uncovered"]) == (70, 30)
    settlement = engine.view()["incidents"]["p"]["i1"]["A"]["settlement"]
    assert settlement == {"day": 5, "damages": 100, "retention": 10, "retained": 10, "share": 30,
                          "paid": {"A": 20, "B": 20, "C": 20}, "uncovered": 30}


def test_the_floor_residue_is_uncovered(accredited_log):
    log = accredited_log
    active_pact(log, stake=50, retention=0)
    log.incident(4, "M1", "p", "i1", "B", 100)
    log.incident(4, "M2", "p", "i1", "B", 100)
    engine = log.engine()
    assert [balance(engine, x)[1] for x in "ABC"] == [17, 17, 17]
    assert (engine.view()["system"]["VICTIM"], engine.view()["system"]["uncovered"]) == (99, 1)


def test_unpaid_retention_is_uncovered_and_members_without_stake_still_count(accredited_log):
    log = accredited_log
    active_pact(log, stake=20, retention=10)
    log.transfer(3, "A", "D", 66)                            # A: 4 liquid
    log.incident(5, "M1", "p", "i1", "A", 70)
    log.incident(5, "M2", "p", "i1", "A", 70)                # r 10 (4 paid); E2 60, s 20: stakes drained
    log.incident(6, "M1", "p", "i2", "B", 30)
    log.incident(6, "M2", "p", "i2", "B", 30)                # r 10 from B; E2 20, n 3, s 6, all stakes 0
    engine = log.engine()
    i1 = engine.view()["incidents"]["p"]["i1"]["A"]["settlement"]
    i2 = engine.view()["incidents"]["p"]["i2"]["B"]["settlement"]
    assert (i1["retained"], i1["uncovered"]) == (4, 6)
    assert (i2["share"], i2["paid"], i2["uncovered"]) == (6, {"A": 0, "B": 0, "C": 0}, 20)
    assert engine.view()["system"]["VICTIM"] == 4 + 60 + 10


def test_not_active_closes_the_incident(accredited_log):
    log = accredited_log
    active_pact(log)
    first = log.incident(3, "M1", "p", "i1", "A", 50)          # TRIGGERED, active from day 4
    closing = log.incident(3, "M2", "p", "i1", "A", 50)
    outsider_early = log.incident(3, "M1", "p", "i2", "D", 50)
    outsider_early2 = log.incident(3, "M2", "p", "i2", "D", 50)
    later = log.incident(5, "M3", "p", "i1", "A", 50)
    outsider = log.incident(5, "M1", "p", "i3", "D", 50)
    outsider2 = log.incident(5, "M2", "p", "i3", "D", 50)
    engine = log.engine()
    assert codes(log.outcomes, [first, closing, later]) == [None, "PACT_NOT_ACTIVE", "CLOSED"]
    assert codes(log.outcomes, [outsider_early, outsider_early2]) == [None, "PACT_NOT_ACTIVE"]
    assert codes(log.outcomes, [outsider, outsider2]) == [None, "NOT_MEMBER"]
    incident = engine.view()["incidents"]["p"]["i1"]["A"]
    assert (incident["status"], incident["reason"], incident["closed_index"]) == ("CLOSED", "PACT_NOT_ACTIVE", closing)
    assert engine.view()["system"]["VICTIM"] == 0


def test_incident_form_and_subject_checks(accredited_log):
    log = accredited_log
    active_pact(log)
    unknown_pact = log.incident(5, "M1", "nope", "i1", "A", 50)
    zero = log.incident(5, "M1", "p", "i1", "A", 0)
    unknown_actor = log.incident(5, "M1", "p", "i1", "Z", 50)
    by_actor = log.add(5, "INCIDENT", "B", {"pact": "p", "id": "i1", "actor": "A", "damages": 5})
    log.incident(5, "M1", "p", "i1", "A", 50)
    dup = log.incident(5, "M1", "p", "i1", "A", 40)
    log.engine()
    assert codes(log.outcomes, [unknown_pact, zero, unknown_actor, by_actor, dup]) == [
        "UNKNOWN_SUBJECT", "INVALID_AMOUNT", "MALFORMED", "WRONG_ROLE", "DUPLICATE_MONITOR"]


def test_a_flagged_actor_needs_three_reports(accredited_log):
    log = accredited_log
    active_pact(log)
    for value in (47, 47, 48, 49):
        log.self_report(3, "C", value)
    log.incident(5, "M1", "p", "i1", "C", 30)
    log.incident(5, "M2", "p", "i1", "C", 30)
    pending = log.engine().view()
    log.incident(5, "M3", "p", "i1", "C", 30)
    engine = log.engine()
    assert pending["incidents"]["p"]["i1"]["C"]["status"] == "OPEN"
    assert engine.view()["incidents"]["p"]["i1"]["C"]["status"] == "SETTLED"


def test_retention_is_paid_while_suspended(accredited_log):
    log = accredited_log
    active_pact(log, retention=15)
    for n in range(3):
        log.commit(2, "B", f"b{n}", 2)          # B suspended from day 3, fines 60 -> B: 10 liquid
    log.incident(5, "M1", "p", "i1", "B", 15)
    log.incident(5, "M2", "p", "i1", "B", 15)
    engine = log.engine()
    assert engine.view()["actors"]["B"]["suspended"] is True
    assert balance(engine, "B")[0] == 0
    assert engine.view()["incidents"]["p"]["i1"]["B"]["settlement"]["uncovered"] == 5
