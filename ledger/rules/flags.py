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
from ledger.rules.reasons import UNKNOWN_METRIC, Reject
from ledger.rules.roles import monitor_signer, require_signer


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


def flagged(st, actor: str, day: int) -> bool:
    """Whether ``actor`` carries any R11 flag on ``day`` (from the entries applied so far)."""
    if actor in st.divergent and divergence(st, actor, day):
        return True
    return actor in st.reports and bool(hugging_metrics(st, actor, day))


def quorum(st, actor: str, day: int) -> int:
    """k for a subject concerning ``actor`` at an entry of ``day``: K_ENHANCED if flagged (R3)."""
    params = st.params(day)
    return params["K_ENHANCED"] if flagged(st, actor, day) else params["K_ATTEST"]


def on_self_report(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(SELF_REPORT, body, st)
    actor, metric = body["actor"], body["metric"]
    require_signer(st, ev, actor)
    if metric not in st.params(day)["METRICS"]:
        raise Reject(UNKNOWN_METRIC, f"metric {metric!r} is not in the table in force on day {day}")
    st.reports.setdefault(actor, {}).setdefault(metric, []).append([body["value"], ev.index, day])


def on_audit(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(AUDIT, body, st)
    monitor = monitor_signer(st, ev)
    actor, metric, audited = body["actor"], body["metric"], body["value"]
    params = st.params(day)
    if metric not in params["METRICS"]:
        raise Reject(UNKNOWN_METRIC, f"metric {metric!r} is not in the table in force on day {day}")
    require_counting(st, monitor, actor, day)
    reports = st.reports.get(actor, {}).get(metric)
    if reports and abs(reports[-1][0] - audited) * 100 > params["DIVERGENCE_PCT"] * audited:
        record = st.divergent.setdefault(actor, [[], []])
        record[0].append(day)
        record[1].append(ev.index)
