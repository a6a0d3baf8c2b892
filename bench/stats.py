"""Small statistics and timing helpers shared by the measurements."""

from __future__ import annotations

import gc
import math
import resource
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in (0, 1]); the median for 0.5 of an odd count."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summary(samples: Sequence[float]) -> dict:
    """Median, p99 and count of a list of durations in seconds."""
    return {"median": median(samples), "p99": percentile(samples, 0.99), "n": len(samples)}


@contextmanager
def paused_gc():
    """Collect once, then keep the garbage collector off: a collection triggered by earlier
    allocations is not billed to one unlucky sample (nor does a sweep before every sample leave the
    CPU caches cold)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def time_each(calls: Sequence[Callable[[], object]]) -> list[float]:
    """Run each call once and return its duration in seconds (garbage collector paused)."""
    durations = []
    clock = time.perf_counter
    with paused_gc():
        for call in calls:
            start = clock()
            call()
            durations.append(clock() - start)
    return durations


def time_within(call: Callable[[int], object], count: int, budget: float) -> list[float]:
    """Durations of ``call(0)``, ``call(1)``... until ``count`` calls or ``budget`` seconds are spent
    (at least one call): how pymerkle's slow operations are capped."""
    durations: list[float] = []
    clock = time.perf_counter
    spent_from = clock()
    for i in range(count):
        start = clock()
        call(i)
        durations.append(clock() - start)
        if clock() - spent_from >= budget:
            break
    return durations


@contextmanager
def stopwatch():
    """``with stopwatch() as elapsed: ...`` then ``elapsed()`` is the block's duration in seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far.

    Linux's ``VmHWM`` (high-water mark of this process's own address space) rather than
    ``getrusage().ru_maxrss``: the latter survives ``exec`` and so starts at the *parent's* peak in a
    subprocess, which would bill the benchmark driver's memory to every job it starts."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
