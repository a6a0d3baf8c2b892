"""The engine's working state: plain JSON-shaped data, so a snapshot is one canonical dump.

Everything here is dicts with string keys, lists, ints, strings, bools and None, so
that ``snapshot()`` (canonical JSON) and ``restore()`` round-trip exactly.  Code
never depends on dict iteration order (canonical JSON sorts keys): wherever order
matters it iterates ``sorted(...)`` or uses lists.  A few lookup caches (current
key owners, the ruleset effective days) are rebuilt after a restore.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right

from ledger.rules.genesis import SYSTEM_ACCOUNTS
from ledger.rules.journal import MemoryJournal
from ledger.rules.records import SPILLABLE, TAIL_LISTS, Records, RecordStore, TailList, tail_slots

# Attributes that make up a snapshot, in one place so save and restore cannot drift apart.
PERSISTED = (
    "rejected", "started", "epoch", "charter", "cast", "keys_used", "rotations", "versions",
    "day", "last_index", "acct", "sys", "terms", "conflicts", "claims", "commitments", "breaches",
    "board", "pacts", "incidents", "proposals", "reports", "divergent", "heap", "sched",
    "ineffective", "track", "prov_acct", "prov_rej", "extensions", "jumps", "evidence", "exited",
    "ombuds", "whistles", "whistled",
)

ROLE_OF_LIST = {"governors": "governor", "actors": "actor", "monitors": "monitor"}


class State:
    """All derived data of one coalition log, up to ``last_index`` / ``day``."""

    def __init__(self, track: bool = True):
        self.rejected = None          # {"index", "code", "detail"} once the log is rejected (C0)
        self.started = False          # a valid genesis was applied
        self.epoch = 0
        self.charter = None
        self.cast = {"governors": {}, "actors": {}, "monitors": {}}   # role -> name -> current vkey
        self.keys_used = {}           # every vkey ever registered -> its name
        self.rotations = []           # [index, name, old vkey, new vkey]
        self.versions = []            # [{"version","effective_day","params","index","day"}], ascending
        self.day = 0                  # the engine's current day (start-of-day effects applied through it)
        self.last_index = -1
        self.acct = {}                # actor -> {"liquid","locked","retired","fines"}
        self.sys = {"BUFFER": 0, "VICTIM": 0, "escrow": 0, "issued": 0, "uncovered": 0}
        self.terms = {}               # monitor -> [[start, end, revoked, index, revoke_index]]
        self.conflicts = {}           # monitor -> {actor: [index, day] of the first declaration}
        self.claims = {}
        self.commitments = {}
        self.breaches = {}            # actor -> [commitment id] in breach order (breach day ascending)
        self.board = {}               # actor -> [fulfilled, breached, voided]
        self.pacts = {}
        self.incidents = {}           # canonical [pact, id, actor] -> incident
        self.proposals = {}           # canonical proposal -> proposal record
        self.reports = {}             # actor -> metric -> [[value, index, day]]
        self.divergent = {}           # actor -> [[days ...], [indices ...]] of divergent audits
        self.heap = []                # heap of days with scheduled start-of-day effects
        self.sched = {}               # str(day) -> [[commitment ids], [pact ids]]
        # The journal's records when it is a MemoryJournal (see ledger/rules/journal.py); empty when a
        # persisted layer keeps them on disk.
        self.ineffective = []         # [index, code, sub] in log order
        self.track = track            # record provenance for explanations
        self.prov_acct = {}           # account -> [[index, day, rule, version, field, delta, subject, creator]]
        self.prov_rej = {}            # subject key -> [[index, code, sub, detail]]
        # Seed mechanisms beyond RS-1 (empty unless the genesis declares them).
        self.extensions = []          # declared extension names, sorted
        self.jumps = {}               # actor -> [[days], [indices], [metrics]] of capability jumps
        self.evidence = {}            # evidence id -> record (hash commitments, checks, reveal)
        self.exited = {}              # name -> index of its EXIT entry
        self.ombuds = {}              # monitor -> index of the approval designating it ombud
        self.whistles = {}            # whistle id -> relayed whistleblower report
        self.whistled = {}            # actor -> [whistle ids about it] in log order
        self.journal = MemoryJournal(self)   # a persisted layer may attach its own (ledger.derived)
        self.spilled_lists = False           # breaches and reports may be TailLists (keep_records_in)
        self.rebuild_caches()

    # --- persistence -------------------------------------------------------------------------

    def to_json(self) -> dict:
        """The persisted attributes; of records kept partly on disk (``Records``), the resident ones."""
        data = {name: getattr(self, name) for name in PERSISTED}
        for name in SPILLABLE:
            if isinstance(data[name], Records):
                data[name] = data[name].resident
        if self.spilled_lists:
            for name in TAIL_LISTS:
                data[name] = _without_tail_lists(name, data[name])
        return data

    def keep_records_in(self, store: RecordStore) -> None:
        """Let ``store`` hold the claims, commitments, pacts and incidents not in use (see
        ledger/rules/records.py): from now on they are ``Records`` over the current dicts."""
        fresh = self.last_index < 0           # given the store before any entry: it sees every eviction
        for name in SPILLABLE:
            current = getattr(self, name)
            resident = current.resident if isinstance(current, Records) else current
            setattr(self, name, Records(name, resident, store, all_evictions_seen=fresh))
        for name in TAIL_LISTS:
            for owner, container, key in tail_slots(name, getattr(self, name)):
                value = container[key]
                if isinstance(value, TailList):
                    value = value.to_json()
                if isinstance(value, dict):          # as persisted: {"offset", "tail"}
                    container[key] = TailList(name, owner, value["offset"], value["tail"], store)
                else:
                    container[key] = TailList(name, owner, 0, value, store)
        self.spilled_lists = True

    @classmethod
    def from_json(cls, data: dict) -> "State":
        state = cls.__new__(cls)
        for name in PERSISTED:
            setattr(state, name, data[name])
        state.journal = MemoryJournal(state)
        state.spilled_lists = False
        state.rebuild_caches()
        return state

    def rebuild_caches(self) -> None:
        self.key_owner = {}
        self.role = {}
        for role, members in self.cast.items():
            for name, vkey in members.items():
                self.role[name] = ROLE_OF_LIST[role]
                if name not in self.exited:        # an exited member can no longer sign
                    self.key_owner[vkey] = name
        self.effective_days = [v["effective_day"] for v in self.versions]
        self._param_day = None
        self._param_version = None

    # --- ruleset versions (R2, D4) ------------------------------------------------------------

    def version_at(self, day: int) -> dict:
        """The ruleset version in force on ``day``: the last adopted one effective on or before it."""
        if day != self._param_day:
            self._param_day = day
            self._param_version = self.versions[bisect_right(self.effective_days, day) - 1]
        return self._param_version

    def params(self, day: int) -> dict:
        return self.version_at(day)["params"]

    def add_version(self, record: dict) -> None:
        self.versions.append(record)
        self.effective_days.append(record["effective_day"])
        self._param_day = None

    # --- identities ---------------------------------------------------------------------------

    def is_actor(self, name) -> bool:
        return self.role.get(name) == "actor"

    def is_monitor(self, name) -> bool:
        return self.role.get(name) == "monitor"

    def set_key(self, name: str, vkey: str, index: int) -> None:
        role = self.role[name] + "s"
        old = self.cast[role][name]
        self.cast[role][name] = vkey
        self.key_owner.pop(old, None)
        if name not in self.exited:        # an exited member stays unable to sign
            self.key_owner[vkey] = name
        self.keys_used[vkey] = name
        self.rotations.append([index, name, old, vkey])

    # --- money --------------------------------------------------------------------------------

    def move(self, name: str, field: str, delta: int, index, day: int, rule: str, subject: str,
             creator=None) -> None:
        """Change one balance and, when tracking, record why (index None = start-of-day effect)."""
        if name in SYSTEM_ACCOUNTS:
            self.sys[name] += delta
        else:
            self.acct[name][field] += delta
        if self.track and delta:
            record = [index, day, rule, self.version_at(day)["version"], field, delta, subject, creator]
            self.journal.add_movement(name, record)

    def note_rejection(self, subjects, index: int, code: str, sub, detail) -> None:
        for subject in subjects:
            self.journal.add_rejection(subject, [index, code, sub, detail])

    # --- start-of-day schedule (R5 defaults, R9 failures) ---------------------------------------

    def schedule(self, day: int, kind: int, ident: str) -> None:
        """Register a start-of-day check on ``day``; kind 0 = commitment default, 1 = pact failure."""
        key = str(day)
        slot = self.sched.get(key)
        if slot is None:
            slot = self.sched[key] = [[], []]
            heapq.heappush(self.heap, day)
        slot[kind].append(ident)


def _without_tail_lists(name: str, value: dict) -> dict:
    """A copy of a TAIL_LISTS attribute with every TailList as its persisted form."""
    if TAIL_LISTS[name] == 1:
        return {k: v.to_json() if isinstance(v, TailList) else v for k, v in value.items()}
    return {actor: {m: v.to_json() if isinstance(v, TailList) else v for m, v in inner.items()}
            for actor, inner in value.items()}
