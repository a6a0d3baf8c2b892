"""Test support: deterministic keys and an entry factory (imported by tests and conftest)."""

from __future__ import annotations

import hashlib
import sqlite3

from ledger import entry as entries
from ledger.note import Signer

ORIGIN = "example.org/testlog"
T0 = 1_767_268_800  # 2026-01-01T12:00:00Z


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def make_signer(name: str) -> Signer:
    return Signer(name, seed(name))


class EntryFactory:
    """Signs entries for a log, keeping each signer's sequence numbers and a steady clock."""

    def __init__(self, origin: str = ORIGIN):
        self.origin = origin
        self.seqs: dict[str, int] = {}
        self.time = T0

    def __call__(self, signer: Signer, *, type: str = "NOTE", body: dict | None = None,
                 seq: int | None = None, time: int | None = None, cosigners=()) -> bytes:
        if seq is None:
            seq = self.seqs.get(signer.vkey, 0) + 1
        self.seqs[signer.vkey] = max(seq, self.seqs.get(signer.vkey, 0))
        statement = entries.make_statement(
            log=self.origin, type=type, signer=signer.vkey, seq=seq,
            time=self.time if time is None else time, body=body if body is not None else {"n": seq},
        )
        return entries.sign(statement, [signer, *cosigners]).raw


def dump_database(path) -> list:
    """Every row of every table: what "nothing stored was changed" compares."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()) for t in tables]
    finally:
        conn.close()
