"""Ruleset parameters: RS-1 version 1's values and the validation of parameter changes (C6).

A ruleset version is a complete parameter map.  Version 1 is RS-1's table with the
genesis entry's changes applied; every later version is the highest adopted version
with an ADOPT proposal's changes applied (METRICS replaces the whole metric table).
"""

from __future__ import annotations

RS1_DEFAULTS: dict = {
    "GOV_QUORUM": 2,
    "ACCREDITATION_TERM": 365,
    "K_ATTEST": 2,
    "K_ENHANCED": 3,
    "BUFFER_PCT": 10,
    "SANCTION_WINDOW": 180,
    "FINE_PER_LEVEL": 10,
    "APPEAL_FILING_DAYS": 14,
    "APPEAL_DECISION_DAYS": 30,
    "ACCESS_MIN": 50,
    "HUGGING_OF": 4,
    "HUGGING_MIN": 3,
    "DIVERGENCE_PCT": 10,
    "DIVERGENCE_WINDOW": 90,
    "DIVERGENCE_MIN": 2,
    "METRICS": {"bio_uplift": {"theta": 50, "band": 3}},
}
"""RS-1 version 1 (the parameter table of the reference ruleset)."""

EXTENSIONS = ("capability_jump", "coalition", "evidence", "metric_sunset", "whistleblower")
"""pactlog's seed mechanisms beyond RS-1 (specs/rules-rs1.md, section 13).  A genesis declares
the ones its coalition uses; a log that declares none is interpreted exactly as RS-1."""

EXTENSION_PARAMS = {
    "capability_jump": {"JUMP_PCT": 50, "JUMP_WINDOW": 30},
    "whistleblower": {"WHISTLE_WINDOW": 30},
}
"""Parameters (with their version-1 defaults) that a declared extension adds to the table."""

LEVEL_CAP = 3
"""The sanction level cap; fixed by RS-1, not a parameter."""

# Lower bounds of the integer parameters (C6); GOV_QUORUM's upper bound is the number of
# governors and BUFFER_PCT's is 100, checked separately.
_MINIMUM = {
    "GOV_QUORUM": 1,
    "ACCREDITATION_TERM": 1,
    "K_ATTEST": 1,
    "K_ENHANCED": 1,
    "BUFFER_PCT": 0,
    "SANCTION_WINDOW": 1,
    "FINE_PER_LEVEL": 0,
    "APPEAL_FILING_DAYS": 0,
    "APPEAL_DECISION_DAYS": 0,
    "ACCESS_MIN": 0,
    "HUGGING_OF": 1,
    "HUGGING_MIN": 1,
    "DIVERGENCE_PCT": 0,
    "DIVERGENCE_WINDOW": 1,
    "DIVERGENCE_MIN": 1,
    "JUMP_PCT": 0,
    "JUMP_WINDOW": 1,
    "WHISTLE_WINDOW": 0,
}


def is_int(value) -> bool:
    """A JSON integer: an int that is not a bool."""
    return type(value) is int


def allowed_keys(extensions) -> set[str]:
    """The parameter keys a coalition with these declared extensions may set."""
    keys = set(RS1_DEFAULTS)
    for name in extensions:
        keys.update(EXTENSION_PARAMS.get(name, ()))
    return keys


def defaults(extensions) -> dict:
    """Version 1 before the genesis changes: RS-1's table plus the declared extensions' defaults."""
    table = dict(RS1_DEFAULTS)
    for name in extensions:
        table.update(EXTENSION_PARAMS.get(name, {}))
    return table


def changes_problem(changes, governor_count: int, extensions=()) -> str | None:
    """Why ``changes`` is not a valid parameter-change map (C6), or None if it is."""
    if not isinstance(changes, dict):
        return "parameter changes must be an object"
    allowed = allowed_keys(extensions)
    for key, value in changes.items():
        if key not in allowed:
            return f"unknown parameter {key!r}"
        if key == "METRICS":
            problem = _metrics_problem(value)
            if problem:
                return problem
            continue
        if not is_int(value):
            return f"parameter {key} must be an integer"
        if value < _MINIMUM[key]:
            return f"parameter {key} must be >= {_MINIMUM[key]}"
        if key == "BUFFER_PCT" and value > 100:
            return "parameter BUFFER_PCT must be <= 100"
        if key == "GOV_QUORUM" and value > governor_count:
            return f"parameter GOV_QUORUM must be <= the number of governors ({governor_count})"
    return None


def _metrics_problem(table) -> str | None:
    if not isinstance(table, dict):
        return "METRICS must be an object"
    for metric, spec in table.items():
        if not isinstance(spec, dict) or set(spec) != {"theta", "band"}:
            return f"METRICS[{metric!r}] must be exactly {{theta, band}}"
        theta, band = spec["theta"], spec["band"]
        if not is_int(theta) or not is_int(band):
            return f"METRICS[{metric!r}] theta and band must be integers"
        if band < 1 or theta < band:
            return f"METRICS[{metric!r}] needs band >= 1 and theta >= band"
    return None


def apply_changes(base: dict, changes: dict) -> dict:
    """A new complete parameter map: ``base`` with ``changes`` on top (copies, never aliases)."""
    params = dict(base)
    params["METRICS"] = {m: dict(spec) for m, spec in base["METRICS"].items()}
    for key, value in changes.items():
        if key == "METRICS":
            params["METRICS"] = {m: {"theta": s["theta"], "band": s["band"]} for m, s in value.items()}
        else:
            params[key] = value
    return params
