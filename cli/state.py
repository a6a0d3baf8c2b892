"""Query commands on the coalition's derived state: state, balance, standing, access, pacts,
commitments, leaderboard, explain.

Every command reads the log (the --db database), brings the derived-state cache beside it up to
date when it may (ledger/derived.py), and answers as of a day: --as-of DAY takes a day number or
a date YYYY-MM-DD (UTC); the default is the day of the log's last entry. Days after it are
projections (start-of-day effects applied, no new entries), marked as such. Output names actors,
never key ids; --json prints one object for scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ledger.derived import Coalition
from ledger.errors import LogLocked

from .common import db_option, open_log, write_output
from .explanation import explanation_lines
from .output import Output, output_options

as_of_option = click.option("--as-of", "as_of", metavar="DAY",
                            help="A day number or a date YYYY-MM-DD (default: the day of the last entry).")


@contextmanager
def coalition_of(db_path: str, out: Output) -> Iterator[Coalition]:
    """The coalition of the log at ``db_path``, its cache synced when this process may write it."""
    with open_log(db_path) as log, Coalition.open(log) as coalition:
        if coalition.writable:
            behind = log.size - coalition.cached_size
            progress = out.progress("deriving state", behind) if behind > 10_000 else None
            coalition.sync(progress)
            if progress:
                progress.done()
        elif coalition.cached_size < log.size:
            out.say(f"note: the derived-state cache is not updated ({coalition.read_only_reason}); "
                    "computing what it lacks from the log")
            coalition.long_replay = lambda total: out.progress("replaying the log", total)
        yield coalition


def _when(coalition: Coalition, day: int) -> dict:
    return {"as_of": day, "date": coalition.date_of(day), "projected": day > coalition.current_day}


def _heading(coalition: Coalition, day: int) -> str:
    projected = f" (projected: no entries after day {coalition.current_day})" if day > coalition.current_day else ""
    return f"as of day {day} ({coalition.date_of(day)}){projected}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _flags_text(flags: dict) -> str:
    parts = []
    for name, value in sorted(flags.items()):
        if isinstance(value, list) and value:
            parts.append(f"{name}: {', '.join(value)}")
        elif value is True:
            parts.append(name)
    return ", ".join(parts) or "none"


def _table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells)


def _actor_line(name: str, a: dict) -> list:
    return [name, a["liquid"], a["locked"], a["retired"], a["fines_outstanding"], a["level"],
            _yes(a["access"]), _flags_text(a["flags"])]


ACTOR_HEADER = ["actor", "liquid", "locked", "retired", "fines", "level", "access", "flags"]


# --- state ----------------------------------------------------------------------------------


@click.command()
@click.option("--actor", "actor", metavar="NAME", help="Only this actor.")
@as_of_option
@click.option("--digest", "digest_only", is_flag=True,
              help="Print only the canonical state digest (SHA-256 of the whole derived state).")
@click.option("--rebuild", is_flag=True, help="Derive the cache again from the whole log first.")
@db_option
@output_options
def state(actor, as_of, digest_only, rebuild, db_path, out: Output) -> None:
    """The coalition's derived state: every actor's balances (liquid, locked, retired), level,
    access, flags and outstanding fines, and the system accounts.

    With --digest, only the digest of the canonical state (specs/rules-rs1.md §9), which any
    implementation of RS-1 reproduces from the same log."""
    if rebuild:
        with open_log(db_path) as log, Coalition.open(log) as coalition:
            if not coalition.writable:
                raise LogLocked(f"cannot rebuild the derived state: {coalition.read_only_reason}",
                                hint="retry when the other process is done")
            progress = out.progress("deriving state", log.size)
            coalition.rebuild(progress)
            progress.done()
    with coalition_of(db_path, out) as coalition:
        day = coalition.day(as_of)
        if digest_only:
            value = coalition.digest(day)
            out.result({**_when(coalition, day), "digest": value, "size": coalition.log.size}, value)
            return
        if actor is not None:
            a = coalition.actor(actor, day)
            out.result(a, f"{actor} {_heading(coalition, day)}\n" + _table(ACTOR_HEADER, [_actor_line(actor, a)]))
            return
        summary = coalition.summary(day)
        actors = coalition.actors(day)
        monitors = coalition.monitors(day)
        data = {**_when(coalition, day), "through_index": summary["through_index"],
                "ruleset_in_force": summary["ruleset"]["in_force"], "system": summary["system"],
                "actors": actors, "monitors": {name: {"accredited": m["accredited"]} for name, m in monitors.items()}}
        system = summary["system"]
        text = "\n".join([
            f"coalition {_heading(coalition, day)}, through entry {summary['through_index']}, "
            f"ruleset version {summary['ruleset']['in_force']}",
            _table(ACTOR_HEADER, [_actor_line(name, a) for name, a in actors.items()]),
            "system: " + ", ".join(f"{k} {system[k]}" for k in ("BUFFER", "VICTIM", "escrow", "issued", "uncovered")),
            "monitors accredited: " + (", ".join(n for n, m in monitors.items() if m["accredited"]) or "none"),
        ])
        out.result(data, text)


# --- one actor ------------------------------------------------------------------------------


@click.command()
@click.argument("name")
@as_of_option
@db_option
@output_options
def balance(name, as_of, db_path, out: Output) -> None:
    """An actor's credits: liquid, locked (staked in pacts), retired, and outstanding fines."""
    with coalition_of(db_path, out) as coalition:
        a = coalition.actor(name, as_of)
        fields = ("liquid", "locked", "retired", "holdings", "fines_outstanding")
        out.result({"actor": name, **_when(coalition, a["as_of"]), **{f: a[f] for f in fields}},
                   f"{name} {_heading(coalition, a['as_of'])}: liquid {a['liquid']}, locked {a['locked']}, "
                   f"retired {a['retired']} (holdings {a['holdings']}); outstanding fines {a['fines_outstanding']}")


@click.command()
@click.argument("name")
@as_of_option
@db_option
@output_options
def standing(name, as_of, db_path, out: Output) -> None:
    """An actor's sanction level with the breaches behind it and their stays, its access and flags."""
    with coalition_of(db_path, out) as coalition:
        a = coalition.actor(name, as_of)
        window = coalition.summary(a["as_of"])["ruleset"]["params"]["SANCTION_WINDOW"]
        data = {"actor": name, **_when(coalition, a["as_of"]), "level": a["level"], "suspended": a["suspended"],
                "access": a["access"], "flags": a["flags"], "sanction_window": window,
                "breaches": a["breaches"]}
        lines = [f"{name} {_heading(coalition, a['as_of'])}: level {a['level']}"
                 + (" (suspended)" if a["suspended"] else "") + f", access {_yes(a['access'])}",
                 f"flags: {_flags_text(a['flags'])}",
                 f"breaches behind the level and stayed ones (sanction window {window} days):"
                 + ("" if a["breaches"] else " none")]
        for b in a["breaches"]:
            how = "counts" if b["counted"] else ("stayed by an appeal" if b["stayed"] else b["status"].lower())
            appeal = f", appeal {b['appeal']}" if b["appeal"] else ""
            lines.append(f"  {b['commitment']}: breached on day {b['breach_day']}, {how}{appeal}")
        out.result(data, "\n".join(lines))


@click.command()
@click.argument("name")
@as_of_option
@db_option
@output_options
def access(name, as_of, db_path, out: Output) -> None:
    """Whether an actor may get compute (R10): level <= 2 and holdings >= ACCESS_MIN."""
    with coalition_of(db_path, out) as coalition:
        a = coalition.actor(name, as_of)
        minimum = coalition.summary(a["as_of"])["ruleset"]["params"]["ACCESS_MIN"]
        data = {"actor": name, **_when(coalition, a["as_of"]), "access": a["access"], "level": a["level"],
                "holdings": a["holdings"], "access_min": minimum}
        verdict = "granted" if a["access"] else "denied"
        out.result(data, f"{name} {_heading(coalition, a['as_of'])}: access {verdict} (level {a['level']}, "
                         f"must be <= 2; holdings {a['holdings']}, must be >= ACCESS_MIN {minimum})")


# --- lists ----------------------------------------------------------------------------------


@click.command()
@as_of_option
@db_option
@output_options
def pacts(as_of, db_path, out: Output) -> None:
    """Every mutual-assurance pact with its status (OPEN, TRIGGERED, ACTIVE, FAILED)."""
    with coalition_of(db_path, out) as coalition:
        day = coalition.day(as_of)
        found = coalition.pacts(day)
        rows = [[pid, p["sponsor"], p["status"], f"{len(p['joined'])}/{len(p['members'])}", p["stake"],
                 p["escrow"], p["open_until"], p["trigger_day"], p["active_from"], p["failed_day"]]
                for pid, p in found.items()]
        header = ["pact", "sponsor", "status", "joined", "stake", "escrow", "open_until", "triggered", "active_from",
                  "failed"]
        out.result({**_when(coalition, day), "pacts": found},
                   f"pacts {_heading(coalition, day)}\n" + (_table(header, rows) if rows else "none"))


@click.command()
@click.option("--actor", "actor", metavar="NAME", help="Only this actor's commitments.")
@as_of_option
@db_option
@output_options
def commitments(actor, as_of, db_path, out: Output) -> None:
    """Commitments with their status, deadline, fine and appeal."""
    with coalition_of(db_path, out) as coalition:
        day = coalition.day(as_of)
        found = coalition.commitments(actor, day)
        rows = [[cid, c["actor"], c["status"] + (" (stayed)" if c["stayed"] else ""), c["deadline"], c["resolved_day"],
                 None if c["fine"] is None else c["fine"]["amount"], None if c["appeal"] is None else c["appeal"]["status"]]
                for cid, c in found.items()]
        header = ["commitment", "actor", "status", "deadline", "resolved", "fine", "appeal"]
        out.result({**_when(coalition, day), "actor": actor, "commitments": found},
                   f"commitments {_heading(coalition, day)}\n" + (_table(header, rows) if rows else "none"))


@click.command()
@as_of_option
@db_option
@output_options
def leaderboard(as_of, db_path, out: Output) -> None:
    """R13: per actor, commitments fulfilled, breached and voided, and the kept percentage
    (best first; "n/a" when nothing is resolved)."""
    with coalition_of(db_path, out) as coalition:
        day = coalition.day(as_of)
        lines = coalition.leaderboard(day)
        rows = [[line["rank"], line["actor"], line["fulfilled"], line["breached"], line["voided"],
                 "n/a" if line["kept"] is None else f"{line['kept']}%"] for line in lines]
        out.result({**_when(coalition, day), "leaderboard": lines},
                   f"leaderboard {_heading(coalition, day)}\n"
                   + _table(["rank", "actor", "fulfilled", "breached", "voided", "kept"], rows))


# --- explain --------------------------------------------------------------------------------

FACTS_HELP = """FACT is one of: balance NAME [liquid|locked|retired|fines], fines NAME, system BUFFER|VICTIM,
level NAME, access NAME, flags NAME, leaderboard NAME, commitment ID, claim ID, pact ID,
incident PACT ID NAME, monitor NAME, entry INDEX, evidence ID."""


@click.command(epilog=FACTS_HELP)
@click.argument("fact")
@click.argument("args", nargs=-1)
@as_of_option
@click.option("--bundle", "bundle_path", metavar="FILE",
              help="Also write one offline bundle proving every cited entry against the latest signed checkpoint.")
@db_option
@output_options
def explain(fact, args, as_of, bundle_path, db_path, out: Output) -> None:
    """Why a derived value is what it is: the rules and ruleset version applied, the entries that
    determined it, start-of-day effects, and the entries considered that did not count (R14).

    With --bundle FILE, anyone can check every cited entry offline:
    `pactlog verify FILE --policy POLICY`."""
    with coalition_of(db_path, out) as coalition:
        day = coalition.day(as_of)
        explanation = coalition.explain(fact, *args, as_of=day)
        cited = coalition.cited(explanation)
        data = {**_when(coalition, day), "explanation": explanation, "cited": cited}
        lines = explanation_lines(explanation, lambda d: _heading(coalition, d))
        lines.append(f"cited entries: {', '.join(map(str, cited))} (entry 0 is the coalition's genesis)")
        if bundle_path:
            bundle, size = coalition.bundle(cited)
            write_output(bundle_path, bundle)
            data.update({"bundle": bundle_path, "checkpoint_size": size})
            lines.append(f"wrote {bundle_path}: {len(cited)} entries proven against the signed checkpoint at size "
                         f"{size}; check it offline with `pactlog verify {bundle_path} --policy POLICY`")
        out.result(data, "\n".join(lines))


def register(cli) -> None:
    """Add this module's commands to the pactlog group."""
    for command in (state, balance, standing, access, pacts, commitments, leaderboard, explain):
        cli.add_command(command)
