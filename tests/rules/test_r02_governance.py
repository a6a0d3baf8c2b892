"""R2 governance: proposals, quorum, ADOPT versions (C4-C6, C2)."""

from __future__ import annotations

from .builder import balance, codes


def adopt(log, day, version, effective_day, changes, g=("G1", "G2"), **extra):
    return log.adopt2(day, "ADOPT", g=g, version=version, effective_day=effective_day, changes=changes, **extra)


def test_adopt_takes_effect_at_the_second_approval_and_later_approvals_are_closed(log):
    first, second = adopt(log, 0, 2, 5, {"BUFFER_PCT": 20})
    third = log.approve(1, "G3", action="ADOPT", version=2, effective_day=5, changes={"BUFFER_PCT": 20})
    engine = log.engine()
    assert codes(log.outcomes, [first, second, third]) == [None, None, "CLOSED"]
    assert engine.view(4)["ruleset"]["in_force"] == 1
    state = engine.view(5)
    assert state["ruleset"]["in_force"] == 2
    v2 = state["ruleset"]["versions"][1]
    assert (v2["adopted_index"], v2["adopted_day"], v2["effective_day"]) == (second, 0, 5)
    assert v2["params"]["BUFFER_PCT"] == 20 and v2["params"]["K_ATTEST"] == 2
    [proposal] = state["proposals"]
    assert proposal["status"] == "ADOPTED" and proposal["approvals"] == {"G1": first, "G2": second}


def test_each_governor_counts_once(log):
    a = log.approve(0, "G1", action="ACCREDIT", monitor="M1")
    b = log.approve(0, "G1", action="ACCREDIT", monitor="M1")
    c = log.approve(0, ("G1", "G1"), action="ACCREDIT", monitor="M1")
    d = log.approve(1, ("G1", "G2"), action="ACCREDIT", monitor="M1")   # G2 is new: counts, adopts
    engine = log.engine()
    assert codes(log.outcomes, [a, b, c, d]) == [None, "DUPLICATE_APPROVAL", "DUPLICATE_APPROVAL", None]
    assert engine.view()["monitors"]["M1"]["terms"][0]["start"] == 1


def test_one_entry_with_two_governor_signatures_adopts(log):
    index = log.approve(3, ("G2", "G3"), action="ACCREDIT", monitor="M2")
    engine = log.engine()
    assert log.outcome(index).code is None
    assert engine.view()["monitors"]["M2"]["terms"] == [
        {"start": 3, "end": 367, "revoked": False, "index": index, "revoke_index": None}]


def test_only_governors_approve(log):
    by_actor = log.approve(0, "A", action="ACCREDIT", monitor="M1")
    mixed = log.approve(0, ("G1", "M2"), action="ACCREDIT", monitor="M1")
    stranger = log.approve(0, "stranger+00000000+AQ==", action="ACCREDIT", monitor="M1")
    after = log.approve(0, "G2", action="ACCREDIT", monitor="M1")
    engine = log.engine()
    assert codes(log.outcomes, [by_actor, mixed, stranger, after]) == ["WRONG_ROLE"] * 3 + [None]
    # G1's signature in the mixed entry did not count: M1 is still not accredited.
    assert engine.view()["monitors"]["M1"]["terms"] == []


def test_version_gap_is_checked_before_retroactive_and_closes_the_proposal(log):
    first, second = adopt(log, 2, 3, 0, {})
    third = log.approve(3, "G3", action="ADOPT", version=3, effective_day=0, changes={})
    engine = log.engine()
    assert codes(log.outcomes, [first, second, third]) == [None, "VERSION_GAP", "CLOSED"]
    [proposal] = engine.view()["proposals"]
    assert (proposal["status"], proposal["reason"], proposal["closed_index"]) == ("CLOSED", "VERSION_GAP", second)
    assert len(engine.view()["ruleset"]["versions"]) == 1


def test_retroactive_effective_days(log):
    _, past = adopt(log, 4, 2, 3, {})                         # effective before its adoption day
    _, ok = adopt(log, 4, 2, 10, {"FINE_PER_LEVEL": 5})
    _, same_day = adopt(log, 5, 3, 10, {})                    # not after version 2's day 10
    _, later = adopt(log, 5, 3, 11, {})
    log.engine()
    assert codes(log.outcomes, [past, ok, same_day, later]) == ["RETROACTIVE", None, "RETROACTIVE", None]


def test_changes_apply_on_top_of_the_highest_adopted_version(log):
    adopt(log, 0, 2, 10, {"BUFFER_PCT": 20})
    adopt(log, 0, 3, 20, {"FINE_PER_LEVEL": 5, "METRICS": {"cyber": {"theta": 10, "band": 2}}})
    engine = log.engine()
    v3 = engine.view(20)["ruleset"]["versions"][2]["params"]
    assert (v3["BUFFER_PCT"], v3["FINE_PER_LEVEL"]) == (20, 5)
    assert v3["METRICS"] == {"cyber": {"theta": 10, "band": 2}}        # replaces the whole table
    assert engine.view(15)["ruleset"]["in_force"] == 2


def test_each_computation_uses_the_version_in_force_on_its_day(accredited_log):
    log = accredited_log
    adopt(log, 0, 2, 5, {"BUFFER_PCT": 50})
    log.fund(4, "A", 100)          # day 4: version 1, 10 %
    log.fund(5, "B", 100)          # day 5: version 2, 50 %
    engine = log.engine()
    assert balance(engine, "A")[0] == 90 and balance(engine, "B")[0] == 50
    assert engine.view()["system"]["BUFFER"] == 60


def test_a_version_effective_on_its_adoption_day_applies_from_the_adopting_entry_on(accredited_log):
    log = accredited_log
    log.fund(3, "A", 100)                       # earlier the same day: 10 %
    adopt(log, 3, 2, 3, {"BUFFER_PCT": 0})
    log.fund(3, "B", 100)                       # after the adopting entry: 0 %
    engine = log.engine()
    assert balance(engine, "A")[0] == 90 and balance(engine, "B")[0] == 100
    assert engine.view(3)["ruleset"]["in_force"] == 2


def test_malformed_proposals_never_count(log):
    bad = dict(action="ADOPT", version=2, effective_day=1, changes={"NO_SUCH": 1})
    a = log.approve(0, "G1", **bad)
    b = log.approve(0, "G2", **bad)
    c = log.approve(0, "G1", action="ACCREDIT", monitor="A")               # an actor, not a monitor
    d = log.approve(0, "G1", action="DECIDE", commitment="x", decision="MAYBE")
    e = log.approve(0, "G1", action="ADOPT", version=0, effective_day=1, changes={})
    f = log.approve(0, "G1", action="ADOPT", version=2, effective_day=-1, changes={})
    g = log.approve(0, "G1", action="ADOPT", version=2, effective_day=1, changes={"GOV_QUORUM": 4})
    h = log.approve(0, "G1", action="ACCREDIT", monitor="M1", nonce=7)
    i = log.approve(0, "G1", action="ACCREDIT", monitor="M1", extra=1)
    engine = log.engine()
    assert codes(log.outcomes, [a, b, c, d, e, f, g, h, i]) == ["MALFORMED"] * 9
    assert engine.view()["proposals"] == [] and len(engine.view()["ruleset"]["versions"]) == 1


def test_renewal_needs_a_new_nonce(log):
    log.accredit(0, "M1")
    again = log.approve(100, "G1", action="ACCREDIT", monitor="M1")
    renewal = log.approve(100, ("G1", "G3"), action="ACCREDIT", monitor="M1", nonce="2026-renewal")
    empty_nonce = log.approve(101, ("G2", "G3"), action="ACCREDIT", monitor="M1", nonce="")
    engine = log.engine()
    assert codes(log.outcomes, [again, renewal, empty_nonce]) == ["CLOSED", None, None]
    terms = engine.view()["monitors"]["M1"]["terms"]
    assert [(t["start"], t["end"]) for t in terms] == [(0, 364), (100, 464), (101, 465)]


def test_quorum_is_the_value_in_force_and_a_drop_resolves_only_at_a_new_approval(log):
    adopt(log, 0, 2, 1, {"GOV_QUORUM": 3})
    a = log.approve(1, "G1", action="ACCREDIT", monitor="M1")
    b = log.approve(1, "G2", action="ACCREDIT", monitor="M1")            # 2 < 3: still open
    for g in ("G1", "G2", "G3"):
        log.approve(1, g, action="ADOPT", version=3, effective_day=5, changes={"GOV_QUORUM": 2})
    repeat = log.approve(5, "G1", action="ACCREDIT", monitor="M1")       # quorum now 2, but no new approval
    new = log.approve(6, "G3", action="ACCREDIT", monitor="M1")
    engine = log.engine()
    assert codes(log.outcomes, [a, b, repeat, new]) == [None, None, "DUPLICATE_APPROVAL", None]
    assert engine.view()["monitors"]["M1"]["terms"][0]["start"] == 6


def test_a_proposal_closed_as_invalid_stays_closed(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 1)
    first = log.approve(1, "G1", action="DECIDE", commitment="c1", decision="OVERTURN")
    closing = log.approve(1, "G2", action="DECIDE", commitment="c1", decision="OVERTURN")
    log.appeal(2, "A", "c1")                                          # breached by default on day 2
    late = log.approve(2, "G3", action="DECIDE", commitment="c1", decision="OVERTURN")
    engine = log.engine()
    assert codes(log.outcomes, [first, closing, late]) == [None, "NOT_APPEALED", "CLOSED"]
    assert engine.view()["commitments"]["c1"]["status"] == "BREACHED"
