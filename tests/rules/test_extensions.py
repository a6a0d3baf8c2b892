"""Seed mechanisms beyond RS-1 (spec section 13): each off unless the genesis declares it."""

from __future__ import annotations

import hashlib

import pytest

from ledger.rules import genesis_problem
from ledger.rules.announce import announcements

from .builder import Log, codes, fake_vkey

ALL = ["capability_jump", "coalition", "evidence", "metric_sunset", "whistleblower"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ext_log(*extensions, **kwargs):
    log = Log(extensions=list(extensions), **kwargs)
    log.accredit(0, "M1", "M2", "M3")
    return log


# --- plain RS-1 is untouched ------------------------------------------------------------------


def test_plain_rs1_knows_no_extension_entry_parameter_or_action(accredited_log):
    log = accredited_log
    entries = [
        log.add(1, "EVIDENCE", "A", {"actor": "A", "id": "e", "digest": sha("x"), "label": "secret"}),
        log.add(1, "EXIT", "A", {"name": "A"}),
        log.add(1, "WHISTLE", "M1", {"id": "w", "about": "A", "evidence": sha("x"), "reporter": sha("y")}),
        log.approve(1, "G1", action="ADOPT", version=2, effective_day=5, changes={"JUMP_PCT": 10}),
        log.approve(1, "G1", action="ADMIT", role="actor", name="E", key="k"),
        log.approve(1, "G1", action="OMBUD", monitor="M1"),
    ]
    engine = log.engine()
    assert codes(log.outcomes, entries) == ["MALFORMED"] * len(entries)
    view = engine.view()
    assert "extensions" not in view["ruleset"] and "JUMP_PCT" not in view["ruleset"]["versions"][0]["params"]
    assert set(view["actors"]["A"]["flags"]) == {"hugging", "divergence"}


@pytest.mark.parametrize("extensions", [["nope"], ["evidence", "coalition"], ["evidence", "evidence"], "evidence", [1]])
def test_bad_extension_declarations_reject_the_genesis(extensions):
    body = Log().genesis_body
    body["ruleset"]["extensions"] = extensions
    assert genesis_problem(body)


def test_declared_extensions_add_their_defaults():
    view = Log(extensions=ALL).engine().view()
    assert view["ruleset"]["extensions"] == ALL
    params = view["ruleset"]["versions"][0]["params"]
    assert (params["JUMP_PCT"], params["JUMP_WINDOW"], params["WHISTLE_WINDOW"]) == (50, 30, 30)
    assert view["actors"]["A"]["flags"] == {"hugging": [], "divergence": False, "capability_jump": [], "whistle": False}
    assert view["exited"] == {} and view["evidence"] == {} and view["whistles"] == {} and view["ombuds"] == {}


# --- capability jump -----------------------------------------------------------------------------


def test_a_capability_jump_raises_k_for_the_window():
    log = ext_log("capability_jump")
    log.self_report(1, "A", 10)
    log.self_report(2, "A", 15)                       # +50 %: not more than 50 %
    log.self_report(3, "A", 23)                       # +53 %: a jump dated day 3
    log.claim(3, "A", "k1", 10)
    log.verify(3, "M1", "k1", 10)
    log.verify(3, "M2", "k1", 10)                     # k = 3: pending
    engine = log.engine()
    assert log.asof(2)["actors"]["A"]["flags"]["capability_jump"] == []
    assert engine.view(3)["claims"]["k1"]["status"] == "PENDING"
    assert engine.view(32)["actors"]["A"]["flags"]["capability_jump"] == ["bio_uplift"]
    assert engine.view(33)["actors"]["A"]["flags"]["capability_jump"] == []


def test_jump_pct_zero_switches_the_flag_off():
    log = ext_log("capability_jump")
    log.adopt2(0, "ADOPT", version=2, effective_day=5, changes={"JUMP_PCT": 0})
    log.self_report(1, "A", 10)
    log.self_report(1, "A", 40)
    engine = log.engine()
    assert engine.view(4)["actors"]["A"]["flags"]["capability_jump"] == ["bio_uplift"]
    assert engine.view(5)["actors"]["A"]["flags"]["capability_jump"] == []


# --- metric sunset -------------------------------------------------------------------------------


def test_reports_on_a_retired_metric_are_metric_retired():
    log = ext_log("metric_sunset")
    log.adopt2(0, "ADOPT", version=2, effective_day=10, changes={"METRICS": {"cyber": {"theta": 20, "band": 2}}})
    before = log.self_report(9, "A", 40)
    retired = log.self_report(10, "A", 40)
    audit = log.audit(10, "M1", "A", 40)
    never = log.self_report(10, "A", 40, metric="chem")
    log.engine()
    assert codes(log.outcomes, [before, retired, audit, never]) == [None, "METRIC_RETIRED", "METRIC_RETIRED", "UNKNOWN_METRIC"]


# --- confidential evidence -----------------------------------------------------------------------


def test_evidence_is_committed_checked_and_revealed():
    log = ext_log("evidence")
    commit = log.add(1, "EVIDENCE", "A", {"actor": "A", "id": "e1", "digest": sha("red team report"), "label": "confidential"})
    bad_digest = log.add(1, "EVIDENCE", "A", {"actor": "A", "id": "e2", "digest": sha("x").upper(), "label": "c"})
    duplicate = log.add(1, "EVIDENCE", "B", {"actor": "B", "id": "e1", "digest": sha("y"), "label": "c"})
    check1 = log.add(2, "EVIDENCE_CHECK", "M1", {"evidence": "e1"})
    again = log.add(2, "EVIDENCE_CHECK", "M1", {"evidence": "e1"})
    check2 = log.add(2, "EVIDENCE_CHECK", "M2", {"evidence": "e1"})
    late = log.add(2, "EVIDENCE_CHECK", "M3", {"evidence": "e1"})
    unknown = log.add(3, "REVEAL", "A", {"evidence": "zz", "content": "x"})
    other = log.add(3, "REVEAL", "B", {"evidence": "e1", "content": "red team report"})
    wrong = log.add(3, "REVEAL", "A", {"evidence": "e1", "content": "red team report!"})
    right = log.add(3, "REVEAL", "A", {"evidence": "e1", "content": "red team report"})
    twice = log.add(3, "REVEAL", "A", {"evidence": "e1", "content": "red team report"})
    engine = log.engine()
    assert codes(log.outcomes, [commit, bad_digest, duplicate, check1, again, check2, late, unknown, other, wrong,
                                right, twice]) == [
        None, "MALFORMED", "DUPLICATE_ID", None, "DUPLICATE_MONITOR", None, "CLOSED", "UNKNOWN_SUBJECT",
        "WRONG_ROLE", "REVEAL_MISMATCH", None, "CLOSED"]
    record = engine.view()["evidence"]["e1"]
    assert (record["status"], record["confirmed_index"], record["revealed_index"]) == ("REVEALED", check2, right)
    assert log.asof(2)["evidence"]["e1"]["status"] == "CONFIRMED"


# --- coalition formation and power balance ----------------------------------------------------


def test_admission_and_exit():
    log = ext_log("coalition")
    key = fake_vkey("E")
    log.approve(1, ("G1", "G2"), action="ADMIT", role="actor", name="E", key=key)
    existing = log.approve(1, ("G1", "G2"), action="ADMIT", role="monitor", name="A", key=fake_vkey("A2"))
    used = log.approve(1, ("G1", "G2"), action="ADMIT", role="monitor", name="M9", key=log.keys["B"])
    claim = log.add(1, "CLAIM", key, {"actor": "E", "id": "k1", "amount": 10})
    log.verify(1, "M1", "k1", 10)
    log.verify(1, "M2", "k1", 10)
    log.commit(1, "A", "c1", 3)
    exit_a = log.add(2, "EXIT", "A", {"name": "A"})
    after = log.claim(2, "A", "k2", 10)
    governor_exit = log.add(2, "EXIT", "G1", {"name": "G1"})
    exit_m = log.add(2, "EXIT", "M3", {"name": "M3"})
    engine = log.engine()
    assert codes(log.outcomes, [existing, used, claim, exit_a, after, governor_exit, exit_m]) == [
        "DUPLICATE_ID", "KEY_IN_USE", None, None, "WRONG_ROLE", "MALFORMED", None]
    view = engine.view(4)
    assert view["actors"]["E"]["liquid"] == 9 and view["cast"]["actors"]["E"] == key
    assert view["exited"] == {"A": exit_a, "M3": exit_m}
    assert view["commitments"]["c1"]["status"] == "BREACHED"          # A's record keeps following the rules
    assert view["monitors"]["M3"]["accredited"] is False


def test_a_key_rotation_does_not_bring_an_exited_member_back():
    log = ext_log("coalition")
    log.add(1, "EXIT", "B", {"name": "B"})
    new = fake_vkey("B", 1)
    log.approve(1, ("G1", "G2"), action="ROTATE_KEY", name="B", new_key=new)
    claim = log.add(2, "CLAIM", new, {"actor": "B", "id": "k", "amount": 5})
    engine = log.engine()
    assert log.outcome(claim).code == "WRONG_ROLE" and engine.view()["cast"]["actors"]["B"] == new


def test_the_governor_set_changes_only_with_the_old_quorum_and_the_newcomers():
    log = ext_log("coalition")
    g4 = fake_vkey("G4")
    new_set = {"G1": log.keys["G1"], "G2": log.keys["G2"], "G4": g4}
    log.approve(1, "G1", action="SET_GOVERNORS", governors=new_set)
    old_quorum = log.approve(1, "G3", action="SET_GOVERNORS", governors=new_set)     # G4 has not approved yet
    newcomer = log.add(1, "APPROVE", g4, {"proposal": {"action": "SET_GOVERNORS", "governors": new_set}})
    outsider = log.approve(2, "G3", action="ACCREDIT", monitor="M4")
    g4_approves = log.add(2, "APPROVE", g4, {"proposal": {"action": "ACCREDIT", "monitor": "M4"}})
    log.approve(2, "G1", action="ACCREDIT", monitor="M4")
    stranger = log.add(2, "APPROVE", fake_vkey("G5"), {"proposal": {"action": "SET_GOVERNORS", "governors": {"G6": fake_vkey("G6")}}})
    engine = log.engine()
    assert codes(log.outcomes, [old_quorum, newcomer, outsider, g4_approves, stranger]) == [
        None, None, "WRONG_ROLE", None, "WRONG_ROLE"]
    view = engine.view()
    assert view["cast"]["governors"] == new_set
    assert view["monitors"]["M4"]["accredited"] is True


def test_a_governor_set_too_small_for_the_quorum_is_refused():
    log = ext_log("coalition")
    keep_key = Log().keys["G1"]
    log.approve(1, "G1", action="SET_GOVERNORS", governors={"G1": keep_key})
    closing = log.approve(1, "G2", action="SET_GOVERNORS", governors={"G1": keep_key})
    changed_key = log.approve(1, "G1", action="SET_GOVERNORS", governors={"G1": fake_vkey("G1", 5), "G2": log.keys["G2"]})
    actor_name = log.approve(1, "G1", action="SET_GOVERNORS", governors={"A": fake_vkey("A", 5), "G2": log.keys["G2"]})
    engine = log.engine()
    assert codes(log.outcomes, [closing, changed_key, actor_name]) == ["QUORUM_UNREACHABLE", "MALFORMED", "MALFORMED"]
    assert list(engine.view()["cast"]["governors"]) == ["G1", "G2", "G3"]


# --- whistleblowers ------------------------------------------------------------------------------


def test_whistle_reports_raise_k_and_can_never_count_against_their_reporter():
    log = ext_log("whistleblower")
    by_monitor = log.add(1, "WHISTLE", "M1", {"id": "w1", "about": "A", "evidence": sha("memo"), "reporter": sha("B\nsalt")})
    log.approve(1, ("G1", "G2"), action="OMBUD", monitor="M1")
    relayed = log.add(1, "WHISTLE", "M1", {"id": "w1", "about": "A", "evidence": sha("memo"), "reporter": sha("B\nsalt")})
    self_report = log.add(1, "WHISTLE", "M1", {"id": "w2", "about": "C", "evidence": sha("x"), "reporter": sha("C\npepper")})
    log.claim(2, "A", "k1", 10)
    log.verify(2, "M1", "k1", 10)
    log.verify(2, "M2", "k1", 10)                                # k = 3 for A: pending
    mismatch = log.add(3, "WHISTLE_REVEAL", "M1", {"whistle": "w1", "reporter": "B", "salt": "SALT", "content": "memo"})
    not_ombud = log.add(3, "WHISTLE_REVEAL", "M2", {"whistle": "w1", "reporter": "B", "salt": "salt", "content": "memo"})
    revealed = log.add(3, "WHISTLE_REVEAL", "M1", {"whistle": "w1", "reporter": "B", "salt": "salt", "content": "memo"})
    void = log.add(3, "WHISTLE_REVEAL", "M1", {"whistle": "w2", "reporter": "C", "salt": "pepper", "content": "x"})
    engine = log.engine()
    assert codes(log.outcomes, [by_monitor, relayed, self_report, mismatch, not_ombud, revealed, void]) == [
        "WRONG_ROLE", None, None, "REVEAL_MISMATCH", "WRONG_ROLE", None, None]
    view = engine.view()
    assert view["claims"]["k1"]["status"] == "PENDING"
    assert view["whistles"]["w1"]["status"] == "REVEALED" and view["whistles"]["w2"]["status"] == "VOID"
    assert view["actors"]["A"]["flags"]["whistle"] is True
    assert view["actors"]["C"]["flags"]["whistle"] is False          # void: never counts against C
    assert engine.view(31)["actors"]["A"]["flags"]["whistle"] is False


# --- common knowledge ----------------------------------------------------------------------------


def test_a_sanction_is_announced_once_its_entries_are_witnessed(accredited_log):
    log = accredited_log
    commit = log.commit(1, "A", "c1", 2)                      # default on day 3
    log.commit(1, "B", "c2", 9)
    a1 = log.attest(4, "M1", "c2", "BREACHED")
    a2 = log.attest(4, "M2", "c2", "BREACHED")
    engine = log.engine()
    early = announcements(engine, witnessed_size=commit, as_of=4)
    assert early["A"] == {"level": 1, "announced": False, "entries": [commit], "unwitnessed": [commit]}
    later = announcements(engine, witnessed_size=a2 + 1, as_of=4)
    assert later["A"]["announced"] and later["B"] == {"level": 1, "announced": True, "entries": [commit + 1, a1, a2],
                                                      "unwitnessed": []}
    assert announcements(engine, witnessed_size=a2, as_of=4)["B"]["unwitnessed"] == [a2]


EXTENSION_GOOD = {
    "EVIDENCE": ("A", {"actor": "A", "id": "e", "digest": "0" * 64, "label": "confidential"}),
    "EVIDENCE_CHECK": ("M1", {"evidence": "e"}),
    "REVEAL": ("A", {"evidence": "e", "content": "x"}),
    "EXIT": ("A", {"name": "A"}),
    "WHISTLE": ("M1", {"id": "w", "about": "A", "evidence": "0" * 64, "reporter": "1" * 64}),
    "WHISTLE_REVEAL": ("M1", {"whistle": "w", "reporter": "B", "salt": "s", "content": "x"}),
}


def _bad_bodies():
    from .test_forms import bad_variants

    for type_, (signer, body) in EXTENSION_GOOD.items():
        for label, bad in bad_variants(type_, body):
            yield type_, label, signer, bad


@pytest.mark.parametrize("type_,label,signer,body", list(_bad_bodies()), ids=lambda v: v if isinstance(v, str) else "")
def test_bad_extension_bodies_are_malformed(type_, label, signer, body):
    log = Log(extensions=ALL)
    index = log.add(1, type_, signer, body)
    log.engine()
    assert log.outcome(index).code == "MALFORMED"


@pytest.mark.parametrize("type_", sorted(EXTENSION_GOOD))
def test_good_extension_bodies_pass_the_form_check(type_):
    log = Log(extensions=ALL)
    signer, body = EXTENSION_GOOD[type_]
    index = log.add(1, type_, signer, body)
    log.engine()
    assert log.outcome(index).code != "MALFORMED"


def test_extension_facts_are_explained():
    from ledger.rules.explain import explain

    log = ext_log("capability_jump", "evidence", "whistleblower")
    log.self_report(1, "A", 10)
    jump = log.self_report(1, "A", 30)
    e = log.add(1, "EVIDENCE", "A", {"actor": "A", "id": "e1", "digest": sha("doc"), "label": "secret"})
    bad = log.add(2, "REVEAL", "A", {"evidence": "e1", "content": "other"})
    log.approve(2, ("G1", "G2"), action="OMBUD", monitor="M2")
    w = log.add(2, "WHISTLE", "M2", {"id": "w", "about": "A", "evidence": sha("x"), "reporter": sha("B\ns")})
    engine = log.engine()
    flags = explain(engine, "flags", "A")
    assert flags["value"]["capability_jump"] == ["bio_uplift"] and flags["value"]["whistle"] is True
    assert [r["index"] for r in flags["determining"]] == [jump, w]
    evidence = explain(engine, "evidence", "e1")
    assert [r["index"] for r in evidence["determining"]] == [e]
    assert [(r["index"], r["code"]) for r in evidence["not_counted"]] == [(bad, "REVEAL_MISMATCH")]
