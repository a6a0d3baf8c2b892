"""R3 monitors and counting: accreditation terms, revocation, conflicts, duplicates, k (C7-C10)."""

from __future__ import annotations

from .builder import Log, balance, codes


def test_a_non_counting_monitor_does_not_use_up_its_vote(log):
    log.claim(1, "A", "k1", 40)
    early = log.verify(1, "M1", "k1", 40)                  # M1 never accredited
    log.accredit(2, "M1", "M2")
    later = log.verify(2, "M1", "k1", 40)                  # now it counts
    issuing = log.verify(2, "M2", "k1", 40)
    engine = log.engine()
    assert log.outcome(early)[2:4] == ("MONITOR_NOT_COUNTING", "NOT_ACCREDITED")
    assert codes(log.outcomes, [later, issuing]) == [None, None]
    assert balance(engine, "A")[0] == 36


def test_a_term_covers_days_d_to_d_plus_364(log):
    log.accredit(0, "M1", "M2")
    log.claim(0, "A", "k1", 10)
    last_day = log.verify(364, "M1", "k1", 10)
    expired = log.verify(365, "M2", "k1", 10)
    engine = log.engine()
    assert log.outcome(last_day).code is None
    assert log.outcome(expired)[2:4] == ("MONITOR_NOT_COUNTING", "EXPIRED")
    assert engine.view()["claims"]["k1"]["status"] == "PENDING"


def test_accreditation_as_of_a_day():
    log = Log()
    log.accredit(10, "M1")
    engine = log.engine()
    assert engine.view(10)["monitors"]["M1"]["accredited"] is True
    assert engine.view(374)["monitors"]["M1"]["accredited"] is True
    assert engine.view(375)["monitors"]["M1"]["accredited"] is False


def test_revocation_is_not_retroactive(log):
    log.accredit(0, "M1", "M2")
    log.claim(5, "A", "k1", 50)
    counted = log.verify(9, "M1", "k1", 50)
    revoke = log.revoke(10, "M1")
    after = log.verify(10, "M1", "k1", 50)                       # not counting is checked before duplicate
    issuing = log.verify(10, "M2", "k1", 60)
    engine = log.engine()
    assert codes(log.outcomes, [counted, revoke, issuing]) == [None, None, None]
    assert log.outcome(after)[2:4] == ("MONITOR_NOT_COUNTING", "REVOKED")
    claim = engine.view()["claims"]["k1"]
    assert claim["status"] == "ISSUED" and sorted(claim["verifiers"]) == ["M1", "M2"]
    assert claim["issued"]["amount"] == 50
    assert engine.view()["monitors"]["M1"]["terms"][0]["end"] == 9


def test_sub_causes_follow_the_most_recently_started_term(log):
    log.accredit(0, "M1", "M2", "M3")
    log.revoke(100, "M1")                                              # M1: 0..99 cut
    log.accredit(200, "M1", nonce="again")                             # M1: 200..564, expires
    log.approve(300, ("G1", "G2"), action="ACCREDIT", monitor="M2", nonce="renew")   # M2: 300..664
    log.revoke(400, "M2")                                              # cuts only the current term
    log.revoke(400, "M4")                                              # never accredited: effective, no change
    log.commit(600, "A", "c1", 700)
    m1 = log.attest(600, "M1", "c1", "FULFILLED")
    m2 = log.attest(600, "M2", "c1", "FULFILLED")
    m4 = log.attest(600, "M4", "c1", "FULFILLED")
    engine = log.engine()
    assert log.outcome(m1)[2:4] == ("MONITOR_NOT_COUNTING", "EXPIRED")
    assert log.outcome(m2)[2:4] == ("MONITOR_NOT_COUNTING", "REVOKED")
    assert log.outcome(m4)[2:4] == ("MONITOR_NOT_COUNTING", "NOT_ACCREDITED")
    m2_terms = engine.view()["monitors"]["M2"]["terms"]
    assert [(t["start"], t["end"], t["revoked"]) for t in m2_terms] == [(0, 364, False), (300, 399, True)]


def test_a_term_accredited_and_revoked_the_same_day_is_empty_but_revoked(log):
    log.accredit(7, "M1")
    log.revoke(7, "M1")
    log.commit(7, "A", "c1", 9)
    index = log.attest(7, "M1", "c1", "FULFILLED")
    engine = log.engine()
    assert log.outcome(index)[2:4] == ("MONITOR_NOT_COUNTING", "REVOKED")
    term = engine.view()["monitors"]["M1"]["terms"][0]
    assert (term["start"], term["end"], term["revoked"]) == (7, 6, True)


def test_conflicts_exclude_a_monitor_for_one_actor_only(accredited_log):
    log = accredited_log
    declared = log.conflict(1, "M1", "A")
    by_governor = log.conflict(1, "M2", "A", signers=("G3",))
    by_both = log.conflict(1, "M2", "A", signers=("M2", "G1"))       # a repeat: effective, no change
    by_other = log.conflict(1, "M3", "A", signers=("M4",))
    log.commit(1, "A", "ca", 10)
    log.commit(1, "B", "cb", 10)
    on_a = log.attest(2, "M1", "ca", "FULFILLED")
    on_b = log.attest(2, "M1", "cb", "FULFILLED")
    engine = log.engine()
    assert codes(log.outcomes, [declared, by_governor, by_both, by_other]) == [None, None, None, "WRONG_ROLE"]
    assert log.outcome(on_a)[2:4] == ("MONITOR_NOT_COUNTING", "CONFLICT")
    assert log.outcome(on_b).code is None
    assert engine.view()["monitors"]["M2"]["conflicts"] == {"A": {"index": by_governor, "day": 1}}


def test_accreditation_is_checked_before_conflict(log):
    log.conflict(0, "M1", "A")
    log.commit(0, "A", "c1", 5)
    index = log.attest(1, "M1", "c1", "BREACHED")
    log.engine()
    assert log.outcome(index)[2:4] == ("MONITOR_NOT_COUNTING", "NOT_ACCREDITED")


def test_a_conflict_is_not_retroactive(accredited_log):
    log = accredited_log
    log.claim(1, "A", "k1", 20)
    log.verify(1, "M1", "k1", 20)
    log.conflict(2, "M1", "A")
    issuing = log.verify(3, "M2", "k1", 20)
    engine = log.engine()
    assert log.outcome(issuing).code is None
    assert engine.view()["claims"]["k1"]["status"] == "ISSUED"


def test_each_monitor_counts_once_per_subject_and_verdict(accredited_log):
    log = accredited_log
    log.claim(1, "A", "k1", 20)
    first = log.verify(1, "M1", "k1", 20)
    again = log.verify(1, "M1", "k1", 25)
    log.commit(1, "B", "c1", 9)
    f = log.attest(2, "M1", "c1", "FULFILLED")
    b = log.attest(2, "M1", "c1", "BREACHED")          # the other verdict: counts too (C8)
    f2 = log.attest(2, "M1", "c1", "FULFILLED")
    engine = log.engine()
    assert codes(log.outcomes, [first, again, f, b, f2]) == [None, "DUPLICATE_MONITOR", None, None, "DUPLICATE_MONITOR"]
    assert engine.view()["commitments"]["c1"]["status"] == "OPEN"


def test_closed_is_checked_before_counting(accredited_log):
    log = accredited_log
    log.fund(1, "A", 10, cid="k1")
    stranger = log.add(2, "VERIFY", "M5", {"claim": "k1", "amount": 10})
    log.revoke(3, "M5")
    revoked = log.verify(3, "M5", "k1", 10)
    log.engine()
    assert codes(log.outcomes, [stranger, revoked]) == ["CLOSED", "CLOSED"]


def test_a_monitor_that_counted_and_was_revoked_does_not_count_again(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 50)
    log.attest(2, "M1", "c1", "FULFILLED")
    log.revoke(3, "M1")
    again = log.attest(4, "M1", "c1", "BREACHED")
    log.engine()
    assert log.outcome(again)[2:4] == ("MONITOR_NOT_COUNTING", "REVOKED")


def test_k_is_three_for_a_flagged_actor(accredited_log):
    log = accredited_log
    for value in (48, 49, 47, 47):                      # HUGGING bio_uplift
        log.self_report(1, "A", value)
    log.claim(1, "A", "k1", 30)
    log.verify(2, "M1", "k1", 30)
    second = log.verify(2, "M2", "k1", 30)
    engine_after_two = log.engine()
    third = log.verify(2, "M3", "k1", 30)
    engine = log.engine()
    assert engine_after_two.view()["claims"]["k1"]["status"] == "PENDING"
    assert log.outcome(second).code is None and log.outcome(third).code is None
    assert engine.view()["claims"]["k1"]["status"] == "ISSUED"


def test_a_drop_of_k_resolves_only_at_the_next_counting_entry(accredited_log):
    log = accredited_log
    log.adopt2(0, "ADOPT", version=2, effective_day=1, changes={"K_ATTEST": 3})
    log.claim(1, "A", "k1", 100)
    log.verify(1, "M1", "k1", 90)
    log.verify(1, "M2", "k1", 80)
    log.adopt2(1, "ADOPT", version=3, effective_day=3, changes={"K_ATTEST": 1})
    log.self_report(3, "A", 10)                              # an unrelated entry on day 3
    pending = log.engine()
    resolving = log.verify(3, "M3", "k1", 95)
    engine = log.engine()
    assert pending.view(3)["claims"]["k1"]["status"] == "PENDING"
    assert log.outcome(resolving).code is None
    issued = engine.view()["claims"]["k1"]["issued"]
    assert (issued["index"], issued["amount"], issued["buffer"]) == (resolving, 80, 8)


def test_a_rise_of_k_does_not_undo_a_resolution(accredited_log):
    log = accredited_log
    log.fund(1, "A", 100, cid="k1")
    for value in (48, 49, 47, 47):
        log.self_report(2, "A", value)
    engine = log.engine()
    assert engine.view()["claims"]["k1"]["status"] == "ISSUED"
    assert balance(engine, "A")[0] == 90
