"""Gaming flags (R11, C17): self-reports hugging a threshold, audits diverging from them.

HUGGING is per metric of the table in force on T; DIVERGENCE counts the actor's
divergent audits of all metrics together within the window in force on T.  Flags
only raise the attester quorum k (R3).
"""

from __future__ import annotations

from bisect import bisect_left

from ledger.rules import forms
from ledger.rules.events import AUDIT, SELF_REPORT
from ledger.rules.monitors import require_counting
from ledger.rules.reasons import METRIC_RETIRED, UNKNOWN_METRIC, Reject
from ledger.rules.roles import monitor_signer, require_signer
from ledger.rules.whistle import whistle_flag


def hugging_metrics(st, actor: str, day: int) -> list[str]:
    """The metrics on which ``actor`` is HUGGING on ``day``, sorted."""
    by_metric = st.reports.get(actor)
    if not by_metric:
        return []
    params = st.params(day)
    of, minimum, table = params["HUGGING_OF"], params["HUGGING_MIN"], params["METRICS"]
    found = []
    for metric in sorted(by_metric):
        spec = table.get(metric)
        reports = by_metric[metric]
        if spec is None or len(reports) < of:
            continue
        low, high = spec["theta"] - spec["band"], spec["theta"] - 1
        in_band = sum(1 for value, _, _ in reports[-of:] if low <= value <= high)
        if in_band >= minimum:
            found.append(metric)
    return found


def divergent_in_window(st, actor: str, day: int) -> tuple[int, int]:
    """(position of the first divergent audit in the window, count in window) for ``actor``."""
    record = st.divergent.get(actor)
    if not record:
        return 0, 0
    days = record[0]
    start = bisect_left(days, day - st.params(day)["DIVERGENCE_WINDOW"] + 1)
    return start, len(days) - start


def divergence(st, actor: str, day: int) -> bool:
    return divergent_in_window(st, actor, day)[1] >= st.params(day)["DIVERGENCE_MIN"]


def jump_metrics(st, actor: str, day: int) -> list[str]:
    """Capability-jump extension: metrics with a jump dated in [day - JUMP_WINDOW + 1, day], sorted;
    nothing while JUMP_PCT is 0 (the switch)."""
    record = st.jumps.get(actor)
    params = st.params(day)
    if not record or not params.get("JUMP_PCT"):
        return []
    start = bisect_left(record[0], day - params["JUMP_WINDOW"] + 1)
    return sorted(set(record[2][start:]))


def flagged(st, actor: str, day: int) -> bool:
    """Whether ``actor`` carries any flag on ``day`` (from the entries applied so far)."""
    if actor in st.divergent and divergence(st, actor, day):
        return True
    if actor in st.jumps and jump_metrics(st, actor, day):
        return True
    if actor in st.whistled and whistle_flag(st, actor, day):
        return True
    return actor in st.reports and bool(hugging_metrics(st, actor, day))


def quorum(st, actor: str, day: int) -> int:
    """k for a subject concerning ``actor`` at an entry of ``day``: K_ENHANCED if flagged (R3)."""
    params = st.params(day)
    return params["K_ENHANCED"] if flagged(st, actor, day) else params["K_ATTEST"]


def on_self_report(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(SELF_REPORT, body, st)
    actor, metric, value = body["actor"], body["metric"], body["value"]
    require_signer(st, ev, actor)
    require_metric(st, metric, day)
    reports = st.reports.setdefault(actor, {}).setdefault(metric, [])
    if reports and "capability_jump" in st.extensions:
        _note_jump(st, actor, metric, reports[-1][0], value, ev.index, day)
    reports.append([value, ev.index, day])


def _note_jump(st, actor: str, metric: str, previous: int, value: int, index: int, day: int) -> None:
    """A self-report rising by more than JUMP_PCT % over the previous one of its metric is a jump."""
    pct = st.params(day)["JUMP_PCT"]
    if pct and (value - previous) * 100 > pct * previous:
        record = st.jumps.setdefault(actor, [[], [], []])
        record[0].append(day)
        record[1].append(index)
        record[2].append(metric)


def require_metric(st, metric: str, day: int) -> None:
    """UNKNOWN_METRIC unless ``metric`` is in the table in force on ``day`` (C17); with the
    metric-sunset extension, a metric an earlier version had is METRIC_RETIRED instead."""
    if metric in st.params(day)["METRICS"]:
        return
    if "metric_sunset" in st.extensions and any(
            metric in v["params"]["METRICS"] for v in st.versions if v["effective_day"] <= day):
        raise Reject(METRIC_RETIRED, f"metric {metric!r} was retired before day {day}")
    raise Reject(UNKNOWN_METRIC, f"metric {metric!r} is not in the table in force on day {day}")


def on_audit(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(AUDIT, body, st)
    monitor = monitor_signer(st, ev)
    actor, metric, audited = body["actor"], body["metric"], body["value"]
    params = st.params(day)
    require_metric(st, metric, day)
    require_counting(st, monitor, actor, day)
    reports = st.reports.get(actor, {}).get(metric)
    if reports and abs(reports[-1][0] - audited) * 100 > params["DIVERGENCE_PCT"] * audited:
        record = st.divergent.setdefault(actor, [[], []])
        record[0].append(day)
        record[1].append(ev.index)
