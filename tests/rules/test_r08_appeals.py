"""R8 appeals: filing window E+14, stays F..F+30, UPHOLD / OVERTURN / lapse (C15)."""

from __future__ import annotations

from .builder import balance, codes


def test_appeal_on_day_e_plus_14_is_valid_and_on_e_plus_15_is_late(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)         # E = 10
    log.commit(1, "A", "c2", 9)         # E = 10
    on_time = log.appeal(24, "A", "c1")
    late = log.appeal(25, "A", "c2")
    log.engine()
    assert codes(log.outcomes, [on_time, late]) == [None, "APPEAL_WINDOW_CLOSED"]


def test_a_stay_lasts_f_to_f_plus_30_then_the_appeal_lapses(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)         # E = 10
    log.appeal(12, "A", "c1")           # stayed on days 12..42
    engine = log.engine()
    assert [log.asof(d)["actors"]["A"]["level"] for d in (11, 12, 42, 43)] == [1, 0, 0, 1]
    assert engine.view(42)["commitments"]["c1"]["appeal"]["status"] == "PENDING"
    assert engine.view(42)["commitments"]["c1"]["stayed"] is True
    assert engine.view(43)["commitments"]["c1"]["appeal"]["status"] == "LAPSED"
    assert engine.view(43)["commitments"]["c1"]["stayed"] is False


def test_uphold_ends_the_stay_on_its_day_but_not_for_earlier_entries_of_that_day(accredited_log):
    log = accredited_log
    log.fund(1, "A", 200)               # A: 180
    for cid in ("c1", "c2", "c3"):
        log.commit(1, "A", cid, 2)      # three breaches on day 3: fines 10, 20, 30 -> A: 120
    log.appeal(4, "A", "c3")            # level 2 while stayed
    before = log.transfer(20, "A", "B", 10)
    decision = log.decide(20, "c3", "UPHOLD")
    after = log.transfer(20, "A", "B", 10)
    engine = log.engine()
    assert codes(log.outcomes, [before, decision, after]) == [None, None, "SUSPENDED"]
    view = engine.view(20)
    assert view["actors"]["A"]["level"] == 3
    assert view["commitments"]["c3"]["appeal"]["status"] == "UPHELD"
    assert view["commitments"]["c3"]["appeal"]["decided_day"] == 20


def test_overturn_voids_and_refunds_the_fine_actually_paid(accredited_log):
    log = accredited_log
    log.fund(1, "A", 17)                # N 17, B 1 -> A: 16
    log.commit(1, "A", "c1", 2)         # E 3: L 1, fine 10 -> A: 6
    log.commit(1, "A", "c2", 4)         # E 5: L 2, fine 20, paid 6, unpaid 14 -> A: 0
    log.appeal(6, "A", "c2")
    log.decide(8, "c2", "OVERTURN")
    engine = log.engine()
    a7 = log.asof(7)["actors"]["A"]
    assert (a7["liquid"], a7["fines_outstanding"]) == (0, 14)
    assert balance(engine, "A", 8) == (6, 0, 0, 0)
    view = engine.view(8)
    assert view["system"]["BUFFER"] == 1 + 10 + 6 - 6
    assert view["commitments"]["c2"]["status"] == "VOIDED"
    assert view["commitments"]["c2"]["appeal"]["status"] == "OVERTURNED"
    assert view["actors"]["A"]["level"] == 1
    assert view["actors"]["A"]["leaderboard"] == {"fulfilled": 0, "breached": 1, "voided": 1, "kept": 0}


def test_decision_deadline_is_f_plus_30(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)         # E = 10
    log.commit(1, "A", "c2", 9)
    log.appeal(12, "A", "c1")           # decide by day 42
    log.appeal(12, "A", "c2")
    last_day = log.decide(42, "c1", "UPHOLD")
    again = log.approve(42, ("G2", "G3"), action="DECIDE", commitment="c1", decision="OVERTURN", nonce="retry")
    too_late = log.decide(43, "c2", "OVERTURN")
    log.engine()
    assert codes(log.outcomes, [last_day, again, too_late]) == [None, "DECISION_WINDOW_CLOSED", "DECISION_WINDOW_CLOSED"]


def test_decide_requires_a_known_appealed_commitment(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)
    unknown = log.decide(11, "nope", "UPHOLD")
    not_appealed = log.decide(11, "c1", "UPHOLD", governors=("G2", "G3"))
    log.engine()
    assert codes(log.outcomes, [unknown, not_appealed]) == ["UNKNOWN_SUBJECT", "NOT_APPEALED"]


def test_appeal_checks_in_order(accredited_log):
    log = accredited_log
    log.commit(1, "A", "open", 50)
    log.commit(1, "A", "done", 50)
    log.commit(1, "A", "c1", 2)         # E = 3
    log.attest(2, "M1", "done", "FULFILLED")
    log.attest(2, "M2", "done", "FULFILLED")
    monitor_unknown = log.add(4, "APPEAL", "M1", {"commitment": "nope"})
    actor_unknown = log.appeal(4, "B", "nope")
    not_committer = log.appeal(4, "B", "c1")
    still_open = log.appeal(4, "A", "open")
    fulfilled = log.appeal(4, "A", "done")
    first = log.appeal(4, "A", "c1")
    second = log.appeal(5, "A", "c1")
    log.decide(6, "c1", "OVERTURN")
    voided = log.appeal(7, "A", "c1")
    two_signers = log.add(7, "APPEAL", ("A", "A"), {"commitment": "c1"})
    log.engine()
    assert codes(log.outcomes, [monitor_unknown, actor_unknown, not_committer, still_open, fulfilled, first,
                                second, voided, two_signers]) == [
        "WRONG_ROLE", "UNKNOWN_SUBJECT", "WRONG_ROLE", "NOT_BREACHED", "NOT_BREACHED", None,
        "ALREADY_APPEALED", "NOT_BREACHED", "WRONG_ROLE"]


def test_filing_window_and_stay_use_the_version_in_force_on_f(accredited_log):
    log = accredited_log
    log.adopt2(0, "ADOPT", version=2, effective_day=20, changes={"APPEAL_FILING_DAYS": 20, "APPEAL_DECISION_DAYS": 5})
    log.commit(1, "A", "c1", 9)         # E = 10
    log.appeal(25, "A", "c1")           # E + 15: late under v1, valid under v2 (in force on day 25)
    engine = log.engine()
    assert log.outcomes[-1].code is None
    assert engine.view(30)["commitments"]["c1"]["appeal"]["stay_end"] == 30
    assert engine.view(31)["commitments"]["c1"]["appeal"]["status"] == "LAPSED"
