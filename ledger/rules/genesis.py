"""The genesis entry (C0): the coalition's cast, its epoch and ruleset version 1.

Body::

    {"epoch": <int>, "governors": {name: vkey}, "actors": {name: vkey},
     "monitors": {name: vkey}, "ruleset": {"version": 1, "effective_day": 0, "changes": {...}},
     "charter": <str, optional>}

An invalid genesis rejects the log as a whole: nothing is derived from it.
"""

from __future__ import annotations

from ledger.errors import MalformedError
from ledger.rules.params import EXTENSIONS, apply_changes, changes_problem, defaults, is_int

SYSTEM_ACCOUNTS = ("BUFFER", "VICTIM")
ROLES = ("governors", "actors", "monitors")
_FIELDS = {"epoch", "governors", "actors", "monitors", "ruleset"}
_OPTIONAL = {"charter"}
_RULESET_FIELDS = {"version", "effective_day", "changes"}
_RULESET_OPTIONAL = {"extensions"}


def genesis_problem(body) -> str | None:
    """Why ``body`` is not a valid genesis body (C0), or None if it is."""
    if not isinstance(body, dict):
        return "the genesis body must be an object"
    keys = set(body)
    if not _FIELDS <= keys or not keys <= _FIELDS | _OPTIONAL:
        return f"the genesis body has exactly the fields {sorted(_FIELDS)} (and optionally 'charter')"
    if not is_int(body["epoch"]):
        return "epoch must be an integer (Unix seconds of day 0)"
    if "charter" in body and not isinstance(body["charter"], str):
        return "charter must be a string"
    seen_names: set[str] = set()
    seen_keys: set[str] = set()
    for role in ROLES:
        cast = body[role]
        if not isinstance(cast, dict):
            return f"{role} must be an object name -> vkey"
        if role != "monitors" and not cast:
            return f"{role} must not be empty"
        for name, vkey in cast.items():
            if not name:
                return f"{role}: a name must be a non-empty string"
            if name in SYSTEM_ACCOUNTS:
                return f"{role}: {name} is a system account name"
            if name in seen_names:
                return f"{name!r} appears in more than one role"
            if not isinstance(vkey, str) or not vkey:
                return f"{role}[{name!r}]: the key must be a non-empty string"
            if vkey in seen_keys:
                return f"{role}[{name!r}]: the key is already registered to another name"
            seen_names.add(name)
            seen_keys.add(vkey)
    ruleset = body["ruleset"]
    if not isinstance(ruleset, dict) or not _RULESET_FIELDS <= set(ruleset) <= _RULESET_FIELDS | _RULESET_OPTIONAL:
        return "ruleset must be exactly {version, effective_day, changes} and optionally extensions"
    problem = _extensions_problem(ruleset.get("extensions", []))
    if problem:
        return problem
    if not is_int(ruleset["version"]) or ruleset["version"] != 1:
        return "the genesis ruleset must be version 1"
    if not is_int(ruleset["effective_day"]) or ruleset["effective_day"] != 0:
        return "the genesis ruleset must take effect on day 0"
    return changes_problem(ruleset["changes"], len(body["governors"]), declared_extensions(body))


def _extensions_problem(names) -> str | None:
    if not isinstance(names, list) or any(not isinstance(n, str) for n in names):
        return "extensions must be a list of names"
    if names != sorted(set(names)):
        return "extensions must be sorted and distinct"
    unknown = [n for n in names if n not in EXTENSIONS]
    if unknown:
        return f"unknown extension {unknown[0]!r} (known: {', '.join(EXTENSIONS)})"
    return None


def declared_extensions(body: dict) -> list[str]:
    """The seed mechanisms a (valid) genesis body switches on; [] is plain RS-1."""
    return list(body["ruleset"].get("extensions", []))


def require_valid_genesis(body) -> None:
    """Raise MalformedError unless ``body`` is a valid genesis body (for the core's admission)."""
    problem = genesis_problem(body)
    if problem:
        raise MalformedError(f"invalid genesis: {problem}", hint="see specs/rules-rs1.md, 'GENESIS'", reason="invalid_genesis")


def version_one(body: dict) -> dict:
    """The complete parameter map of version 1 declared by a valid genesis body."""
    return apply_changes(defaults(declared_extensions(body)), body["ruleset"]["changes"])
