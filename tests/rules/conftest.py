"""Fixtures for the rules-engine tests."""

from __future__ import annotations

import pytest

from .builder import Log


@pytest.fixture
def log():
    """A fresh RS-1 coalition log: governors G1-G3, actors A-D, monitors M1-M5."""
    return Log()


@pytest.fixture
def accredited_log():
    """A log whose monitors M1-M5 are all accredited on day 0."""
    built = Log()
    built.accredit(0, "M1", "M2", "M3", "M4", "M5")
    return built
