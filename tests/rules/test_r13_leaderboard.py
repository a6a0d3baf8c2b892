"""R13 leaderboard: fulfilled, breached (stayed included), voided (excluded), kept % floored."""

from __future__ import annotations


def settle(log, day, cid, verdict, monitors=("M1", "M2")):
    for m in monitors:
        log.attest(day, m, cid, verdict)


def test_leaderboard_lines(accredited_log):
    log = accredited_log
    for cid in ("a1", "a2", "a3"):
        log.commit(1, "A", cid, 20)
    log.commit(1, "C", "c1", 2)                  # default breach on day 3
    log.commit(1, "C", "c2", 2)
    log.commit(1, "D", "d1", 2)
    log.commit(1, "D", "d2", 20)
    settle(log, 2, "a1", "FULFILLED")
    settle(log, 2, "a2", "FULFILLED")
    settle(log, 2, "a3", "BREACHED")
    settle(log, 2, "d2", "FULFILLED")
    log.appeal(4, "C", "c1")
    log.appeal(4, "C", "c2")                     # stays pending: still counted as breached
    log.decide(5, "c1", "OVERTURN")
    log.appeal(4 + 1, "D", "d1")
    engine = log.engine()
    board = {x: engine.view()["actors"][x]["leaderboard"] for x in "ABCD"}
    assert board["A"] == {"fulfilled": 2, "breached": 1, "voided": 0, "kept": 66}
    assert board["B"] == {"fulfilled": 0, "breached": 0, "voided": 0, "kept": None}
    assert board["C"] == {"fulfilled": 0, "breached": 1, "voided": 1, "kept": 0}
    assert board["D"] == {"fulfilled": 1, "breached": 1, "voided": 0, "kept": 50}


def test_open_commitments_are_not_on_the_board(accredited_log):
    log = accredited_log
    log.commit(1, "B", "b1", 100)
    engine = log.engine()
    assert engine.view()["actors"]["B"]["leaderboard"]["kept"] is None
