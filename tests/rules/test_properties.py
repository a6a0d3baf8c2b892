"""Invariants I1-I5 on random coalition logs, and incremental = replay = restored (I3)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from ledger.rules import Engine, replay

from .builder import EPOCH
from .generate import coalition_log

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day_of(ev) -> int:
    return (ev.time - EPOCH) // 86_400


def views_by_day(events):
    """State as of every day that has an entry, and the day after the last, from one pass;
    also the snapshot taken at the end of each day (for I2 via restore)."""
    engine = Engine()
    views, snapshots = {}, {}
    engine.apply(events[0])
    for previous, ev in zip(events, events[1:]):
        if previous.index and day_of(ev) != day_of(previous):
            views[day_of(previous)] = engine.view(day_of(previous))
            snapshots[day_of(previous)] = engine.snapshot()
        engine.apply(ev)
    last = day_of(events[-1]) if len(events) > 1 else 0
    views[last] = engine.view(last)
    views[last + 1] = engine.view(last + 1)
    return engine, views, snapshots


def check_conservation_and_signs(view):
    system = view["system"]
    holdings = sum(a["liquid"] + a["locked"] + a["retired"] for a in view["actors"].values())
    assert holdings + system["BUFFER"] + system["VICTIM"] + system["escrow"] == system["issued"]       # I1
    for a in view["actors"].values():                                                                   # I5
        assert min(a["liquid"], a["locked"], a["retired"], a["fines_outstanding"]) >= 0
        assert 0 <= a["level"] <= 3
    assert min(system.values()) >= 0
    assert system["escrow"] == sum(p["escrow"] for p in view["pacts"].values())
    for name, a in view["actors"].items():
        assert a["locked"] == sum(p["joined"].get(name, 0) for p in view["pacts"].values())


@SETTINGS
@given(coalition_log())
def test_conservation_and_no_negatives_every_day(events):
    _, views, _ = views_by_day(events)
    for view in views.values():
        check_conservation_and_signs(view)


@SETTINGS
@given(coalition_log())
def test_incremental_equals_replay_and_restore(events):
    incremental = Engine()
    for ev in events:
        incremental.apply(ev)
        incremental.digest()                      # queries (and projections) must not disturb anything
        incremental.digest(incremental.day + 7)
    full = replay(events)
    assert incremental.digest() == full.digest() == replay(events).digest()
    assert incremental.snapshot() == full.snapshot()
    half = len(events) // 2
    resumed = Engine.restore(replay(events[:half]).snapshot())
    for ev in events[half:]:
        resumed.apply(ev)
    assert resumed.snapshot() == full.snapshot()
    assert Engine.restore(full.snapshot()).digest(full.day + 400) == full.digest(full.day + 400)


@SETTINGS
@given(coalition_log())
def test_prefix_consistency_via_snapshots(events):
    _, views, snapshots = views_by_day(events)
    days = sorted(snapshots)
    for day in list(views)[:-1]:
        cut = [ev for ev in events if ev.index == 0 or day_of(ev) <= day]
        assert replay(cut).view(day) == views[day]                                      # I2
        earlier = [d for d in days if d < day]
        if earlier:
            engine = Engine.restore(snapshots[earlier[-1]])
            for ev in events:
                if ev.index and day_of(ev) == day:
                    engine.apply(ev)
            assert engine.view(day) == views[day]


def essentials(view):
    actors = {name: (a["liquid"], a["locked"], a["retired"], a["fines_outstanding"], a["level"], a["access"],
                     a["leaderboard"]) for name, a in view["actors"].items()}
    return (actors, view["system"], {cid: c["status"] for cid, c in view["commitments"].items()},
            {pid: (p["status"], p["joined"]) for pid, p in view["pacts"].items()},
            {cid: c["status"] for cid, c in view["claims"].items()}, view["ruleset"]["versions"])


@SETTINGS
@given(coalition_log())
def test_ineffective_entries_are_inert(events):
    engine = Engine()
    outcomes = [engine.apply(ev) for ev in events]
    if outcomes[0].code is not None:
        return
    kept = [ev for ev, outcome in zip(events, outcomes) if outcome.code is None]
    _, full_views, _ = views_by_day(events)
    reduced = Engine()
    reduced_outcomes = [reduced.apply(ev) for ev in kept]
    assert all(o.code is None for o in reduced_outcomes)                                   # I4
    _, reduced_views, _ = views_by_day(kept)
    for day, view in full_views.items():
        if day in reduced_views:
            assert essentials(reduced_views[day]) == essentials(view)
    last = max(full_views)
    assert essentials(reduced.view(last)) == essentials(full_views[last])
