"""The machine's own limits, measured in the same run as the figures they are compared with.

* Ed25519 verification: PyNaCl ``VerifyKey.verify`` on the corpus entries' own signatures and
  signed messages, one core, key objects built beforehand: no parsing, no Python around it.
* A durable commit: one row of an entry's size inserted and committed in a bare SQLite table with
  the log's pragmas (WAL, synchronous=FULL), nothing else.
* A bundle's bare cryptography: its Ed25519 checks and its SHA-256 node hashes, inputs prepared.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

import nacl.signing

from ledger.entry import decode_entry, ed25519_verifier

from .stats import median


def prepare_signature_checks(datas: Iterable[bytes]) -> list[tuple[nacl.signing.VerifyKey, bytes, bytes]]:
    """(key, signed message, signature) for every signature of the given entries."""
    keys: dict[str, nacl.signing.VerifyKey] = {}
    checks = []
    for data in datas:
        entry = decode_entry(data)
        message = entry.statement.signing_message()
        for signature in entry.signatures:
            key = keys.get(signature.key)
            if key is None:
                key = keys[signature.key] = nacl.signing.VerifyKey(ed25519_verifier(signature.key).public_key)
            checks.append((key, message, signature.sig))
    return checks


def ed25519_verify_rate(checks: list[tuple[nacl.signing.VerifyKey, bytes, bytes]], passes: int = 3) -> float:
    """Signatures verified per second on one core (median of ``passes`` passes over ``checks``)."""
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        for key, message, signature in checks:
            key.verify(message, signature)
        rates.append(len(checks) / (time.perf_counter() - start))
    return median(rates)


class BareCommits:
    """A bare SQLite table committed one row at a time with the log's durability pragmas."""

    def __init__(self, path: str):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE rows(idx INTEGER PRIMARY KEY, data BLOB NOT NULL)")

    def commit(self, data: bytes) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO rows(data) VALUES (?)", (data,))
        conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)


@dataclass
class BareBundleWork:
    """The cryptography a bundle verification cannot avoid: its signature checks and node hashes."""

    signatures: list[tuple[nacl.signing.VerifyKey, bytes, bytes]]
    leaf: bytes  # the entry bytes (hashed once as the leaf)
    siblings: list[bytes]  # the inclusion proof hashes (one node hash each)

    @property
    def hash_count(self) -> int:
        return 1 + len(self.siblings)

    def run(self) -> None:
        for key, message, signature in self.signatures:
            key.verify(message, signature)
        sha256 = hashlib.sha256
        node = sha256(b"\x00" + self.leaf).digest()
        for sibling in self.siblings:
            node = sha256(b"\x01" + sibling + node).digest()
