"""The pactlog rules engine: RS-1 (specs/rules-rs1.md) as a pure, incremental fold over a log.

Pure: no I/O, no wall clock, no randomness; integer arithmetic only.  The log core
verifies entries and hands them over as :class:`Event` values; :class:`Engine`
derives balances, sanction levels, access, pacts, flags and the leaderboard, with
a reason code for every ineffective entry and an explanation for every value.
"""

from ledger.rules.digest import canonical_bytes
from ledger.rules.engine import Engine, replay
from ledger.rules.events import ENTRY_TYPES, Event, day_of
from ledger.rules.genesis import genesis_problem, require_valid_genesis
from ledger.rules.params import RS1_DEFAULTS
from ledger.rules.reasons import ALL_CODES, Outcome

__all__ = [
    "ALL_CODES", "ENTRY_TYPES", "Engine", "Event", "Outcome", "RS1_DEFAULTS", "canonical_bytes",
    "day_of", "genesis_problem", "replay", "require_valid_genesis",
]
