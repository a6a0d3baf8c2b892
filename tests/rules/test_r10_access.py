"""R10 access: level <= 2 and holdings (liquid + locked) >= ACCESS_MIN of the day."""

from __future__ import annotations


def access(view, actor):
    return view["actors"][actor]["access"]


def test_holdings_threshold_counts_locked_credits(accredited_log):
    log = accredited_log
    log.fund(1, "A", 56)                           # A: 51
    exactly = log.engine().view()
    log.pact(2, "B", "p", {"A": 1}, 5, 0, 30, 0, 9)
    log.join(2, "A", "p")                          # 21 liquid + 30 locked
    locked = log.engine().view()
    log.transfer(3, "A", "B", 2)                   # holdings 49
    engine = log.engine()
    assert access(exactly, "A") is True
    assert access(locked, "A") is True and locked["actors"]["A"]["holdings"] == 51
    assert access(engine.view(), "A") is False


def test_suspension_removes_access_whatever_the_holdings(accredited_log):
    log = accredited_log
    log.fund(1, "A", 1000)
    log.commit(1, "A", "c1", 1)
    log.commit(1, "A", "c2", 1)
    log.commit(1, "A", "c3", 2)
    engine = log.engine()
    assert (engine.view(2)["actors"]["A"]["level"], access(engine.view(2), "A")) == (2, True)
    assert (engine.view(3)["actors"]["A"]["level"], access(engine.view(3), "A")) == (3, False)


def test_outstanding_fines_do_not_reduce_holdings(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 1)                    # fine 10, all outstanding
    log.fund(3, "A", 56)                           # A: 51
    engine = log.engine()
    a = engine.view()["actors"]["A"]
    assert (a["holdings"], a["fines_outstanding"], a["access"]) == (51, 10, True)


def test_access_min_is_the_value_in_force_on_t(accredited_log):
    log = accredited_log
    log.fund(1, "A", 45)                           # A: 41 (B = 4)
    log.adopt2(1, "ADOPT", version=2, effective_day=30, changes={"ACCESS_MIN": 40})
    engine = log.engine()
    assert [access(engine.view(d), "A") for d in (29, 30)] == [False, True]


def test_no_holdings_no_access(log):
    engine = log.engine()
    assert all(access(engine.view(), x) is False for x in "ABCD")
