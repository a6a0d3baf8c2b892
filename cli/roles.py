"""The commands each coalition role uses to make its entries (specs/rules-rs1.md §4 and §13).

Every command builds one entry body from its options (field for field as the spec defines it),
signs it with the caller's key(s) (--key, repeatable for co-signed approvals and conflicts) and
appends it to the local log, then prints the entry's index and what the rules engine made of it:
effective, or ineffective with its reason code.  The entry is judged against the log as it is,
under the log's writer lock, so the printed outcome is the one every replay will derive.

An entry the engine could never give an effect to — a malformed body (unknown name, bad
verdict, negative self-report value), an unknown or undeclared type, a log without genesis — is
refused before anything is logged (exit 2): `pactlog sign` + `pactlog append` remain the raw way
to log anything.  Everything else is logged even when ineffective (an amount below 1, the wrong
role, an unknown subject, ...): the log keeps it with its reason code (D6), and the output says so.

`--dry-run` only judges; `-o FILE` only signs (for co-signing with `pactlog sign --cosign`,
then `pactlog submit FILE` appends it and shows its outcome).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click

from ledger import entry as entries
from ledger import sequence
from ledger.errors import InvalidInput, MalformedError
from ledger.derived import Coalition
from ledger.events import event_of, events_of
from ledger.keys import load_verifier
from ledger.log import Log
from ledger.note import Signer, parse_vkey
from ledger.rules import Engine, Event, require_valid_genesis
from ledger.rules.events import EXTENSION_TYPES, SECONDS_PER_DAY

from .common import db_option, load_signer, open_input, open_log, read_input, write_output
from .output import Output, output_options

NOON = 43_200
REFUSED = ("MALFORMED", "LOG_REJECTED")  # codes no later state can change: refused, not logged
ROLE_OF = {"governors": "governor", "actors": "actor", "monitors": "monitor"}


# --- who is signing ---------------------------------------------------------------------------------


class Who:
    """The caller as the coalition knows it: the name and role of the first --key in the current cast."""

    def __init__(self, cast: dict, vkey: str):
        self.cast = cast
        self.name, self.role = None, None
        for role, members in cast.items():
            for name, member_key in members.items():
                if member_key == vkey:
                    self.name, self.role = name, ROLE_OF[role]

    def own(self, given: str | None, role: str, option: str) -> str:
        """``given``, or the caller's own name when the caller has ``role``."""
        if given is not None:
            return given
        if self.name is not None and self.role == role:
            return self.name
        mine = f"your key belongs to {self.role} {self.name}" if self.name else "your key is not in the coalition's cast"
        raise InvalidInput(f"{option} is needed: {mine}", hint=f"pass {option} NAME", reason="usage")


def display_name(cast: dict, vkey: str) -> str:
    """A signer as people know it: its cast name, else its key name marked as outside the cast."""
    who = Who(cast, vkey)
    if who.name is not None:
        return who.name
    try:
        return f"{parse_vkey(vkey).name} (not in the cast)"
    except MalformedError:
        return vkey


# --- the one helper: sign a body as type T with key(s) K, judge it, append it ----------------------------


@dataclass
class Filing:
    """The options every role command shares, and the way to file one entry with them."""

    key_paths: tuple[str, ...]
    db_path: str
    day: int | None
    when: int | None
    dry_run: bool
    out_path: str | None
    out: Output

    def file(self, entry_type: str, build: Callable[[Who], dict], *, genesis: bool = False) -> None:
        """Build the body (given the caller), sign it as ``entry_type``, judge it, append it, report it."""
        if self.day is not None and self.when is not None:
            raise InvalidInput("give --day or --time, not both", reason="usage")
        signers = [load_signer(path) for path in self.key_paths]
        if len({s.vkey for s in signers}) != len(signers):
            raise InvalidInput("the same key is given twice", hint="each --key signs once", reason="usage")
        appending = not (self.dry_run or self.out_path)
        # Judged under the writer lock against the state after every logged entry, so the
        # outcome printed is the one every later replay derives.
        with open_log(self.db_path, write=appending) as log, _judge_at_end(log) as judge:
            engine = judge.engine
            genesis_body = event_of(0, log.entry_bytes(0)).body if log.size else None
            cast = _cast(engine, log.size)
            body = build(Who(cast, signers[0].vkey))
            if genesis and log.size:
                raise InvalidInput(f"the log already has {log.size} entries; a genesis is a log's first entry",
                                   hint="start a coalition on a new log (`pactlog init --db NEW`)", reason="usage")
            epoch = (body if genesis else genesis_body or {}).get("epoch")
            entry = self._sign(log, signers, entry_type, body, epoch)
            statement = entry.statement
            event = Event(log.size, statement.time, entry_type,
                          (statement.signer, *[k for k in entry.signers if k != statement.signer]), body)
            outcome = engine.apply(event)
            if genesis:  # its signers are named by the cast it registers
                cast = {role: body[role] for role in ROLE_OF if isinstance(body.get(role), dict)}
            if outcome.code in REFUSED:
                raise _refusal(entry_type, outcome, log.size)
            report = {"type": entry_type, "time": statement.time, "day": outcome.day,
                      "signers": [display_name(cast, k) for k in event.signers], "body": body,
                      "hash": entry.hash_hex, **_outcome_json(outcome)}
            if self.dry_run:
                self.out.result({**report, "index": None, "appended": False},
                                f"{_headline(report, None)}: would be {_outcome_words(report)}\n(dry run: nothing signed or logged)")
                return
            if self.out_path:
                write_output(self.out_path, entry.raw + b"\n")
                self._record_seq(statement.seq)
                self.out.result({**report, "index": None, "appended": False, "file": self.out_path},
                                f"signed {_headline(report, None)} into {self.out_path} (not appended)\n"
                                f"co-sign: pactlog sign --cosign {self.out_path} --key KEY -o FILE\n"
                                f"append:  pactlog submit FILE")
                return
            appended = log.append(entry.raw)
            self._record_seq(statement.seq)
            if appended.index != event.index:  # cannot happen under the lock with a fresh sequence number
                outcome = judge.again(appended.index, event_of(appended.index, entry.raw))
                report.update(_outcome_json(outcome))
        report.update(index=appended.index, appended=appended.new)
        self.out.result(report, f"{_headline(report, appended.index)}: {_outcome_words(report)}"
                                + ("" if report["effective"] else "\n  (the entry stays in the log with no effect)"))

    def _sign(self, log: Log, signers: list[Signer], entry_type: str, body: dict, epoch) -> entries.Entry:
        if self.when is not None:
            when = self.when
        elif self.day is not None:
            if not isinstance(epoch, int) or isinstance(epoch, bool):
                raise InvalidInput("--day needs the coalition's epoch, and the log has no genesis yet",
                                   hint="use --time, or start the coalition with `pactlog genesis`", reason="usage")
            when = epoch + self.day * SECONDS_PER_DAY + NOON
        else:
            when = int(clock.time())
        primary = signers[0]
        seq = sequence.next_seq(self.key_paths[0], log.store.last_seq(primary.vkey))
        statement = entries.make_statement(log=log.origin, type=entry_type, signer=primary.vkey, seq=seq,
                                           time=when, body=body)
        return entries.sign(statement, signers)

    def _record_seq(self, seq: int) -> None:
        sequence.record(self.key_paths[0], max(seq, sequence.last_used(self.key_paths[0])))


@dataclass
class _Judge:
    """The log's state, to judge entries by: ``engine`` holds it after every entry, ``again`` gives
    an entry already logged the outcome the log's own prefix gives it (an entry submitted again)."""

    log: Log
    engine: Engine
    coalition: Coalition | None     # None: entry 0 is not a valid genesis, the log has no cache

    def again(self, index: int, event: Event):
        if self.coalition is not None:
            return self.coalition.engine_before(index).apply(event)
        return _rejected_log(self.log, index).apply(event)


@contextmanager
def _judge_at_end(log: Log) -> Iterator[_Judge]:
    """The judge of new entries, for the duration of the block. Its engine comes from the
    derived-state cache (its newest snapshot and the entries after it, the cache brought up to
    date on the way; the engine reads what the cache keeps on disk, so the cache stays open), not
    a replay of the whole log. A log whose entry 0 is not a valid genesis has no cache: its engine
    has rejected it at entry 0, and the caller refuses the new entry."""
    if not log.size:
        yield _Judge(log, Engine(track=False), None)
        return
    try:
        coalition = Coalition.open(log)
    except InvalidInput as exc:
        if exc.reason != "no_genesis":
            raise
        yield _Judge(log, _rejected_log(log, log.size), None)
        return
    with coalition:
        coalition.sync()
        engine = coalition.engine()
        if engine.last_index != log.size - 1:     # the cache saw entries appended after our view opened
            engine = coalition.engine_before(log.size)
        yield _Judge(log, engine, coalition)


def _rejected_log(log: Log, end: int) -> Engine:
    """The engine of the first ``end`` entries of a log whose entry 0 is not a valid genesis (or
    an empty one): it rejects the log at entry 0, and every later entry leaves its state as it
    is, so entry 0 alone gives the state in which any later entry is judged."""
    engine = Engine(track=False)
    engine.apply_all(events_of(log.entries(0, min(end, 1))))
    return engine


def _cast(engine: Engine, judged: int) -> dict:
    """The current cast (name -> vkey per role) after ``judged`` entries; empty before a genesis
    or after a rejected one."""
    return engine.view().get("cast", {}) if judged else {}


def _outcome_json(outcome) -> dict:
    return {"effective": outcome.code is None, "code": outcome.code, "sub": outcome.sub, "detail": outcome.detail}


def _headline(report: dict, index: int | None) -> str:
    where = f"#{index} " if index is not None else ""
    return f"{where}{report['type']} by {', '.join(report['signers'])} (day {report['day']})"


def _outcome_words(report: dict) -> str:
    if report["effective"]:
        return "effective"
    sub = f" ({report['sub']})" if report["sub"] else ""
    detail = f": {report['detail']}" if report["detail"] else ""
    return f"logged, ineffective: {report['code']}{sub}{detail}"


def _refusal(entry_type: str, outcome, logged: int) -> InvalidInput:
    if not logged:
        hint = "a coalition log starts with its charter: `pactlog genesis CHARTER --key ...`"
    elif outcome.code == "LOG_REJECTED":
        hint = "this log's genesis is invalid, so no entry can take effect; start a new log"
    elif entry_type in EXTENSION_TYPES and (outcome.detail or "").startswith("unknown entry type"):
        hint = f"{entry_type} needs the '{EXTENSION_TYPES[entry_type]}' extension in the genesis ruleset"
    else:
        hint = "fix the options (specs/rules-rs1.md §4); `pactlog sign` + `append` log any entry as it is"
    return InvalidInput(f"refused: this {entry_type} could never take effect ({outcome.code}: {outcome.detail}); "
                        "nothing was signed or logged", hint=hint, reason="ineffective_entry")


def role_command(group: click.Group | None = None, name: str | None = None):
    """Turn ``function(filing, **options)`` into a role command with the shared options."""

    def decorate(function):
        @click.option("--key", "key_paths", multiple=True, required=True,
                      help="Your private key file (repeat to co-sign, e.g. several governors).")
        @click.option("--day", type=int, help="Date the entry at 12:00 UTC of this coalition day (default: now).")
        @click.option("--time", "when", type=int, help="Date the entry at this Unix time (default: now).")
        @click.option("--dry-run", is_flag=True, help="Only say what the entry would do; sign and log nothing.")
        @click.option("-o", "--out", "out_path",
                      help="Only sign: write the entry here for co-signing (`pactlog sign --cosign`); "
                           "append it later with `pactlog submit`.")
        @db_option
        @output_options
        @functools.wraps(function)
        def command(key_paths, day, when, dry_run, out_path, db_path, out: Output, **options):
            filing = Filing(tuple(key_paths), db_path, day, when, dry_run, out_path, out)
            return function(filing, **options)

        made = (group or click).command(name)(command)
        own = [p for p in made.params if p.name not in SHARED_OPTIONS]  # the command's own options first
        made.params = own + [p for p in made.params if p.name in SHARED_OPTIONS]
        return made

    return decorate


SHARED_OPTIONS = {"key_paths", "day", "when", "dry_run", "out_path", "db_path", "as_json", "quiet"}


# --- small option parsers ---------------------------------------------------------------------------


def _vkey_of(text: str) -> str:
    """A vkey given as itself or as the path of a .pub file."""
    return load_verifier(text).vkey


def _pairs(items: tuple[str, ...], option: str, convert: Callable[[str], object]) -> dict:
    result: dict = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{option} {item!r}: expected NAME=VALUE", reason="usage")
        if name in result:
            raise InvalidInput(f"{option}: {name!r} is given twice", reason="usage")
        result[name] = convert(value)
    return result


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise InvalidInput(f"{text!r} is not an integer", reason="usage") from None


def _json_value(text: str):
    """A parameter value: a JSON integer or object (METRICS), no floats."""
    try:
        return json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_float)
    except json.JSONDecodeError:
        raise InvalidInput(f"{text!r} is not a JSON integer or object", reason="usage") from None


def _refuse_float(text: str):
    raise InvalidInput(f"{text} is not an integer: rules use integers only", reason="usage")


def _text_of(path: str) -> str:
    try:
        return read_input(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", hint="evidence content is revealed as text",
                           reason="usage") from None


def _one_of(value, path, what: str) -> str:
    if (value is None) == (path is None):
        raise InvalidInput(f"give the {what} or a file holding it, exactly one", reason="usage")
    return value if value is not None else _text_of(path)


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- genesis ------------------------------------------------------------------------------------------


@role_command(name="genesis")
@click.argument("charter_path", metavar="CHARTER")
def genesis(filing: Filing, charter_path: str) -> None:
    """Start a coalition: log its charter (a JSON file) as the log's first entry, GENESIS.

    CHARTER: {"epoch"?, "governors": {name: key}, "actors": {...}, "monitors": {...},
    "ruleset"?: {"version": 1, "effective_day": 0, "changes": {...}, "extensions"?: [...]},
    "charter"?: text}; a key is a vkey or the path of a .pub file (relative to CHARTER).
    The epoch (Unix seconds of day 0) defaults to 00:00 UTC of the entry's day."""
    try:
        charter = json.loads(read_input(charter_path), parse_float=_refuse_float, parse_constant=_refuse_float)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedError(f"{charter_path} is not JSON: {exc}", reason="bad_charter") from None
    if not isinstance(charter, dict):
        raise MalformedError(f"{charter_path} must hold a JSON object", reason="bad_charter")
    base = os.path.dirname(charter_path) if charter_path != "-" else "."

    def key(text):
        if not isinstance(text, str):
            return text  # left for the genesis check to name
        try:
            return parse_vkey(text).vkey
        except MalformedError:
            return _vkey_of(os.path.join(base, text))

    body = dict(charter)
    for role in ("governors", "actors", "monitors"):
        if isinstance(body.get(role), dict):
            body[role] = {name: key(value) for name, value in body[role].items()}
    body.setdefault("ruleset", {"version": 1, "effective_day": 0, "changes": {}})
    if "epoch" not in body:
        if filing.when is None and filing.day is not None:
            raise InvalidInput("--day needs an epoch in the charter", hint="use --time, or set epoch", reason="usage")
        start = int(clock.time()) if filing.when is None else filing.when
        body["epoch"] = start - start % SECONDS_PER_DAY
    require_valid_genesis(body)
    filing.file("GENESIS", lambda who: body, genesis=True)


# --- actors' entries ----------------------------------------------------------------------------------


@role_command(name="commit")
@click.option("--id", "cid", required=True, help="Commitment id (unique in the coalition).")
@click.option("--deadline", type=int, required=True, help="Last day (inclusive) to show it fulfilled.")
@click.option("--actor", help="The committing actor (default: you).")
def commit(filing: Filing, cid: str, deadline: int, actor: str | None) -> None:
    """COMMIT: promise something by a deadline day; monitors attest it (R5)."""
    filing.file("COMMIT", lambda who: {"actor": who.own(actor, "actor", "--actor"), "id": cid, "deadline": deadline})


@role_command(name="claim")
@click.option("--id", "cid", required=True, help="Claim id (unique in the coalition).")
@click.option("--amount", type=int, required=True, help="Credits claimed (>= 1).")
@click.option("--actor", help="The claiming actor (default: you).")
def claim(filing: Filing, cid: str, amount: int, actor: str | None) -> None:
    """CLAIM: ask for safety credits; issued once enough monitors verify it (R4)."""
    filing.file("CLAIM", lambda who: {"actor": who.own(actor, "actor", "--actor"), "id": cid, "amount": amount})


@role_command(name="transfer")
@click.option("--to", "recipient", required=True, help="The receiving actor.")
@click.option("--amount", type=int, required=True, help="Credits to move (>= 1).")
@click.option("--from", "sender", help="The sending actor (default: you).")
def transfer(filing: Filing, recipient: str, amount: int, sender: str | None) -> None:
    """TRANSFER: move liquid credits to another actor (R4)."""
    filing.file("TRANSFER", lambda who: {"from": who.own(sender, "actor", "--from"), "to": recipient, "amount": amount})


@role_command(name="retire")
@click.option("--amount", type=int, required=True, help="Credits to retire for good (>= 1).")
@click.option("--actor", help="The retiring actor (default: you).")
def retire(filing: Filing, amount: int, actor: str | None) -> None:
    """RETIRE: take liquid credits out of circulation for good (R4)."""
    filing.file("RETIRE", lambda who: {"actor": who.own(actor, "actor", "--actor"), "amount": amount})


@role_command(name="appeal")
@click.argument("commitment")
def appeal(filing: Filing, commitment: str) -> None:
    """APPEAL: contest a breach of your COMMITMENT within the filing window (R8)."""
    filing.file("APPEAL", lambda who: {"commitment": commitment})


@role_command(name="report")
@click.option("--metric", required=True, help="Metric name, e.g. bio_uplift.")
@click.option("--value", type=int, required=True, help="Measured value (>= 0).")
@click.option("--actor", help="The reporting actor (default: you).")
def report(filing: Filing, metric: str, value: int, actor: str | None) -> None:
    """SELF_REPORT: report your own metric value (R11)."""
    filing.file("SELF_REPORT", lambda who: {"actor": who.own(actor, "actor", "--actor"), "metric": metric, "value": value})


@click.group(name="pact")
def pact() -> None:
    """Mutual-assurance pacts (R9): create, join, withdraw."""


@role_command(pact, name="create")
@click.option("--id", "pid", required=True, help="Pact id (unique in the coalition).")
@click.option("--member", "members", multiple=True, required=True, help="NAME=WEIGHT, repeated for every member.")
@click.option("--min-count", type=int, required=True, help="Joined members needed to trigger.")
@click.option("--min-weight-pct", type=int, required=True, help="Percent of the total weight needed to trigger.")
@click.option("--stake", type=int, required=True, help="Credits each joiner locks.")
@click.option("--bonus", type=int, required=True, help="Paid to each joiner if the pact fails (escrowed now).")
@click.option("--open-until", type=int, required=True, help="Last day to join.")
@click.option("--delay", type=int, default=0, show_default=True, help="Days from trigger to active.")
@click.option("--retention", type=int, help="Incident retention paid by the liable member first (R12).")
@click.option("--sponsor", help="The sponsoring actor (default: you).")
def pact_create(filing: Filing, pid, members, min_count, min_weight_pct, stake, bonus, open_until, delay, retention,
                sponsor) -> None:
    """PACT: propose a pact; it triggers when enough members join, fails if not by --open-until."""
    weights = _pairs(members, "--member", _int)

    def build(who: Who) -> dict:
        body = {"sponsor": who.own(sponsor, "actor", "--sponsor"), "id": pid, "members": weights,
                "min_count": min_count, "min_weight_pct": min_weight_pct, "stake": stake, "bonus": bonus,
                "open_until": open_until, "delay": delay}
        if retention is not None:
            body["retention"] = retention
        return body

    filing.file("PACT", build)


@role_command(pact, name="join")
@click.argument("pact_id", metavar="PACT")
@click.option("--actor", help="The joining actor (default: you).")
def pact_join(filing: Filing, pact_id: str, actor: str | None) -> None:
    """JOIN: join PACT, locking its stake."""
    filing.file("JOIN", lambda who: {"pact": pact_id, "actor": who.own(actor, "actor", "--actor")})


@role_command(pact, name="withdraw")
@click.argument("pact_id", metavar="PACT")
@click.option("--actor", help="The withdrawing actor (default: you).")
def pact_withdraw(filing: Filing, pact_id: str, actor: str | None) -> None:
    """WITHDRAW: leave PACT while it is still open (stake back to liquid)."""
    filing.file("WITHDRAW", lambda who: {"pact": pact_id, "actor": who.own(actor, "actor", "--actor")})


# --- monitors' entries ------------------------------------------------------------------------------


@role_command(name="attest")
@click.argument("commitment")
@click.argument("verdict", type=click.Choice(["FULFILLED", "BREACHED"], case_sensitive=False))
def attest(filing: Filing, commitment: str, verdict: str) -> None:
    """ATTEST: as a monitor, attest COMMITMENT FULFILLED or BREACHED (R5)."""
    filing.file("ATTEST", lambda who: {"commitment": commitment, "verdict": verdict})


@role_command(name="verify-claim")
@click.argument("claim_id", metavar="CLAIM")
@click.option("--amount", type=int, required=True, help="The amount you verified (>= 1).")
def verify_claim(filing: Filing, claim_id: str, amount: int) -> None:
    """VERIFY: as a monitor, verify CLAIM at an amount (R4)."""
    filing.file("VERIFY", lambda who: {"claim": claim_id, "amount": amount})


@role_command(name="audit-metric")
@click.argument("actor")
@click.option("--metric", required=True, help="Metric name, e.g. bio_uplift.")
@click.option("--value", type=int, required=True, help="The value you measured (>= 0).")
def audit_metric(filing: Filing, actor: str, metric: str, value: int) -> None:
    """AUDIT: as a monitor, record your own measurement of ACTOR's metric (R11)."""
    filing.file("AUDIT", lambda who: {"actor": actor, "metric": metric, "value": value})


@role_command(name="incident")
@click.option("--pact", "pact_id", required=True, help="The pact whose pool is liable.")
@click.option("--id", "iid", required=True, help="Incident id.")
@click.option("--actor", required=True, help="The actor responsible.")
@click.option("--damages", type=int, required=True, help="Damages you assess (>= 1).")
def incident(filing: Filing, pact_id: str, iid: str, actor: str, damages: int) -> None:
    """INCIDENT: as a monitor, report an incident against a pact's liability pool (R12)."""
    filing.file("INCIDENT", lambda who: {"pact": pact_id, "id": iid, "actor": actor, "damages": damages})


@role_command(name="conflict")
@click.option("--actor", required=True, help="The actor the monitor has a conflict with.")
@click.option("--monitor", help="The conflicted monitor (default: you).")
def conflict(filing: Filing, actor: str, monitor: str | None) -> None:
    """CONFLICT: declare a monitor's conflict of interest with an actor (signed by it and/or governors)."""
    filing.file("CONFLICT", lambda who: {"monitor": who.own(monitor, "monitor", "--monitor"), "actor": actor})


# --- every member ------------------------------------------------------------------------------------


@role_command(name="rotate-key")
@click.option("--new-key", required=True, help="The new key: a vkey or its .pub file.")
@click.option("--name", help="Whose key (default: yours).")
def rotate_key(filing: Filing, new_key: str, name: str | None) -> None:
    """ROTATE_KEY: replace your key, signed with the current one (a lost key: `govern approve rotate-key`)."""
    vkey = _vkey_of(new_key)
    filing.file("ROTATE_KEY", lambda who: {"name": name if name is not None else _any_name(who), "new_key": vkey})


def _any_name(who: Who) -> str:
    if who.name is None:
        raise InvalidInput("--name is needed: your key is not in the coalition's cast", reason="usage")
    return who.name


@role_command(name="exit")
@click.option("--name", help="Who leaves (default: you).")
def exit_coalition(filing: Filing, name: str | None) -> None:
    """EXIT (extension 'coalition'): leave the coalition; your record stays on the log."""
    filing.file("EXIT", lambda who: {"name": name if name is not None else _any_name(who)})


# --- evidence and whistleblowing (extensions) -----------------------------------------------------------


@click.group(name="evidence")
def evidence() -> None:
    """Evidence kept off the log (extension 'evidence'): commit to it, have it checked, reveal it."""


@role_command(evidence, name="commit")
@click.option("--id", "eid", required=True, help="Evidence id.")
@click.option("--digest", help="SHA-256 (64 lowercase hex) of the evidence text.")
@click.option("--file", "path", help="The evidence (UTF-8 text); only its SHA-256 is logged.")
@click.option("--label", default="", help="A disclosure label, e.g. 'confidential: eval report'.")
@click.option("--actor", help="The owning actor (default: you).")
def evidence_commit(filing: Filing, eid, digest, path, label, actor) -> None:
    """EVIDENCE: log a hash commitment to evidence that stays off the log."""
    if (digest is None) == (path is None):
        raise InvalidInput("give --digest or --file, exactly one", reason="usage")
    value = digest if digest is not None else _sha256_hex(_text_of(path))
    filing.file("EVIDENCE", lambda who: {"actor": who.own(actor, "actor", "--actor"), "id": eid, "digest": value,
                                         "label": label})


@role_command(evidence, name="check")
@click.argument("evidence_id", metavar="EVIDENCE")
def evidence_check(filing: Filing, evidence_id: str) -> None:
    """EVIDENCE_CHECK: as a monitor, attest you saw the evidence and it matches its commitment."""
    filing.file("EVIDENCE_CHECK", lambda who: {"evidence": evidence_id})


@role_command(evidence, name="reveal")
@click.argument("evidence_id", metavar="EVIDENCE")
@click.option("--content", help="The evidence text.")
@click.option("--content-file", help="A file holding the evidence text (UTF-8).")
def evidence_reveal(filing: Filing, evidence_id: str, content, content_file) -> None:
    """REVEAL: publish the evidence; it must hash to the committed digest."""
    text = _one_of(content, content_file, "--content")
    filing.file("REVEAL", lambda who: {"evidence": evidence_id, "content": text})


@click.group(name="whistle")
def whistle() -> None:
    """Whistleblower reports relayed by an ombud monitor (extension 'whistleblower')."""


@role_command(whistle, name="relay")
@click.option("--id", "wid", required=True, help="Report id.")
@click.option("--about", required=True, help="The actor reported on.")
@click.option("--evidence", "evidence_hex", help="SHA-256 hex of the report's content.")
@click.option("--evidence-file", help="The report's content (UTF-8); only its SHA-256 is logged.")
@click.option("--reporter", "reporter_hex", help="SHA-256 hex of REPORTER + '\\n' + SALT.")
@click.option("--reporter-name", help="The reporter (hashed with --salt; never logged in clear).")
@click.option("--salt", help="A secret salt for --reporter-name.")
def whistle_relay(filing: Filing, wid, about, evidence_hex, evidence_file, reporter_hex, reporter_name, salt) -> None:
    """WHISTLE: as an ombud, relay a report carrying only commitments to its content and reporter."""
    if (evidence_hex is None) == (evidence_file is None):
        raise InvalidInput("give --evidence or --evidence-file, exactly one", reason="usage")
    if (reporter_hex is None) == (reporter_name is None) or (reporter_name is None) != (salt is None):
        raise InvalidInput("give --reporter, or --reporter-name with --salt", reason="usage")
    digest = evidence_hex if evidence_hex is not None else _sha256_hex(_text_of(evidence_file))
    reporter = reporter_hex if reporter_hex is not None else _sha256_hex(f"{reporter_name}\n{salt}")
    filing.file("WHISTLE", lambda who: {"id": wid, "about": about, "evidence": digest, "reporter": reporter})


@role_command(whistle, name="reveal")
@click.argument("whistle_id", metavar="WHISTLE")
@click.option("--reporter", required=True, help="The reporter's name.")
@click.option("--salt", required=True, help="The salt used when relaying.")
@click.option("--content", help="The report's text.")
@click.option("--content-file", help="A file holding the report's text (UTF-8).")
def whistle_reveal(filing: Filing, whistle_id, reporter, salt, content, content_file) -> None:
    """WHISTLE_REVEAL: as the relaying ombud, reveal the report and its reporter."""
    text = _one_of(content, content_file, "--content")
    filing.file("WHISTLE_REVEAL", lambda who: {"whistle": whistle_id, "reporter": reporter, "salt": salt,
                                               "content": text})


# --- governance ---------------------------------------------------------------------------------------


@click.group(name="govern")
def govern() -> None:
    """Governors' approvals of proposals (R2): a proposal takes effect at GOV_QUORUM approvals."""


@govern.group(name="approve")
def approve() -> None:
    """APPROVE a proposal. Co-sign with several --key, or sign with -o and add `pactlog sign --cosign`."""


def _approval(filing: Filing, proposal: dict, nonce: str | None) -> None:
    if nonce is not None:
        proposal["nonce"] = nonce
    filing.file("APPROVE", lambda who: {"proposal": proposal})


nonce_option = click.option("--nonce", help="Tells two otherwise equal proposals apart (e.g. a renewal).")


@role_command(approve, name="accredit")
@click.argument("monitor")
@nonce_option
def approve_accredit(filing: Filing, monitor: str, nonce) -> None:
    """ACCREDIT MONITOR for one accreditation term (R3)."""
    _approval(filing, {"action": "ACCREDIT", "monitor": monitor}, nonce)


@role_command(approve, name="revoke")
@click.argument("monitor")
@nonce_option
def approve_revoke(filing: Filing, monitor: str, nonce) -> None:
    """REVOKE MONITOR's accreditation from the adoption day on (not retroactive)."""
    _approval(filing, {"action": "REVOKE", "monitor": monitor}, nonce)


@role_command(approve, name="decide")
@click.argument("commitment")
@click.argument("decision", type=click.Choice(["UPHOLD", "OVERTURN"], case_sensitive=False))
@nonce_option
def approve_decide(filing: Filing, commitment: str, decision: str, nonce) -> None:
    """DECIDE an appeal on COMMITMENT: UPHOLD or OVERTURN (R8)."""
    _approval(filing, {"action": "DECIDE", "commitment": commitment, "decision": decision}, nonce)


@role_command(approve, name="adopt")
@click.option("--version", "version", type=int, required=True, help="The new ruleset version (highest + 1).")
@click.option("--effective-day", type=int, required=True, help="First day it is in force (>= adoption day).")
@click.option("--change", "changes", multiple=True, help="PARAMETER=VALUE (a JSON integer or object), repeated.")
@nonce_option
def approve_adopt(filing: Filing, version: int, effective_day: int, changes, nonce) -> None:
    """ADOPT a new ruleset version with parameter changes (specs/rules-rs1.md §6)."""
    _approval(filing, {"action": "ADOPT", "version": version, "effective_day": effective_day,
                       "changes": _pairs(changes, "--change", _json_value)}, nonce)


@role_command(approve, name="rotate-key")
@click.argument("name")
@click.argument("new_key")
@nonce_option
def approve_rotate_key(filing: Filing, name: str, new_key: str, nonce) -> None:
    """ROTATE_KEY of NAME to NEW_KEY (a vkey or .pub file) by governor quorum, for a lost key."""
    _approval(filing, {"action": "ROTATE_KEY", "name": name, "new_key": _vkey_of(new_key)}, nonce)


@role_command(approve, name="admit")
@click.argument("role", type=click.Choice(["actor", "monitor"]))
@click.argument("name")
@click.argument("key")
@nonce_option
def approve_admit(filing: Filing, role: str, name: str, key: str, nonce) -> None:
    """ADMIT a new actor or monitor NAME with KEY (extension 'coalition')."""
    _approval(filing, {"action": "ADMIT", "role": role, "name": name, "key": _vkey_of(key)}, nonce)


@role_command(approve, name="set-governors")
@click.argument("governors", nargs=-1, required=True)
@nonce_option
def approve_set_governors(filing: Filing, governors, nonce) -> None:
    """SET_GOVERNORS to NAME=KEY ... (extension 'coalition'); newcomers approve with their own keys."""
    _approval(filing, {"action": "SET_GOVERNORS", "governors": _pairs(governors, "governor", _vkey_of)}, nonce)


@role_command(approve, name="ombud")
@click.argument("monitor")
@nonce_option
def approve_ombud(filing: Filing, monitor: str, nonce) -> None:
    """OMBUD: designate MONITOR as a whistleblower ombud (extension 'whistleblower')."""
    _approval(filing, {"action": "OMBUD", "monitor": monitor}, nonce)


@role_command(approve, name="proposal")
@click.argument("proposal_json", metavar="JSON")
def approve_proposal(filing: Filing, proposal_json: str) -> None:
    """Approve any proposal given as its JSON object, exactly as written."""
    proposal = _json_value(proposal_json)
    if not isinstance(proposal, dict):
        raise InvalidInput("a proposal is a JSON object", hint='e.g. \'{"action": "ACCREDIT", "monitor": "M1"}\'',
                           reason="usage")
    filing.file("APPROVE", lambda who: {"proposal": proposal})


# --- submit: append signed entries and show their outcomes -------------------------------------------------


@click.command(name="submit")
@click.argument("paths", nargs=-1)
@db_option
@output_options
def submit(paths: tuple[str, ...], db_path: str, out: Output) -> None:
    """Append signed entries (files or stdin, one per line, e.g. co-signed approvals) and show
    what the rules engine made of each. Unlike the role commands it refuses nothing the log admits."""
    datas = []
    for path in paths or ("-",):
        with open_input(path) as stream:
            datas += [line.rstrip(b"\r\n") for line in stream if line.strip()]
    if not datas:
        raise InvalidInput("no entry to submit", hint="pass entry files (from `pactlog sign` or `-o`)", reason="empty")
    with open_log(db_path, write=True) as log, _judge_at_end(log) as judge:
        engine = judge.engine
        judged = log.size
        results = []
        for appended in log.append_many(datas):
            event = event_of(appended.index, log.entry_bytes(appended.index))
            cast = _cast(engine, judged)  # who is who now: when a new entry is judged
            if appended.new:
                outcome = engine.apply(event)
                judged += 1
            else:                         # already logged: its outcome as the log's own prefix gives it
                outcome = judge.again(appended.index, event)
            results.append({"index": appended.index, "hash": appended.hash_hex, "appended": appended.new,
                            "type": event.type, "day": outcome.day,
                            "signers": [display_name(cast, k) for k in event.signers], **_outcome_json(outcome)})
    lines = [f"{_headline(r, r['index'])}: {_outcome_words(r)}{'' if r['appended'] else ' (already logged)'}"
             for r in results]
    out.result({"entries": results}, "\n".join(lines))


def register(cli: click.Group) -> None:
    for command in (genesis, commit, claim, transfer, retire, appeal, report, pact, attest, verify_claim,
                    audit_metric, incident, conflict, rotate_key, exit_coalition, evidence, whistle, govern, submit):
        cli.add_command(command)
