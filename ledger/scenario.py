"""Scenario files (specs/scenario.md): a coalition's story written down for `pactlog simulate`.

A scenario names its cast, optionally changes the ruleset, lists entries by day and signer name,
and asks for states, digests and explanations.  This module parses one strictly (every form
error is a :class:`MalformedError` naming the place in the file), derives the cast's keys
deterministically from the scenario's seed, and signs the whole story into log entries.

What a scenario checks is only its *form*: who may sign what, whether an amount is positive or
a subject exists is the rules engine's business, so such entries are logged and come out
ineffective with the engine's reason code, exactly as they would on a real log.

Pure: standard library, PyNaCl and pure ledger modules; no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from . import canonical
from . import entry as entries
from .errors import InvalidInput, MalformedError
from .note import Signer
from .rules import require_valid_genesis

FORMAT = "pactlog-scenario/1"
DEFAULT_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z, RS-1's day 0
DEFAULT_ORIGIN = "scenario.pactlog.example/log"
SECONDS_PER_DAY = 86_400
NOON = 43_200
MAX_DAY = 1_000_000  # about 2,700 years: keeps every time a sane integer

ROLES = ("governors", "actors", "monitors")  # registered by the genesis entry
OTHERS = "others"  # keys the story needs that the genesis does not register (newcomers, outsiders)
REQUEST_KINDS = ("state_as_of", "digest_as_of", "explain")
EXPLAIN_KINDS = ("access", "balance", "claim", "commitment", "entry", "evidence", "fines", "flags",
                 "incident", "leaderboard", "level", "monitor", "pact", "system")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_REF = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:#(?P<gen>[1-9][0-9]{0,5}))?")
_TOP_FIELDS = {"format", "seed", "cast"}
_TOP_OPTIONAL = {"description", "origin", "epoch", "ruleset", "charter", "entries", "requests"}
_ENTRY_FIELDS = {"day", "by", "type", "body"}
_ENTRY_OPTIONAL = {"second", "note"}  # a note is free text for readers, ignored
_KEY_DOMAIN = b"pactlog-scenario-key/v1\x00"
_LOG_KEY_DOMAIN = b"pactlog-scenario-log-key/v1\x00"


@dataclass(frozen=True)
class ScenarioEntry:
    """One entry of the story, as written (bodies with their ``$vkey``/``$sha256`` resolved)."""

    position: int  # 0-based position in the scenario's "entries" list (error messages say entries[i])
    day: int
    second: int  # seconds into the day (default noon)
    by: tuple[str, ...]  # key references: "name" (genesis key) or "name#n" (its n-th new key)
    type: str
    body: dict
    key_refs: tuple[str, ...] = ()  # the keys the body names through {"$vkey": ref}


@dataclass(frozen=True)
class Request:
    """What to report after the run: ``kind`` is state_as_of, digest_as_of or explain."""

    kind: str
    days: tuple[int, ...]
    fact: tuple[str, ...] = ()  # explain only: [kind, *args]


@dataclass(frozen=True)
class Scenario:
    """A parsed and validated scenario; build one with :func:`parse_scenario`."""

    description: str
    seed: str
    origin: str
    epoch: int
    cast: dict[str, tuple[str, ...]]  # governors / actors / monitors / others -> names, as listed
    changes: dict
    extensions: tuple[str, ...] | None
    charter: str | None
    entries: tuple[ScenarioEntry, ...]
    requests: tuple[Request, ...]

    # --- keys --------------------------------------------------------------------------------

    def signer(self, ref: str) -> Signer:
        """The key of a reference ("name" or "name#n")."""
        return scenario_signer(self.seed, ref)

    def log_signer(self) -> Signer:
        """The log's own key; its name is the origin."""
        return Signer(self.origin, hashlib.sha256(_LOG_KEY_DOMAIN + self.seed.encode()).digest())

    def role_of(self, name: str) -> str:
        for role, names in self.cast.items():
            if name in names:
                return role
        raise KeyError(name)

    def key_refs(self) -> list[str]:
        """Every key the story uses: each cast name, then each "name#n" some entry refers to."""
        refs = [name for names in self.cast.values() for name in names]
        for item in self.entries:
            refs += [ref for ref in (*item.by, *item.key_refs) if ref not in refs]
        return refs

    # --- the log -----------------------------------------------------------------------------

    def genesis_body(self) -> dict:
        ruleset: dict[str, Any] = {"version": 1, "effective_day": 0, "changes": self.changes}
        if self.extensions is not None:
            ruleset["extensions"] = list(self.extensions)
        body: dict[str, Any] = {"epoch": self.epoch, "ruleset": ruleset}
        for role in ROLES:
            body[role] = {name: self.signer(name).vkey for name in self.cast[role]}
        if self.charter is not None:
            body["charter"] = self.charter
        return body

    def time_of(self, item: ScenarioEntry) -> int:
        return self.epoch + item.day * SECONDS_PER_DAY + item.second

    @property
    def genesis_time(self) -> int:
        """The genesis entry is dated at the very start of day 0."""
        return self.epoch

    @property
    def last_time(self) -> int:
        return self.time_of(self.entries[-1]) if self.entries else self.genesis_time

    def signed_entries(self) -> list[bytes]:
        """The story as log entries: the genesis (signed by every governor) and every entry, each
        signer's sequence numbers counting from 1."""
        seqs: dict[str, int] = {}

        def sign(signers: list[Signer], type_: str, time: int, body: dict) -> bytes:
            primary = signers[0].vkey
            seqs[primary] = seqs.get(primary, 0) + 1
            statement = entries.make_statement(log=self.origin, type=type_, signer=primary, seq=seqs[primary],
                                               time=time, body=body)
            return entries.sign(statement, signers).raw

        governors = [self.signer(name) for name in self.cast["governors"]]
        raws = [sign(governors, "GENESIS", self.genesis_time, self.genesis_body())]
        for item in self.entries:
            try:
                raws.append(sign([self.signer(ref) for ref in item.by], item.type, self.time_of(item), item.body))
            except InvalidInput as exc:  # an integer beyond canonical JSON's range, an entry over 64 KiB
                raise _error(f"entries[{item.position}]", exc.message) from None
        return raws


def scenario_signer(seed: str, ref: str) -> Signer:
    """The deterministic key of a cast reference: Ed25519 seed = SHA-256(domain || seed || 0x00 ||
    ref), key name = the cast name.  Anyone who knows the seed can sign: simulation keys only."""
    name = _split_ref(ref)[0]
    return Signer(name, hashlib.sha256(_KEY_DOMAIN + seed.encode("utf-8") + b"\x00" + ref.encode("utf-8")).digest())


# --- parsing ------------------------------------------------------------------------------------


def parse_scenario(data: bytes | str, *, source: str = "scenario") -> Scenario:
    """Parse and validate a scenario file strictly; raises MalformedError (reason ``bad_scenario``)."""
    value = _load_json(data, source)
    where = source
    _fields(value, where, _TOP_FIELDS, _TOP_OPTIONAL)
    if value["format"] != FORMAT:
        raise _error(f"{where}.format", f"must be {FORMAT!r}, not {value['format']!r}")
    seed = _string(value["seed"], f"{where}.seed")
    description = _string(value.get("description", ""), f"{where}.description")
    origin = _string(value.get("origin", DEFAULT_ORIGIN), f"{where}.origin")
    try:
        Signer(origin, bytes(32))  # the origin is the log key's name
    except MalformedError as exc:
        raise _error(f"{where}.origin", exc.message) from None
    epoch = _nat(value.get("epoch", DEFAULT_EPOCH), f"{where}.epoch")
    cast = _cast(value["cast"], f"{where}.cast")
    changes, extensions = _ruleset(value.get("ruleset", {}), f"{where}.ruleset")
    charter = value.get("charter")
    if charter is not None:
        _string(charter, f"{where}.charter")
    names = {name: role for role, members in cast.items() for name in members}
    items = _entries(value.get("entries", []), f"{where}.entries", names, seed)
    requests = _requests(value.get("requests", []), f"{where}.requests")
    scenario = Scenario(description, seed, origin, epoch, cast, changes, extensions, charter, items, requests)
    try:
        require_valid_genesis(scenario.genesis_body())
    except MalformedError as exc:
        raise _error(f"{where} (its genesis)", exc.message) from None
    return scenario


def _load_json(data: bytes | str, source: str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _error(source, "is not UTF-8 text") from None
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_float=_Fraction, parse_constant=_Fraction)
    except json.JSONDecodeError as exc:
        raise _error(source, f"is not JSON: {exc}") from None
    except MalformedError as exc:
        raise _error(source, exc.message.split(": ", 1)[1]) from None
    _refuse_fractions(value, source)
    return value


class _Fraction(str):
    """A JSON number that is not an integer (or NaN, Infinity): kept as its text until the
    whole file is read, so that the error can say where it is."""


def _refuse_fractions(value: Any, where: str) -> None:
    if isinstance(value, _Fraction):
        raise _error(where, f"must be an integer, not {value} (scenarios use integers only)")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_fractions(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_fractions(item, f"{where}[{i}]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, item in pairs:
        if key in result:
            raise _error("object", f"has the field {key!r} twice (a JSON object names each field once)")
        result[key] = item
    return result


def _cast(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    _fields(value, where, set(ROLES), {OTHERS})
    cast: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for role in (*ROLES, OTHERS):
        members = value.get(role, [])
        if not isinstance(members, list):
            raise _error(f"{where}.{role}", "must be a list of names")
        for i, name in enumerate(members):
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise _error(f"{where}.{role}[{i}]",
                             f"{name!r} is not a cast name (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)")
            if name in seen:
                raise _error(f"{where}.{role}[{i}]", f"{name!r} is listed twice")
            seen.add(name)
        cast[role] = tuple(members)
    return cast


def _ruleset(value: Any, where: str) -> tuple[dict, tuple[str, ...] | None]:
    _fields(value, where, set(), {"changes", "extensions"})
    changes = value.get("changes", {})
    if not isinstance(changes, dict):
        raise _error(f"{where}.changes", "must be an object parameter -> value")
    extensions = value.get("extensions")
    if extensions is not None:
        if not isinstance(extensions, list) or not all(isinstance(x, str) for x in extensions):
            raise _error(f"{where}.extensions", "must be a list of extension names")
        extensions = tuple(sorted(extensions))  # the genesis wants them sorted; duplicates stay to be refused
    return changes, extensions


def _entries(value: Any, where: str, names: dict[str, str], seed: str) -> tuple[ScenarioEntry, ...]:
    if not isinstance(value, list):
        raise _error(where, "must be a list of entries")
    items: list[ScenarioEntry] = []
    for position, raw in enumerate(value):
        at = f"{where}[{position}]"
        _fields(raw, at, _ENTRY_FIELDS, _ENTRY_OPTIONAL)
        day = _nat(raw["day"], f"{at}.day", maximum=MAX_DAY)
        second = _nat(raw.get("second", NOON), f"{at}.second", maximum=SECONDS_PER_DAY - 1)
        if items and (day, second) < (items[-1].day, items[-1].second):
            earlier = items[-1]
            raise _error(f"{at}.day", f"day {day} (second {second}) comes before the previous entry's day "
                                      f"{earlier.day} (second {earlier.second}): days never decrease along a log")
        if "note" in raw:
            _string(raw["note"], f"{at}.note")
        by = raw["by"]
        refs = (by,) if isinstance(by, str) else tuple(by) if isinstance(by, list) and by else None
        if refs is None:
            raise _error(f"{at}.by", "must be a signer name or a non-empty list of them")
        for ref in refs:
            _check_ref(ref, f"{at}.by", names)
        if len(set(refs)) != len(refs):
            raise _error(f"{at}.by", "names the same signer twice")
        try:
            entries.check_type_name(raw["type"])
        except MalformedError as exc:
            raise _error(f"{at}.type", exc.message) from None
        if not isinstance(raw["body"], dict):
            raise _error(f"{at}.body", "must be a JSON object")
        key_refs: list[str] = []
        body = _resolve(raw["body"], f"{at}.body", names, seed, key_refs)
        try:
            canonical.dumps(body)  # an entry body is canonical JSON: no integer beyond +-(2^53 - 1)
        except MalformedError as exc:
            raise _error(f"{at}.body", exc.message) from None
        items.append(ScenarioEntry(position, day, second, refs, raw["type"], body, tuple(key_refs)))
    return tuple(items)


def _check_ref(ref: Any, where: str, names: dict[str, str]) -> None:
    if not isinstance(ref, str):
        raise _error(where, f"{ref!r} is not a signer name")
    match = _REF.fullmatch(ref)
    if match is None or match["name"] not in names:
        raise _error(where, f"unknown signer {ref!r}: not in the cast",
                     hint="sign with a name listed under cast (add outsiders to cast.others), "
                          "or NAME#n for that member's n-th new key")


def _split_ref(ref: str) -> tuple[str, int]:
    match = _REF.fullmatch(ref)
    assert match is not None
    return match["name"], int(match["gen"] or 0)


def _resolve(value: Any, where: str, names: dict[str, str], seed: str, key_refs: list[str]) -> Any:
    """A body with every ``{"$vkey": ref}`` replaced by that key's vkey and every
    ``{"$sha256": text}`` by the hex SHA-256 of the text's UTF-8 bytes (for ROTATE_KEY, ADMIT,
    SET_GOVERNORS, EVIDENCE, REVEAL and WHISTLE bodies); ``key_refs`` collects the refs used."""
    if isinstance(value, dict):
        if set(value) == {"$vkey"}:
            ref = value["$vkey"]
            _check_ref(ref, f"{where}.$vkey", names)
            key_refs.append(ref)
            return scenario_signer(seed, ref).vkey
        if set(value) == {"$sha256"}:
            text = _string(value["$sha256"], f"{where}.$sha256")
            return hashlib.sha256(text.encode("utf-8")).hexdigest()
        return {key: _resolve(item, f"{where}.{key}", names, seed, key_refs) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, f"{where}[{i}]", names, seed, key_refs) for i, item in enumerate(value)]
    return value


def _requests(value: Any, where: str) -> tuple[Request, ...]:
    if not isinstance(value, list):
        raise _error(where, "must be a list of requests")
    requests = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in REQUEST_KINDS:
            raise _error(at, f"must be an object with exactly one of the fields {', '.join(REQUEST_KINDS)}")
        kind, arg = next(iter(raw.items()))
        if kind == "explain":
            if not isinstance(arg, list) or len(arg) != 2 or not isinstance(arg[0], list) or not arg[0]:
                raise _error(f"{at}.explain", "must be [[kind, args...], day]")
            fact = arg[0]
            if not all(isinstance(part, str) for part in fact):
                raise _error(f"{at}.explain", "the fact is a list of strings: [kind, args...]")
            if fact[0] not in EXPLAIN_KINDS:
                raise _error(f"{at}.explain", f"unknown fact kind {fact[0]!r}; one of {', '.join(EXPLAIN_KINDS)}")
            requests.append(Request(kind, (_nat(arg[1], f"{at}.explain day", maximum=MAX_DAY),), tuple(fact)))
        else:
            if not isinstance(arg, list) or not arg:
                raise _error(f"{at}.{kind}", "must be a non-empty list of days")
            requests.append(Request(kind, tuple(_nat(day, f"{at}.{kind}[{j}]", maximum=MAX_DAY)
                                                for j, day in enumerate(arg))))
    return tuple(requests)


# --- small checks ---------------------------------------------------------------------------------


def _fields(value: Any, where: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(value, dict):
        raise _error(where, "must be a JSON object")
    missing = sorted(required - set(value))
    if missing:
        raise _error(where, f"misses the field {missing[0]!r}")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise _error(where, f"has the unknown field {unknown[0]!r}",
                     hint=f"allowed: {', '.join(sorted(required | optional))}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _error(where, f"must be a string, not {_kind(value)}")
    return value


def _nat(value: Any, where: str, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(where, f"must be an integer, not {_kind(value)}")
    if value < 0 or (maximum is not None and value > maximum):
        raise _error(where, f"must be between 0 and {maximum}" if maximum is not None else "must not be negative")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {str: "a string", int: "an integer", list: "a list", dict: "an object", type(None): "null"}.get(
        type(value), type(value).__name__)


def _error(where: str, problem: str, *, hint: str | None = None) -> MalformedError:
    return MalformedError(f"{where}: {problem}", hint=hint or "see specs/scenario.md", reason="bad_scenario")
