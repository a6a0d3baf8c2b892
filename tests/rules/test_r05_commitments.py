"""R5 commitments: quorum verdicts, inclusive deadlines, default breach at D+1."""

from __future__ import annotations

from .builder import codes


def test_a_fulfilled_attestation_on_the_deadline_day_counts(accredited_log):
    log = accredited_log
    log.commit(3, "A", "c1", 10)
    log.attest(10, "M1", "c1", "FULFILLED")
    resolving = log.attest(10, "M2", "c1", "FULFILLED")
    engine = log.engine()
    c = engine.view(11)["commitments"]["c1"]
    assert (c["status"], c["resolved_day"], c["resolved_index"]) == ("FULFILLED", 10, resolving)
    assert engine.view(11)["actors"]["A"]["level"] == 0


def test_no_proof_by_the_deadline_is_a_breach_on_the_next_day(accredited_log):
    log = accredited_log
    log.commit(3, "A", "c1", 10)
    one = log.attest(10, "M1", "c1", "FULFILLED")
    late = log.attest(11, "M2", "c1", "FULFILLED")
    engine = log.engine()
    assert codes(log.outcomes, [one, late]) == [None, "CLOSED"]
    c = engine.view()["commitments"]["c1"]
    assert (c["status"], c["resolved_day"], c["resolved_index"]) == ("BREACHED", 11, None)


def test_the_default_is_visible_as_of_d_plus_1_without_entries(accredited_log):
    log = accredited_log
    log.commit(3, "A", "c1", 10)
    engine = log.engine()
    assert engine.view(10)["commitments"]["c1"]["status"] == "OPEN"
    assert engine.view(11)["commitments"]["c1"]["status"] == "BREACHED"
    assert engine.view(11)["actors"]["A"]["level"] == 1
    assert engine.day == 3      # asking did not move the engine


def test_the_first_verdict_to_reach_k_wins(accredited_log):
    log = accredited_log
    log.commit(1, "B", "c1", 20)
    log.attest(2, "M1", "c1", "BREACHED")
    log.attest(2, "M2", "c1", "FULFILLED")
    resolving = log.attest(3, "M3", "c1", "FULFILLED")
    after = log.attest(3, "M4", "c1", "BREACHED")
    engine = log.engine()
    assert codes(log.outcomes, [resolving, after]) == [None, "CLOSED"]
    assert engine.view()["commitments"]["c1"]["status"] == "FULFILLED"


def test_a_breach_by_quorum_takes_effect_on_its_entry_day(accredited_log):
    log = accredited_log
    log.commit(1, "B", "c1", 20)
    log.attest(4, "M1", "c1", "BREACHED")
    log.attest(5, "M2", "c1", "BREACHED")
    engine = log.engine()
    c = engine.view()["commitments"]["c1"]
    assert (c["status"], c["resolved_day"]) == ("BREACHED", 5)
    assert engine.view(25)["commitments"]["c1"]["resolved_day"] == 5      # no default afterwards


def test_deadlines_before_the_entry_day_are_invalid_and_checked_before_duplicates(accredited_log):
    log = accredited_log
    log.commit(5, "A", "c1", 5)                 # deadline = entry day: valid
    past_dup = log.commit(5, "A", "c1", 4)
    dup = log.commit(5, "A", "c1", 6)
    other_actor = log.commit(5, "B", "c1", 6)   # ids are global across actors
    log.engine()
    assert codes(log.outcomes, [past_dup, dup, other_actor]) == ["INVALID_DEADLINE", "DUPLICATE_ID", "DUPLICATE_ID"]


def test_attestation_roles_and_subjects(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)
    by_actor = log.add(1, "ATTEST", "A", {"commitment": "c1", "verdict": "FULFILLED"})
    unknown = log.attest(1, "M1", "nope", "FULFILLED")
    bad_verdict = log.add(1, "ATTEST", "M1", {"commitment": "c1", "verdict": "fulfilled"})
    wrong_committer = log.add(1, "COMMIT", "B", {"actor": "A", "id": "c2", "deadline": 9})
    log.engine()
    assert codes(log.outcomes, [by_actor, unknown, bad_verdict, wrong_committer]) == [
        "WRONG_ROLE", "UNKNOWN_SUBJECT", "MALFORMED", "WRONG_ROLE"]
