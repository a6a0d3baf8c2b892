"""Shared fixtures: deterministic keys, entry factories and fresh logs on a fixed clock.

Imports of ledger modules happen inside the fixtures so that a test module that needs none of them
does not depend on them.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def log_signer():
    from support import ORIGIN, make_signer

    return make_signer(ORIGIN)


@pytest.fixture
def alice():
    from support import make_signer

    return make_signer("alice.example")


@pytest.fixture
def bob():
    from support import make_signer

    return make_signer("bob.example")


@pytest.fixture
def make_entry():
    from support import EntryFactory

    return EntryFactory()


@pytest.fixture
def clock():
    from support import T0

    return lambda: T0 + 60


@pytest.fixture
def log(tmp_path, log_signer, clock):
    from ledger.log import Log

    with Log.create(str(tmp_path / "log.db"), log_signer, clock=clock) as opened:
        yield opened
