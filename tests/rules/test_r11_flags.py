"""R11 gaming flags: HUGGING below a threshold, DIVERGENCE of audits from self-reports (C17)."""

from __future__ import annotations

from .builder import Log, codes


def flags(view, actor):
    return view["actors"][actor]["flags"]


def test_hugging_needs_three_of_the_last_four_reports_in_the_band(accredited_log):
    log = accredited_log
    for value in (48, 49, 47):
        log.self_report(1, "A", value)
    three = log.engine().view()
    log.self_report(2, "A", 60)                    # [48, 49, 47, 60]: 3 in 47..49
    four = log.engine().view()
    log.self_report(3, "A", 61)                    # [49, 47, 60, 61]: 2
    engine = log.engine()
    assert flags(three, "A")["hugging"] == []
    assert flags(four, "A")["hugging"] == ["bio_uplift"]
    assert flags(engine.view(), "A")["hugging"] == []


def test_the_band_is_theta_minus_3_to_theta_minus_1(accredited_log):
    log = accredited_log
    for value in (46, 50, 47, 49):
        log.self_report(1, "B", value)
    engine = log.engine()
    assert flags(engine.view(), "B")["hugging"] == []


def test_flags_use_entries_earlier_in_the_log(accredited_log):
    log = accredited_log
    for value in (48, 49, 47):
        log.self_report(1, "A", value)
    log.claim(1, "A", "k1", 10)
    log.verify(1, "M1", "k1", 10)                   # counts, k = 2 (not yet flagged)
    log.self_report(1, "A", 48)                     # flagged from here on: k = 3
    second = log.verify(1, "M2", "k1", 10)
    pending = log.engine().view()
    log.verify(1, "M3", "k1", 10)
    engine = log.engine()
    assert log.outcome(second).code is None and pending["claims"]["k1"]["status"] == "PENDING"
    assert engine.view()["claims"]["k1"]["status"] == "ISSUED"


def test_divergence_threshold_is_strictly_more_than_ten_percent(accredited_log):
    log = accredited_log
    log.self_report(1, "A", 60)
    log.audit(2, "M1", "A", 50)                     # |60-50| * 100 = 1000 > 500: divergent
    log.self_report(3, "A", 55)
    log.audit(4, "M2", "A", 50)                     # 500 > 500 is false
    log.audit(5, "M3", "B", 50)                     # B never self-reported: not divergent
    log.self_report(6, "C", 1)
    log.audit(6, "M1", "C", 0)                      # 100 > 0: divergent
    engine = log.engine()
    assert engine.st.divergent["A"][0] == [2]
    assert "B" not in engine.st.divergent
    assert engine.st.divergent["C"][0] == [6]


def test_divergence_window_is_t_minus_89_to_t(accredited_log):
    log = accredited_log
    log.self_report(1, "A", 80)
    log.audit(10, "M1", "A", 50)
    log.audit(99, "M2", "A", 50)
    engine = log.engine()
    assert log.asof(98)["actors"]["A"]["flags"]["divergence"] is False
    assert flags(engine.view(99), "A")["divergence"] is True
    assert flags(engine.view(100), "A")["divergence"] is False


def test_divergence_counts_all_metrics_together_and_latest_report_per_metric():
    log = Log(changes={"METRICS": {"bio_uplift": {"theta": 50, "band": 3}, "cyber": {"theta": 20, "band": 2}}})
    log.accredit(0, "M1", "M2")
    log.self_report(1, "A", 30, metric="cyber")
    log.self_report(1, "A", 50, metric="bio_uplift")
    log.audit(2, "M1", "A", 20, metric="cyber")         # vs 30: divergent
    log.audit(2, "M2", "A", 50, metric="bio_uplift")    # vs 50: not
    log.audit(3, "M2", "A", 40, metric="bio_uplift")    # vs 50: 1000 > 400, divergent
    engine = log.engine()
    assert log.asof(2)["actors"]["A"]["flags"]["divergence"] is False      # one divergent audit
    assert flags(engine.view(3), "A") == {"hugging": [], "divergence": True}


def test_only_counting_audits_are_recorded(log):
    log.accredit(0, "M1")
    log.self_report(1, "A", 90)
    counted = log.audit(2, "M1", "A", 50)
    not_counted = log.audit(2, "M2", "A", 50)
    again = log.audit(3, "M1", "A", 50)             # the same monitor may audit again
    engine = log.engine()
    assert codes(log.outcomes, [counted, again]) == [None, None]
    assert log.outcome(not_counted)[2:4] == ("MONITOR_NOT_COUNTING", "NOT_ACCREDITED")
    assert flags(engine.view(), "A")["divergence"] is True


def test_unknown_metrics_and_bad_values(accredited_log):
    log = accredited_log
    unknown_report = log.self_report(1, "A", 5, metric="cyber")
    unknown_audit = log.add(1, "AUDIT", "M1", {"actor": "A", "metric": "cyber", "value": 5})
    negative = log.self_report(1, "A", -1)
    negative_audit = log.audit(1, "M1", "A", -1)
    other = log.add(1, "SELF_REPORT", "B", {"actor": "A", "metric": "bio_uplift", "value": 5})
    engine = log.engine()
    assert codes(log.outcomes, [unknown_report, unknown_audit, negative, negative_audit, other]) == [
        "UNKNOWN_METRIC", "UNKNOWN_METRIC", "MALFORMED", "MALFORMED", "WRONG_ROLE"]
    assert engine.st.reports == {}


def test_unknown_metric_is_checked_before_counting(log):
    index = log.add(1, "AUDIT", "M1", {"actor": "A", "metric": "cyber", "value": 5})
    log.engine()
    assert log.outcome(index).code == "UNKNOWN_METRIC"


def test_a_metric_retired_by_a_later_version(accredited_log):
    log = accredited_log
    for value in (48, 49, 47, 48):
        log.self_report(1, "A", value)
    log.adopt2(1, "ADOPT", version=2, effective_day=50, changes={"METRICS": {"cyber": {"theta": 20, "band": 2}}})
    late = log.self_report(50, "A", 48)
    engine = log.engine()
    assert log.outcome(late).code == "UNKNOWN_METRIC"
    assert log.asof(49)["actors"]["A"]["flags"]["hugging"] == ["bio_uplift"]
    assert flags(engine.view(50), "A")["hugging"] == []


def test_hugging_parameters_come_from_the_version_in_force(accredited_log):
    log = accredited_log
    for value in (48, 10, 49):
        log.self_report(1, "A", value)
    log.adopt2(1, "ADOPT", version=2, effective_day=10, changes={"HUGGING_OF": 3, "HUGGING_MIN": 2})
    engine = log.engine()
    assert log.asof(9)["actors"]["A"]["flags"]["hugging"] == []
    assert flags(engine.view(10), "A")["hugging"] == ["bio_uplift"]
