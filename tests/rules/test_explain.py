"""R14 explanations: rules, version, determining entries, start-of-day effects, not-counted entries."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInput
from ledger.rules.explain import explain

from .builder import Log


@pytest.fixture
def story():
    log = Log()
    log.accredit(0, "M1", "M2", "M3")
    log.claim(1, "A", "k1", 100)
    log.verify(1, "M4", "k1", 100)                  # 5: not accredited
    log.verify(1, "M1", "k1", 100)
    log.verify(1, "M1", "k1", 100)                  # 7: duplicate
    log.verify(1, "M2", "k1", 100)                  # issued: A 90
    log.transfer(2, "A", "B", 500)                  # 9: insufficient funds
    log.commit(2, "A", "c1", 5)                     # 10: default day 6, fine 10
    log.commit(2, "A", "c2", 30)                    # 11
    log.attest(3, "M1", "c2", "BREACHED")
    log.attest(3, "M2", "c2", "BREACHED")           # 13: breach day 3, fine 10
    log.appeal(4, "A", "c2")                        # 14: stayed 4..34
    log.commit(2 + 2, "A", "c3", 4)                 # 15: default day 5, fine 10 (c2 stayed: L 1)
    log.pact(5, "A", "p", {"A": 1, "B": 1}, 2, 0, 10, 1, 7)    # 16: fails day 8
    log.join(5, "A", "p")                           # 17
    return log


def test_balance_explanations_add_up(story):
    engine = story.engine()
    for field in ("liquid", "locked", "retired", "fines"):
        out = explain(engine, "balance", "A", field, as_of=10)
        total = sum(r["delta"] for r in out["determining"] + out["start_of_day"])
        assert total == out["value"] == engine.view(10)["actors"]["A"]["fines_outstanding" if field == "fines" else field]
    liquid = explain(engine, "balance", "A", "liquid", as_of=10)
    assert [r["index"] for r in liquid["determining"]] == [8, 13, 16, 17]
    assert {(r["created_by"], r["day"], r["rule"]) for r in liquid["start_of_day"]} == {
        (15, 5, "R7"), (10, 6, "R7"), (16, 8, "R9")}
    assert liquid["not_counted"] == [{"index": 9, "code": "INSUFFICIENT_FUNDS", "sub": None,
                                      "detail": "A has 90 liquid, needs 500"}]
    assert liquid["rules"] == ["R4", "R7", "R9"] and liquid["ruleset_version"] == 1


def test_claim_explanation_lists_counted_and_not_counted_verifications(story):
    out = explain(story.engine(), "claim", "k1")
    assert [r["index"] for r in out["determining"]] == [4, 6, 8]
    assert [(r["index"], r["code"], r["sub"]) for r in out["not_counted"]] == [
        (5, "MONITOR_NOT_COUNTING", "NOT_ACCREDITED"), (7, "DUPLICATE_MONITOR", None)]


def test_level_explanation_cites_breaches_and_the_stayed_one(story):
    engine = story.engine()
    out = explain(engine, "level", "A", as_of=10)
    assert out["value"] == 2
    assert {(r["created_by"], r["day"]) for r in out["start_of_day"]} == {(15, 5), (10, 6)}
    assert [(r["index"], r["code"]) for r in out["not_counted"]] == [(14, "STAYED")]
    lapsed = explain(engine, "level", "A", as_of=35)
    assert lapsed["value"] == 3
    assert {r["index"] for r in lapsed["determining"]} == {12, 13, 14}
    gone = explain(engine, "level", "A", as_of=200)
    assert gone["value"] == 0 and {r["code"] for r in gone["not_counted"]} == {"OUTSIDE_WINDOW"}


def test_level_explanation_lists_only_the_newest_breaches_before_the_window():
    log = Log()
    for n in range(6):                                  # six defaults, days 1..6, indexes 1..6
        log.commit(0, "A", f"c{n}", n)
    log.commit(200, "A", "late", 200)                   # 7: default day 201, in the window on day 210
    out = explain(log.engine(), "level", "A", as_of=210)
    assert out["value"] == 1
    assert [r["created_by"] for r in out["start_of_day"]] == [7]
    # the three newest of the six old breaches, oldest first; c0..c2 are not listed
    assert [(r["index"], r["code"]) for r in out["not_counted"]] == [(4, "OUTSIDE_WINDOW"), (5, "OUTSIDE_WINDOW"),
                                                                     (6, "OUTSIDE_WINDOW")]


def test_level_explanation_cites_the_newest_breaches_that_prove_the_capped_level():
    log = Log()
    for n in range(5):                                  # five defaults, days 1..5, indexes 1..5
        log.commit(0, "A", f"c{n}", n)
    out = explain(log.engine(), "level", "A", as_of=10)
    assert out["value"] == 3
    assert [r["created_by"] for r in out["start_of_day"]] == [3, 4, 5]
    assert out["not_counted"] == [] and "5 breaches count" in out["what"]


def test_access_explanation_has_its_inputs(story):
    out = explain(story.engine(), "access", "A", as_of=10)
    assert out["value"] is True and out["rules"] == ["R10"]      # level 2, holdings exactly 50
    assert [i["fact"] for i in out["inputs"]] == [["level", "A"], ["balance", "A", "liquid"], ["balance", "A", "locked"]]


def test_pact_commitment_monitor_flags_leaderboard_entry(story):
    engine = story.engine()
    pact = explain(engine, "pact", "p", as_of=8)
    assert pact["value"]["status"] == "FAILED" and pact["start_of_day"][0]["created_by"] == 16
    c2 = explain(engine, "commitment", "c2")
    assert [r["index"] for r in c2["determining"]] == [11, 12, 13, 14]
    monitor = explain(engine, "monitor", "M1")
    assert monitor["determining"][0]["index"] == 1
    assert explain(engine, "flags", "A")["value"] == {"hugging": [], "divergence": False}
    board = explain(engine, "leaderboard", "A", as_of=10)
    assert board["value"]["breached"] == 3 and len(board["start_of_day"]) == 2
    entry = explain(engine, "entry", "7")
    assert entry["value"] == {"effective": False, "code": "DUPLICATE_MONITOR", "sub": None}
    assert explain(engine, "entry", 8)["value"]["effective"] is True
    assert explain(engine, "fines", "A")["value"] == 0
    assert explain(engine, "system", "BUFFER", as_of=10)["value"] == engine.view(10)["system"]["BUFFER"]


def test_cited_indices_exist_and_are_dated_no_later_than_t(story):
    engine = story.engine()
    days = {ev.index: (ev.time - story.events[0].time) // 86_400 for ev in story.events}
    facts = [("balance", "A"), ("level", "A"), ("access", "A"), ("flags", "A"), ("leaderboard", "A"),
             ("commitment", "c1"), ("commitment", "c2"), ("claim", "k1"), ("pact", "p"), ("monitor", "M1")]
    for fact in facts:
        out = explain(engine, *fact, as_of=40)
        stack = [out]
        while stack:
            item = stack.pop()
            stack.extend(item["inputs"])
            for record in item["determining"] + item["not_counted"]:
                assert 0 <= record["index"] <= story.events[-1].index and days[record["index"]] <= 40
            for record in item["start_of_day"]:
                assert record["day"] <= 40 and record["created_by"] in days


def test_incident_explanation():
    log = Log()
    log.accredit(0, "M1", "M2")
    log.pact(1, "A", "p", {"A": 1}, 1, 0, 0, 0, 9)
    log.join(1, "A", "p")
    log.incident(2, "M1", "p", "i", "A", 9)
    log.incident(2, "M2", "p", "i", "A", 7)
    log.incident(2, "M3", "p", "i", "A", 7)
    out = explain(log.engine(), "incident", "p", "i", "A")
    assert out["value"]["settlement"]["damages"] == 7
    assert [r["index"] for r in out["determining"]] == [5, 6]
    assert out["not_counted"][0]["code"] == "CLOSED"


def test_unknown_facts_are_errors(story):
    engine = story.engine()
    for args in [("nope", "A"), ("balance", "Z"), ("balance", "A", "gold"), ("claim", "zz"), ("entry", "999"),
                 ("system", "A"), ("monitor", "A"), ("balance",)]:
        with pytest.raises(InvalidInput):
            explain(engine, *args)
