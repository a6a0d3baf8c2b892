"""The RS-1 rules engine: an incremental fold over verified log entries (D1, D2, I3).

``Engine.apply(event)`` judges one entry against the state left by every earlier
entry, after applying the start-of-day effects of every day up to the entry's day
(C3), and returns its Outcome (effective, or a reason code).  ``state(T)`` is the
canonical derived state as of day T >= the current day; days after the last entry
are projections computed on a copy, so asking never changes what later entries see.
``snapshot()`` / ``restore()`` let a persisted layer answer past days cheaply.
"""

from __future__ import annotations

import heapq
import hashlib
import json
import marshal

from ledger.errors import InvalidInput, MalformedError
from ledger.rules import coalition, commitments, credits, evidence, flags, governance, liability, pacts, whistle
from ledger.rules import events as t
from ledger.rules.digest import canonical_bytes, parse_canonical, streamed_digest
from ledger.rules.genesis import declared_extensions, genesis_problem, version_one
from ledger.rules.reasons import LOG_REJECTED, MALFORMED, Outcome, Reject
from ledger.rules.records import Records
from ledger.rules.state import State
from ledger.rules.subjects import subjects_of
from ledger.rules.view import state_view

SNAPSHOT_FORMAT = "pactlog-rules-snapshot/1"


def _second_genesis(st, ev, day):
    raise Reject(MALFORMED, "GENESIS is valid only as the first entry")


HANDLERS = {
    t.GENESIS: _second_genesis,
    t.APPROVE: governance.on_approve,
    t.CONFLICT: governance.on_conflict,
    t.ROTATE_KEY: governance.on_rotate_key,
    t.CLAIM: credits.on_claim,
    t.VERIFY: credits.on_verify,
    t.TRANSFER: credits.on_transfer,
    t.RETIRE: credits.on_retire,
    t.COMMIT: commitments.on_commit,
    t.ATTEST: commitments.on_attest,
    t.APPEAL: commitments.on_appeal,
    t.PACT: pacts.on_pact,
    t.JOIN: pacts.on_join,
    t.WITHDRAW: pacts.on_withdraw,
    t.SELF_REPORT: flags.on_self_report,
    t.AUDIT: flags.on_audit,
    t.INCIDENT: liability.on_incident,
    t.EVIDENCE: evidence.on_evidence,
    t.EVIDENCE_CHECK: evidence.on_evidence_check,
    t.REVEAL: evidence.on_reveal,
    t.EXIT: coalition.on_exit,
    t.WHISTLE: whistle.on_whistle,
    t.WHISTLE_REVEAL: whistle.on_whistle_reveal,
}


class Engine:
    """Derived state of one coalition log; feed it every entry in log order."""

    def __init__(self, *, track: bool = True):
        self.st = State(track=track)

    # --- folding entries ----------------------------------------------------------------------

    def apply(self, ev: t.Event) -> Outcome:
        st = self.st
        if ev.index <= st.last_index:
            raise InvalidInput(f"entry {ev.index} is not after entry {st.last_index}",
                               hint="feed entries in log order, each once", reason="entry_order")
        st.last_index = ev.index
        st.journal.pos = 2 * ev.index           # start-of-day effects before this entry
        if st.rejected is not None:
            return Outcome(ev.index, 0, LOG_REJECTED, None, f"the log was rejected at entry {st.rejected['index']}")
        if not st.started:
            return self._genesis(ev)
        day = t.day_of(ev.time, st.epoch)
        if day < 0:
            return self._reject(ev, day, Reject(MALFORMED, "the entry is dated before the coalition's epoch"))
        if day < st.day:
            return self._reject(ev, day, Reject(MALFORMED, f"the entry's day {day} is before day {st.day}"))
        if day > st.day:
            self._advance(day)
        st.journal.pos = 2 * ev.index + 1       # the entry itself
        handler = HANDLERS.get(ev.type)
        extension = t.EXTENSION_TYPES.get(ev.type)
        if handler is None or (extension is not None and extension not in st.extensions):
            return self._reject(ev, day, Reject(MALFORMED, f"unknown entry type {ev.type!r}"[:200]))
        try:
            handler(st, ev, day)
        except Reject as rejection:
            return self._reject(ev, day, rejection)
        return Outcome(ev.index, day)

    def apply_all(self, events) -> list[Outcome]:
        return [self.apply(ev) for ev in events]

    def _reject(self, ev: t.Event, day: int, rejection: Reject) -> Outcome:
        st = self.st
        st.journal.pos = 2 * ev.index + 1
        st.journal.add_ineffective([ev.index, rejection.code, rejection.sub])
        if st.track:
            subjects = ["entry"] + subjects_of(ev.type, ev.body)
            st.note_rejection(subjects, ev.index, rejection.code, rejection.sub, rejection.detail)
        return Outcome(ev.index, day, rejection.code, rejection.sub, rejection.detail)

    def _genesis(self, ev: t.Event) -> Outcome:
        st = self.st
        problem = "the first entry must be GENESIS" if ev.type != t.GENESIS else genesis_problem(ev.body)
        if problem:
            st.rejected = {"index": ev.index, "code": MALFORMED, "detail": problem}
            return Outcome(ev.index, 0, MALFORMED, None, problem)
        body = ev.body
        st.started = True
        st.epoch = body["epoch"]
        st.charter = body.get("charter")
        st.extensions = declared_extensions(body)
        st.cast = {role: dict(body[role]) for role in ("governors", "actors", "monitors")}
        st.keys_used = {vkey: name for members in st.cast.values() for name, vkey in members.items()}
        day = t.day_of(ev.time, st.epoch)
        st.day = max(day, 0)
        st.versions = [{"version": 1, "effective_day": 0, "index": ev.index, "day": day, "params": version_one(body)}]
        st.acct = {name: {"liquid": 0, "locked": 0, "retired": 0, "fines": 0} for name in st.cast["actors"]}
        st.rebuild_caches()
        return Outcome(ev.index, day)

    def advance(self, day: int) -> None:
        """Apply the start-of-day effects of every day up to ``day`` (C3): per day, commitment
        defaults first, then pact failures, each in the log order of their creating entries."""
        self.st.journal.pos = 2 * (self.st.last_index + 1)   # before the next entry
        self._advance(day)

    def _advance(self, day: int) -> None:
        st = self.st
        heap = st.heap
        while heap and heap[0] <= day:
            effect_day = heapq.heappop(heap)
            defaults, failures = st.sched.pop(str(effect_day))
            for cid in defaults:
                commitments.default_breach(st, cid, effect_day)
            for pid in failures:
                pacts.fail_if_open(st, pid, effect_day)
        st.day = day

    # --- queries ------------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """The current day: the day of the last dated entry (start-of-day effects applied through it)."""
        return self.st.day

    @property
    def last_index(self) -> int:
        return self.st.last_index

    def projected(self, as_of: int) -> bool:
        """Whether the state as of ``as_of`` is a projection: a day after the last entry's day (D2)."""
        return as_of > self.st.day

    def at(self, as_of: int | None = None) -> "Engine":
        """An engine whose start-of-day effects are applied through ``as_of`` (self, or a projected copy)."""
        st = self.st
        if not st.started and st.rejected is None:
            raise InvalidInput("no genesis entry yet", hint="apply the log's genesis entry first", reason="no_genesis")
        if as_of is None or st.rejected is not None:
            return self
        if as_of < st.day:
            raise InvalidInput(f"day {as_of} is before the engine's current day {st.day}",
                               hint="restore a snapshot taken before that day and replay its entries",
                               reason="as_of_past")
        if st.heap and st.heap[0] <= as_of:
            projected = self.copy()
            projected.advance(as_of)
            return projected
        return self

    def view(self, as_of: int | None = None) -> dict:
        """The canonical derived state as of ``as_of`` (default: the current day), as a private copy."""
        return json.loads(json.dumps(self._raw_view(as_of)))

    state = view

    def _raw_view(self, as_of: int | None) -> dict:
        # Shares containers with the working state: serialise it at once, never keep it.
        engine = self.at(as_of)
        return state_view(engine.st, engine.st.day if as_of is None else as_of)

    def state_bytes(self, as_of: int | None = None) -> bytes:
        """The canonical serialisation (RFC 8785) of the state as of ``as_of``."""
        return canonical_bytes(self._raw_view(as_of))

    def digest(self, as_of: int | None = None) -> str:
        """SHA-256 (hex) of the canonical state as of ``as_of`` (D3)."""
        return hashlib.sha256(self.state_bytes(as_of)).hexdigest()

    def streamed_digest(self, as_of: int | None = None) -> str:
        """:meth:`digest`, computed while streaming the large members of the state (records kept
        on disk are read a batch at a time, never all at once)."""
        engine = self.at(as_of)
        return streamed_digest(state_view(engine.st, engine.st.day if as_of is None else as_of, lazy=True))

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, *, canonical: bool = True) -> bytes:
        """The engine's complete working state as JSON; ``restore`` continues from it.

        canonical=True (the default) gives RFC 8785 bytes: portable, comparable byte for byte, and
        checked strictly on restore. canonical=False skips the canonical-form checks, several times
        faster: for caches that only this code reads back (``restore(data, trusted=True)``)."""
        value = {"format": SNAPSHOT_FORMAT, "state": self.st.to_json()}
        if canonical:
            return canonical_bytes(value)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def restore(cls, data: bytes, *, trusted: bool = False) -> "Engine":
        """The engine a snapshot was taken of. ``trusted``: the bytes come from this code's own
        cache (integrity-checked by its container, e.g. zlib's checksum), so they are parsed as plain
        JSON rather than checked to be canonical, which costs several times the parse itself."""
        try:
            value = json.loads(data) if trusted else parse_canonical(data)
        except ValueError as exc:       # json.JSONDecodeError, UnicodeDecodeError
            raise MalformedError(f"rules-engine snapshot is not JSON: {exc}", reason="bad_snapshot") from None
        if not isinstance(value, dict) or value.get("format") != SNAPSHOT_FORMAT or set(value) != {"format", "state"}:
            raise MalformedError("not a pactlog rules-engine snapshot", hint="take it with Engine.snapshot()",
                                 reason="bad_snapshot")
        return cls._of_state(value["state"])

    @classmethod
    def _of_state(cls, data) -> "Engine":
        engine = cls.__new__(cls)
        try:
            engine.st = State.from_json(data)
        except (KeyError, TypeError, IndexError) as exc:
            raise MalformedError(f"rules-engine snapshot is incomplete: {exc}", reason="bad_snapshot") from None
        return engine

    def copy(self) -> "Engine":
        """An independent deep copy (for projections). The state is plain data, which marshal
        copies an order of magnitude faster than a JSON round trip."""
        engine = Engine._of_state(marshal.loads(marshal.dumps(self.st.to_json())))
        engine.st.journal = self.st.journal.fork(engine.st)
        if isinstance(self.st.commitments, Records):      # the rest of the records is on disk
            engine.st.keep_records_in(self.st.commitments.store.fork(engine.st.journal))
        return engine


def replay(events, *, track: bool = True) -> Engine:
    """A fresh engine fed ``events`` in order."""
    engine = Engine(track=track)
    for ev in events:
        engine.apply(ev)
    return engine
