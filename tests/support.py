"""Test support: deterministic keys and an entry factory (imported by tests and conftest)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

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


def dump_database(path, *, derived: bool = True) -> list:
    """Every row of every table: what "nothing stored was changed" compares. ``derived=False``
    leaves out the derived-state cache (``derived_*`` tables), which any command may bring up to date."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
                  if derived or not r[0].startswith("derived_")]
        return [(t, conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()) for t in tables]
    finally:
        conn.close()


ROOT = Path(__file__).resolve().parent.parent


def pactlog_command() -> list[str]:
    """The installed `pactlog` script beside this interpreter, else the module."""
    script = Path(sys.executable).parent / "pactlog"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


class CliRunner:
    """Runs `pactlog` in a work directory (its own $PACTLOG_DB, no passphrase from the caller's
    environment) and checks the exit code; ``json`` also checks the JSON envelope."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.env = {**os.environ, "PACTLOG_DB": str(workdir / "log.db"), "PYTHONPATH": str(ROOT)}
        self.env.pop("PACTLOG_PASSPHRASE", None)

    def __call__(self, *args: str, code: int = 0, input: bytes | None = None,
                 env: dict | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run([*pactlog_command(), *args], cwd=self.workdir, input=input, capture_output=True,
                              env={**self.env, **(env or {})}, timeout=300)
        assert done.returncode == code, (args, done.returncode, done.stdout[-3000:], done.stderr[-3000:])
        return done

    def json(self, *args: str, code: int = 0, **kwargs) -> dict:
        data = json.loads(self(*args, "--json", code=code, **kwargs).stdout)
        assert data["exit_code"] == code and data["ok"] == (code == 0)
        return data
