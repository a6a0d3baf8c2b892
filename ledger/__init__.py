"""pactlog: an append-only cryptographic commitment ledger.

Pure modules (no I/O): errors, merkle, proof, note, checkpoint, canonical, entry,
bundle, policy, verify, rules.  Stateful modules: keys (key files), store (the only
module that touches SQLite), log (the append-only log over a store).
"""

__version__ = "0.1.0"
