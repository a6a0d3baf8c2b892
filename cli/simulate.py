"""`pactlog simulate SCENARIO`: run a scenario file on a fresh log and print what the rules derive.

This is how a rule designer tries a change before the governors adopt it: write the story with
the proposed ruleset, run it, read the states, digests and explanations.  The log is fresh every
time (a temporary one unless --db or --keep says where), so nothing existing is ever touched.

The text renderers here (entry outcomes, an actors table, explanations) are shared with `demo`.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import click

from ledger.errors import InvalidInput
from ledger.scenario import Scenario, parse_scenario
from ledger.simulate import Simulation, prepare, write_cast_keys, write_log

from .common import read_input
from .explanation import explanation_lines
from .output import Output, output_options

DB_NAME = "pactlog.db"


@click.command()
@click.argument("scenario_path", metavar="SCENARIO")
@click.option("--db", "db_path", help="Write the log to this new database (default: a temporary one, removed).")
@click.option("--keep", "keep_dir",
              help="Keep everything in this new directory: pactlog.db, log.key, keys/<name>.key, trust.policy.")
@output_options
def simulate(scenario_path: str, db_path: str | None, keep_dir: str | None, out: Output) -> None:
    """Run SCENARIO (specs/scenario.md) on a fresh log: keys from its seed, every entry signed and
    appended on the scenario's clock, a checkpoint; print outcomes, states, digests, explanations."""
    if db_path and keep_dir:
        raise InvalidInput("give --db or --keep, not both", hint="--keep DIR puts the database in DIR", reason="usage")
    scenario = parse_scenario(read_input(scenario_path), source=os.path.basename(scenario_path))
    result = run_scenario(scenario, db_path=db_path, keep_dir=keep_dir)
    data = simulation_json(scenario, result, kept=keep_dir, temporary=not (db_path or keep_dir))
    data["scenario"] = scenario_path
    if out.json:
        out.result(data)
        return
    click.echo("\n".join(simulation_text(scenario, result, data)))


def run_scenario(scenario: Scenario, *, db_path: str | None = None, keep_dir: str | None = None) -> Simulation:
    """Prepare the scenario (every error first), then write it: to ``db_path``, into ``keep_dir``
    (with the keys and a trust policy), or to a temporary database that is removed afterwards."""
    if db_path and os.path.lexists(db_path):
        raise InvalidInput(f"{db_path} already exists", hint="simulate writes a fresh log; choose a new path",
                           reason="file_exists")
    if keep_dir and os.path.exists(keep_dir) and (not os.path.isdir(keep_dir) or os.listdir(keep_dir)):
        raise InvalidInput(f"{keep_dir} exists and is not an empty directory",
                           hint="pass --keep with a new directory", reason="file_exists")
    raws, evaluation = prepare(scenario)
    if keep_dir:
        os.makedirs(keep_dir, exist_ok=True)
        write_cast_keys(scenario, keep_dir)
        return write_log(scenario, raws, evaluation, os.path.join(keep_dir, DB_NAME))
    if db_path:
        return write_log(scenario, raws, evaluation, db_path)
    workdir = tempfile.mkdtemp(prefix="pactlog-simulate-")
    try:
        return write_log(scenario, raws, evaluation, os.path.join(workdir, DB_NAME))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def simulation_json(scenario: Scenario, result: Simulation, *, kept: str | None, temporary: bool) -> dict:
    evaluation = result.evaluation
    return {
        "description": scenario.description,
        "db": None if temporary else result.db_path,
        "kept": kept,
        "origin": result.origin,
        "log_vkey": result.log_vkey,
        "size": result.size,
        "checkpoint": result.checkpoint.decode(),
        "cast": {ref: _cast_json(scenario, ref) for ref in scenario.key_refs()},
        "outcomes": evaluation.outcomes,
        "states": evaluation.states,
        "digests": evaluation.digests,
        "explanations": evaluation.explanations,
        "final": evaluation.final,
    }


def _cast_json(scenario: Scenario, ref: str) -> dict:
    """One key of the story: its member's name and role (governor, actor, monitor, other) and
    which of the member's keys it is (0: the one the genesis or admission registers)."""
    name, _, generation = ref.partition("#")
    return {"name": name, "role": scenario.role_of(name)[:-1], "generation": int(generation or 0),
            "vkey": scenario.signer(ref).vkey}


def simulation_text(scenario: Scenario, result: Simulation, data: dict) -> list[str]:
    lines = []
    if scenario.description:
        lines.append(scenario.description)
    where = data["db"] or "a temporary database (removed; keep it with --keep DIR)"
    lines.append(f"log {result.origin}: {result.size} entries in {where}, checkpoint signed at size {result.size}")
    lines.append("")
    lines += outcome_lines(result.evaluation.outcomes)
    for state in result.evaluation.states:
        lines += ["", f"state as of day {state['as_of']}{' (projected)' if state['projected'] else ''}"
                      f"  digest {state['digest']}"]
        lines += ["  " + line for line in state_lines(state["state"])]
    if result.evaluation.digests:
        lines.append("")
        lines += [f"digest as of day {d['as_of']}{' (projected)' if d['projected'] else ''}: {d['digest']}"
                  for d in result.evaluation.digests]
    for item in result.evaluation.explanations:
        lines += ["", *explanation_lines(item["explanation"])]
    final = result.evaluation.final
    lines += ["", f"final digest (day {final['as_of']}): {final['digest']}"]
    return lines


# --- renderers (also used by `pactlog demo`) ------------------------------------------------------


def outcome_text(outcome: dict) -> str:
    if outcome["effective"]:
        return "effective"
    sub = f" ({outcome['sub']})" if outcome.get("sub") else ""
    detail = f": {outcome['detail']}" if outcome.get("detail") else ""
    return f"ineffective, {outcome['code']}{sub}{detail}"


def outcome_lines(outcomes: list[dict]) -> list[str]:
    return [f"#{o['index']:<4} day {o['day']:<4} {o['type']:<12} by {','.join(o['by']):<22} {outcome_text(o)}"
            for o in outcomes]


def state_lines(state: dict) -> list[str]:
    """An actors table, the system accounts and the ruleset version of a canonical state."""
    if "rejected" in state:
        return [f"the log was rejected at entry {state['rejected']['index']} ({state['rejected']['reason']})"]
    lines = [f"{'actor':<16} {'liquid':>7} {'locked':>7} {'retired':>7} {'fines':>6} {'level':>5} "
             f"{'access':<6} {'kept':>5}  flags"]
    for name, actor in sorted(state["actors"].items()):
        lines.append(f"{name:<16} {actor['liquid']:>7} {actor['locked']:>7} {actor['retired']:>7} "
                     f"{actor['fines_outstanding']:>6} {actor['level']:>5} {'yes' if actor['access'] else 'no':<6} "
                     f"{kept_text(actor['leaderboard']):>5}  {flags_text(actor['flags'])}")
    system = state["system"]
    lines.append("system: " + ", ".join(f"{key} {system[key]}" for key in sorted(system)))
    lines.append(f"ruleset version {state['ruleset']['in_force']} in force")
    return lines


def kept_text(line: dict) -> str:
    return "n/a" if line["kept"] is None else f"{line['kept']}%"


def flags_text(flags: dict) -> str:
    shown = []
    for name, value in sorted(flags.items()):
        if value is True:
            shown.append(name)
        elif isinstance(value, list) and value:
            shown.append(f"{name}({','.join(value)})")
    return " ".join(shown) or "-"


def register(cli: click.Group) -> None:
    cli.add_command(simulate)
