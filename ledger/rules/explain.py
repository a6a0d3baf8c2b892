"""Explanations (R14, D5): why a derived value is what it is, as of day T.

Every explanation is a JSON-shaped dict::

    {"fact": [kind, *args], "as_of": T, "value": ..., "rules": ["R4", ...],
     "ruleset_version": <version in force on T>,
     "determining": [{"index", "day", "rule", "version", "what"}],      # entries that caused it
     "start_of_day": [{"created_by", "day", "rule", "version", "what"}],  # R5 defaults, R9 failures
     "not_counted": [{"index", "code", "sub", "detail"}],                # considered, no effect
     "inputs": [<explanation>, ...]}                                       # values it is computed from

Every cited index is an entry of the log dated <= T (an explanation of a projected
day cites no later entry, as there is none).  ``not_counted`` lists ineffective
entries with their reason codes, and for levels also breaches that did not count
(codes VOIDED, STAYED, OUTSIDE_WINDOW: explanation notes, not entry reasons).
"""

from __future__ import annotations

from ledger.errors import InvalidInput
from ledger.rules.flags import divergent_in_window, hugging_metrics
from ledger.rules.liability import incident_key
from ledger.rules.params import LEVEL_CAP
from ledger.rules.records import newest_first
from ledger.rules.sanctions import counted_breaches, stayed
from ledger.rules.view import (
    actor_view, claim_view, commitment_view, evidence_view, flags_view, monitor_view, pact_view,
)

BALANCE_FIELDS = ("liquid", "locked", "retired", "fines")


def explain(engine, kind: str, *args: str, as_of: int | None = None) -> dict:
    """Explain one fact; ``kind`` is balance, fines, level, access, flags, leaderboard, commitment,
    claim, pact, incident, monitor, system or entry (see specs/rules-rs1.md, 'Explanations')."""
    projected = engine.at(as_of)
    st = projected.st
    day = st.day if as_of is None else as_of
    if st.rejected is not None:
        raise InvalidInput("the log was rejected at its genesis; nothing is derived", reason="log_rejected")
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise InvalidInput(f"unknown fact kind {kind!r}", hint=f"one of {', '.join(sorted(_BUILDERS))}",
                           reason="unknown_fact")
    try:
        return builder(st, day, *args)
    except TypeError:
        raise InvalidInput(f"wrong arguments for fact {kind!r}: {args!r}", reason="unknown_fact") from None


def _base(st, day: int, fact: list, value, rules) -> dict:
    return {"fact": fact, "as_of": day, "value": value, "rules": sorted(set(rules)),
            "ruleset_version": st.version_at(day)["version"], "determining": [], "start_of_day": [],
            "not_counted": [], "inputs": []}


def _not_counted(st, subject: str) -> list[dict]:
    return [{"index": r[0], "code": r[1], "sub": r[2], "detail": r[3]} for r in st.journal.rejections(subject)]


def _cite(index: int, day: int, rule: str, version: int, what: str) -> dict:
    return {"index": index, "day": day, "rule": rule, "version": version, "what": what}


def _need(mapping: dict, key: str, what: str) -> dict:
    if key not in mapping:
        raise InvalidInput(f"no {what} {key!r}", reason="unknown_fact")
    return mapping[key]


def _version(st, day: int) -> int:
    return st.version_at(day)["version"]


# --- balances -------------------------------------------------------------------------------


def _balance(st, day: int, name: str, field: str | None = None) -> dict:
    _need(st.acct, name, "actor")
    fields = BALANCE_FIELDS if field is None else (field,)
    if field is not None and field not in BALANCE_FIELDS:
        raise InvalidInput(f"no balance field {field!r}", hint="liquid, locked, retired or fines", reason="unknown_fact")
    value = {f: st.acct[name][f] for f in fields} if field is None else st.acct[name][field]
    return _movements(st, day, ["balance", name] + ([field] if field else []), value, name, fields)


def _movements(st, day: int, fact: list, value, name: str, fields) -> dict:
    records = [r for r in st.journal.movements(name) if r[4] in fields]
    out = _base(st, day, fact, value, [r[2] for r in records] or ["R4"])
    for index, rday, rule, version, field, delta, subject, creator in records:
        what = f"{field} {delta:+d} ({subject})"
        if index is None:
            record = {"created_by": creator, "day": rday, "rule": rule, "version": version, "what": what}
            out["start_of_day"].append(record)
        else:
            record = _cite(index, rday, rule, version, what)
            out["determining"].append(record)
        record["field"] = field
        record["delta"] = delta
    out["not_counted"] = _not_counted(st, f"account:{name}")
    return out


def _fines(st, day: int, name: str) -> dict:
    return _balance(st, day, name, "fines")


def _system(st, day: int, name: str) -> dict:
    if name not in ("BUFFER", "VICTIM"):
        raise InvalidInput(f"no system account {name!r}", hint="BUFFER or VICTIM", reason="unknown_fact")
    return _movements(st, day, ["system", name], st.sys[name], name, ("liquid",))


# --- standing -------------------------------------------------------------------------------


def _level(st, day: int, name: str) -> dict:
    _need(st.acct, name, "actor")
    breaches = st.breaches.get(name, ())
    counting = counted_breaches(st, name, day, limit=len(breaches) or 1)      # newest first
    # The level is min(LEVEL_CAP, how many count): the newest LEVEL_CAP that count prove it, and
    # are what is cited; the others that count are only counted (an explanation stays bounded).
    counted, cited = set(counting), set(counting[:LEVEL_CAP])
    value = min(LEVEL_CAP, len(counting))
    out = _base(st, day, ["level", name], value, ["R5", "R6", "R8"])
    window = st.params(day)["SANCTION_WINDOW"]
    out["what"] = (f"{len(counting)} breach{'es' if len(counting) != 1 else ''} count in the sanction window "
                   f"(days {day - window + 1}..{day}); level = min({LEVEL_CAP}, that)"
                   + (f"; the newest {LEVEL_CAP} are cited" if len(counting) > LEVEL_CAP else ""))
    for cid in _breaches_considered(st, breaches, day - window + 1):
        c = st.commitments[cid]
        if cid in cited:
            _cite_breach(st, out, cid, c)
            continue
        if cid in counted:
            continue                                # counts, beyond the cited ones
        if c["status"] == "VOIDED":
            note, index = "VOIDED", c["appeal"]["decided_index"]
        elif stayed(c, day):
            note, index = "STAYED", c["appeal"]["index"]
        else:
            note = "OUTSIDE_WINDOW"
            index = c["resolved_index"] if c["resolved_index"] is not None else c["index"]
        out["not_counted"].append({"index": index, "code": note, "sub": None,
                                   "detail": f"commitment {cid!r} breached on day {c['resolved_day']} "
                                             f"(sanction window {window} days)"})
    return out


def _breaches_considered(st, breaches: list[str], lowest: int) -> list[str]:
    """The breaches a level explanation shows, oldest first: every one dated in the sanction window
    (from ``lowest`` on) and the newest LEVEL_CAP before it (older ones are not listed, so that an
    explanation stays bounded however long an actor's record grows; specs/rules-rs1.md §11)."""
    shown, before = [], 0
    for cid, c in newest_first(st.commitments, breaches):     # breach days ascend along the list
        if c["resolved_day"] < lowest:
            if before == LEVEL_CAP:
                break
            before += 1
        shown.append(cid)
    return shown[::-1]


def _cite_breach(st, out: dict, cid: str, c: dict) -> None:
    version = _version(st, c["resolved_day"])
    if c["resolved_index"] is None:
        out["start_of_day"].append({"created_by": c["index"], "day": c["resolved_day"], "rule": "R5", "version": version,
                                    "what": f"commitment {cid!r} breached by default (deadline {c['deadline']})"})
    else:
        for monitor, (index, aday) in sorted(c["tally"]["BREACHED"].items(), key=lambda kv: kv[1]):
            out["determining"].append(_cite(index, aday, "R5", _version(st, aday), f"{monitor} attests {cid!r} BREACHED"))
    appeal = c["appeal"]
    if appeal is not None:
        out["determining"].append(_cite(appeal["index"], appeal["filed_day"], "R8", _version(st, appeal["filed_day"]),
                                        f"appeal of {cid!r} (no longer staying it)"))
        if appeal["decided_index"] is not None:
            out["determining"].append(_cite(appeal["decided_index"], appeal["decided_day"], "R8",
                                            _version(st, appeal["decided_day"]), f"decision {appeal['decision']} on {cid!r}"))


def _access(st, day: int, name: str) -> dict:
    view = actor_view(st, name, day, st.params(day)) if name in st.acct else _need(st.acct, name, "actor")
    out = _base(st, day, ["access", name], view["access"], ["R10"])
    out["inputs"] = [_level(st, day, name), _balance(st, day, name, "liquid"), _balance(st, day, name, "locked")]
    out["what"] = f"level {view['level']} <= 2 and holdings {view['holdings']} >= ACCESS_MIN {st.params(day)['ACCESS_MIN']}"
    return out


def _flags(st, day: int, name: str) -> dict:
    _need(st.acct, name, "actor")
    params = st.params(day)
    hugging = hugging_metrics(st, name, day)
    start, count = divergent_in_window(st, name, day)
    value = flags_view(st, name, day)
    out = _base(st, day, ["flags", name], value, ["R11"])
    version = _version(st, day)
    for metric in hugging:
        for value_, index, rday in st.reports[name][metric][-params["HUGGING_OF"]:]:
            out["determining"].append(_cite(index, rday, "R11", version, f"self-report {metric} = {value_}"))
    if value["divergence"]:
        days, indices = st.divergent[name]
        for rday, index in zip(days[start:], indices[start:]):
            out["determining"].append(_cite(index, rday, "R11", _version(st, rday), "divergent audit"))
    if value.get("capability_jump"):
        days, indices, metrics = st.jumps[name]
        lowest = day - params["JUMP_WINDOW"] + 1
        for jday, index, metric in zip(days, indices, metrics):
            if jday >= lowest:
                out["determining"].append(_cite(index, jday, "X-JUMP", _version(st, jday), f"capability jump in {metric}"))
    if value.get("whistle"):
        for ident in st.whistled[name]:
            report = st.whistles[ident]
            if report["day"] >= day - params["WHISTLE_WINDOW"] + 1 and report["status"] != "VOID":
                out["determining"].append(_cite(report["index"], report["day"], "X-WHISTLE", _version(st, report["day"]),
                                                f"whistleblower report {ident!r} relayed by {report['ombud']}"))
    out["not_counted"] = _not_counted(st, f"flags:{name}")
    return out


def _evidence(st, day: int, ident: str) -> dict:
    record = _need(st.evidence, ident, "evidence")
    out = _base(st, day, ["evidence", ident], evidence_view(record), ["X-EVIDENCE"])
    cites = [(record["index"], record["day"], f"{record['actor']} commits to evidence ({record['label']})")]
    cites += [(index, cday, f"{monitor}: seen and matches") for monitor, (index, cday) in record["checks"].items()]
    if record["revealed_index"] is not None:
        cites.append((record["revealed_index"], record["revealed_day"], "revealed; matches the commitment"))
    out["determining"] = [_cite(i, d, "X-EVIDENCE", _version(st, d), w) for i, d, w in sorted(cites)]
    out["not_counted"] = _not_counted(st, f"evidence:{ident}")
    return out


def _leaderboard(st, day: int, name: str) -> dict:
    view = actor_view(st, name, day, st.params(day)) if name in st.acct else _need(st.acct, name, "actor")
    out = _base(st, day, ["leaderboard", name], view["leaderboard"], ["R13"])
    for cid, c in st.commitments.items():
        if c["actor"] == name and c["status"] != "OPEN":
            index = c["resolved_index"] if c["resolved_index"] is not None else c["index"]
            if c["status"] == "VOIDED":
                out["not_counted"].append({"index": c["appeal"]["decided_index"], "code": "VOIDED", "sub": None,
                                           "detail": f"commitment {cid!r} overturned on appeal"})
            elif c["resolved_index"] is None:
                out["start_of_day"].append({"created_by": c["index"], "day": c["resolved_day"], "rule": "R5",
                                            "version": _version(st, c["resolved_day"]), "what": f"{cid!r} BREACHED by default"})
            else:
                out["determining"].append(_cite(index, c["resolved_day"], "R5", _version(st, c["resolved_day"]),
                                                f"{cid!r} {c['status']}"))
    out["determining"].sort(key=lambda r: r["index"])
    return out


# --- subjects -------------------------------------------------------------------------------


def _commitment(st, day: int, cid: str) -> dict:
    c = _need(st.commitments, cid, "commitment")
    out = _base(st, day, ["commitment", cid], commitment_view(c, day), ["R5", "R7", "R8"])
    cites = [(c["index"], c["day"], "R5", f"{c['actor']} commits to {cid!r} by day {c['deadline']}")]
    for verdict in ("FULFILLED", "BREACHED"):
        for monitor, (index, aday) in c["tally"][verdict].items():
            cites.append((index, aday, "R5", f"{monitor} attests {verdict}"))
    if c["status"] != "OPEN" and c["resolved_index"] is None:
        out["start_of_day"].append({"created_by": c["index"], "day": c["resolved_day"], "rule": "R5",
                                    "version": _version(st, c["resolved_day"]), "what": "no proof by the deadline: BREACHED"})
    appeal = c["appeal"]
    if appeal is not None:
        cites.append((appeal["index"], appeal["filed_day"], "R8", "appeal"))
        if appeal["decided_index"] is not None:
            cites.append((appeal["decided_index"], appeal["decided_day"], "R8", f"decision {appeal['decision']}"))
    out["determining"] = [_cite(i, d, r, _version(st, d), w) for i, d, r, w in sorted(cites)]
    out["not_counted"] = _not_counted(st, f"commitment:{cid}")
    return out


def _claim(st, day: int, cid: str) -> dict:
    claim = _need(st.claims, cid, "claim")
    out = _base(st, day, ["claim", cid], claim_view(claim), ["R4"])
    cites = [(claim["index"], claim["day"], "R4", f"{claim['actor']} claims {claim['amount']}")]
    for monitor, (amount, index, vday) in claim["verifiers"].items():
        cites.append((index, vday, "R4", f"{monitor} verifies {amount}"))
    out["determining"] = [_cite(i, d, r, _version(st, d), w) for i, d, r, w in sorted(cites)]
    out["not_counted"] = _not_counted(st, f"claim:{cid}")
    return out


def _pact(st, day: int, pid: str) -> dict:
    pact = _need(st.pacts, pid, "pact")
    out = _base(st, day, ["pact", pid], pact_view(pact, day), ["R9", "R12"])
    out["determining"].append(_cite(pact["index"], pact["day"], "R9", _version(st, pact["day"]),
                                    f"{pact['sponsor']} creates the pact"))
    for index, hday, action, actor in pact["history"]:
        out["determining"].append(_cite(index, hday, "R9", _version(st, hday), f"{actor} {action}"))
    if pact["failed_day"] is not None:
        out["start_of_day"].append({"created_by": pact["index"], "day": pact["failed_day"], "rule": "R9",
                                    "version": _version(st, pact["failed_day"]), "what": "still OPEN after open_until: FAILED"})
    out["not_counted"] = _not_counted(st, f"pact:{pid}")
    return out


def _incident(st, day: int, pid: str, ident: str, actor: str) -> dict:
    key = incident_key(pid, ident, actor)
    incident = _need(st.incidents, key, "incident")
    value = {"status": incident["status"], "reason": incident["reason"], "settlement": incident["settlement"]}
    out = _base(st, day, ["incident", pid, ident, actor], value, ["R12"])
    for monitor, (damages, index, rday) in sorted(incident["reports"].items(), key=lambda kv: kv[1][1]):
        out["determining"].append(_cite(index, rday, "R12", _version(st, rday), f"{monitor} reports damages {damages}"))
    out["not_counted"] = _not_counted(st, f"incident:{key}")
    return out


def _monitor(st, day: int, name: str) -> dict:
    if name not in st.cast["monitors"]:
        raise InvalidInput(f"no monitor {name!r}", reason="unknown_fact")
    out = _base(st, day, ["monitor", name], monitor_view(st, name, day), ["R3"])
    cites = []
    for start, end, revoked, index, revoke_index in st.terms.get(name, ()):
        cites.append((index, start, "R3", f"term of days {start}..{end}" + (" (cut by revocation)" if revoked else "")))
        if revoke_index is not None:
            cites.append((revoke_index, end + 1, "R3", "revocation"))
    for actor, (index, cday) in st.conflicts.get(name, {}).items():
        cites.append((index, cday, "R3", f"conflict declared with {actor}"))
    out["determining"] = [_cite(i, d, r, _version(st, d), w) for i, d, r, w in sorted(cites)]
    out["not_counted"] = _not_counted(st, f"monitor:{name}")
    return out


def _entry(st, day: int, index) -> dict:
    """Whether an entry took effect, and if not its reason code (D6)."""
    index = int(index)
    if not 0 <= index <= st.last_index:
        raise InvalidInput(f"no entry {index} as of day {day}", reason="unknown_fact")
    record = st.journal.ineffective_of(index)
    code, sub = (record[1], record[2]) if record else (None, None)
    out = _base(st, day, ["entry", index], {"effective": record is None, "code": code, "sub": sub}, ["R1"])
    if record:
        out["not_counted"] = [{"index": r[0], "code": r[1], "sub": r[2], "detail": r[3]}
                              for r in st.journal.rejections("entry", index)][:1]
    return out


_BUILDERS = {
    "balance": _balance, "fines": _fines, "system": _system, "level": _level, "access": _access,
    "flags": _flags, "leaderboard": _leaderboard, "commitment": _commitment, "claim": _claim,
    "pact": _pact, "incident": _incident, "monitor": _monitor, "entry": _entry, "evidence": _evidence,
}


def cited_indexes(explanation: dict) -> list[int]:
    """Every log index an explanation cites (its inputs' too), and the genesis entry (0) that every
    derived value rests on (cast and ruleset); ascending. This is what an offline bundle for the
    explanation must prove (I6)."""
    found = {0}
    stack = [explanation]
    while stack:
        node = stack.pop()
        for record in node.get("determining", ()):
            found.add(record["index"])
        for record in node.get("start_of_day", ()):
            found.add(record["created_by"])
        for record in node.get("not_counted", ()):
            found.add(record["index"])
        stack.extend(node.get("inputs", ()))
    return sorted(i for i in found if isinstance(i, int) and not isinstance(i, bool))
