"""R6 sanction level: breaches in the window E .. E+179, capped at 3 (C14)."""

from __future__ import annotations


def levels(engine, actor, days):
    return [engine.view(d)["actors"][actor]["level"] for d in days]


def test_a_breach_counts_on_days_e_to_e_plus_179(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)            # breached by default, E = 10
    engine = log.engine()
    assert levels(engine, "A", [9, 10, 189, 190]) == [0, 1, 1, 0]


def test_the_level_is_capped_at_three(accredited_log):
    log = accredited_log
    for n in range(5):
        log.commit(1, "A", f"c{n}", 2 + n)  # breaches on days 3..7
    engine = log.engine()
    assert levels(engine, "A", [3, 4, 5, 6, 7]) == [1, 2, 3, 3, 3]
    state = engine.view(7)["actors"]["A"]
    assert state["suspended"] is True
    # The window releases them one by one: E = 3, 4, 5, 6, 7 -> counted through E + 179.
    assert levels(engine, "A", [182, 183, 184, 185, 186, 187]) == [3, 3, 3, 2, 1, 0]


def test_the_window_is_the_one_in_force_on_t_for_old_breaches_too(accredited_log):
    log = accredited_log
    log.commit(1, "A", "c1", 9)                                     # E = 10
    log.adopt2(1, "ADOPT", version=2, effective_day=100, changes={"SANCTION_WINDOW": 60})
    log.adopt2(1, "ADOPT", version=3, effective_day=300, changes={"SANCTION_WINDOW": 400})
    engine = log.engine()
    # day 99: window 180 (10 >= 99-179); day 100: window 60 (10 < 41); day 300: window 400 (10 >= -99).
    assert levels(engine, "A", [99, 100, 299, 300, 409, 410]) == [1, 0, 0, 1, 1, 0]


def test_levels_are_per_actor(accredited_log):
    log = accredited_log
    log.commit(1, "A", "a1", 1)
    log.commit(1, "B", "b1", 1)
    log.commit(1, "B", "b2", 1)
    engine = log.engine()
    assert levels(engine, "A", [2]) == [1] and levels(engine, "B", [2]) == [2]
    assert levels(engine, "C", [2]) == [0]
