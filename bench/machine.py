"""The machine line of RESULTS.md: what the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import nacl


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # not installed, or no metadata
        return "not installed"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine shows up here."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def revision(repo: str) -> str:
    """The commit measured, marked "+ local changes" when ledger/ differs from it (read-only git)."""
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no", "--", "ledger"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" + local changes in ledger/" if dirty else "")


def describe() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "pynacl": nacl.__version__,
        "pymerkle": _version("pymerkle"),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "executable": sys.executable,
    }


def line(info: dict) -> str:
    memory = f", {info['memory_gib']:.0f} GiB RAM" if info.get("memory_gib") else ""
    return (
        f"{info['cpu']}, {info['cores']} logical cores{memory}; {info['system']}; "
        f"Python {info['python']}, SQLite {info['sqlite']}, PyNaCl {info['pynacl']}, "
        f"pymerkle {info['pymerkle']}; {info['date']}"
    )
