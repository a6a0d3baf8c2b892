"""`pactlog demo`: a coalition's year on the log, its leaderboard, one lab's standing explained and
proved offline.  `pactlog demo --core` is the log core's own walk-through (keys, log, proofs).

The coalition demo runs the packaged scenario `cli/scenarios/demo-coalition.json` (3 governors, 4
labs, 5 monitors, a year of activity touching every rule R2-R13) through the same machinery as
`pactlog simulate`, then shows what a member or an outsider would look at, printing the commands
they would type: the leaderboard, lab deneb's standing and the explanation of its sanction level,
a bundle proving every entry that explanation cites against the log's signed checkpoint, the trust
policy, and the offline verification of that bundle by `pactlog verify` itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import time
from importlib import resources

import click

from ledger import entry as entries
from ledger import keys
from ledger.errors import InvalidInput
from ledger.log import Log
from ledger.rules.explain import cited_indexes, explain
from ledger.scenario import parse_scenario

from .output import Output, output_options
from .explanation import explanation_lines
from .simulate import kept_text, run_scenario

SCENARIO_FILE = "demo-coalition.json"
DEMO_LAB = "deneb"  # the lab whose standing the demo explains: sanctioned, fined, not eligible
DEMO_DAY = 370  # "today" in the demo: a few days after the story's last entry
ORIGIN = "demo.pactlog.org/log"  # the core demo's log


@click.command()
@click.option("--dir", "workdir", default="pactlog-demo", show_default=True, help="Fresh directory to work in.")
@click.option("--core", is_flag=True, help="Run the log core's walk-through instead (keys, log, proofs, growth).")
@output_options
def demo(workdir: str, core: bool, out: Output) -> None:
    """Run a demo coalition's year and show its leaderboard, one lab's standing explained, and an
    offline proof of that explanation (--core: the log core's walk-through)."""
    if os.path.exists(workdir) and (not os.path.isdir(workdir) or os.listdir(workdir)):
        raise InvalidInput(f"{workdir} is not an empty directory", hint="pass --dir with a new directory", reason="usage")
    os.makedirs(workdir, exist_ok=True)
    if core:
        core_demo(workdir, out)
    else:
        coalition_demo(workdir, out)


def demo_scenario_text() -> str:
    """The packaged demo scenario (a JSON file in cli/scenarios)."""
    return resources.files("cli.scenarios").joinpath(SCENARIO_FILE).read_text(encoding="utf-8")


# --- the coalition demo -----------------------------------------------------------------------------


def coalition_demo(workdir: str, out: Output) -> None:
    from .main import run  # the same entry point as the `pactlog` command

    text = demo_scenario_text()
    scenario_path = os.path.join(workdir, SCENARIO_FILE)
    coalition = os.path.join(workdir, "coalition")
    db = os.path.join(coalition, "pactlog.db")
    policy = os.path.join(coalition, "trust.policy")
    bundle = os.path.join(workdir, f"{DEMO_LAB}-level.tlog-proof")
    commands: list[list[str]] = []

    def show(title: str, *argv: str) -> None:
        commands.append(["pactlog", *argv])
        if not out.json:
            click.echo(f"\n# {title}\n$ pactlog {shlex.join(argv)}")

    with open(scenario_path, "w", encoding="utf-8") as f:
        f.write(text)
    scenario = parse_scenario(text, source=SCENARIO_FILE)
    show("a year of a coalition (3 governors, 4 labs, 5 monitors) as a scenario, signed onto a fresh log",
         "simulate", scenario_path, "--keep", coalition)
    result = run_scenario(scenario, keep_dir=coalition)
    evaluation = result.evaluation
    ineffective: dict[str, int] = {}
    for outcome in evaluation.outcomes:
        if not outcome["effective"]:
            ineffective[outcome["code"]] = ineffective.get(outcome["code"], 0) + 1
    if not out.json:
        click.echo(f"{result.size} entries, days 0-{evaluation.final['as_of']}; checkpoint signed at size {result.size}")
        click.echo(f"{sum(ineffective.values())} entries logged but ineffective, each with its reason code: "
                   + ", ".join(f"{code} x{n}" for code, n in sorted(ineffective.items())))

    engine = evaluation.engine
    state = engine.view(DEMO_DAY)
    board = leaderboard(state)
    show(f"the leaderboard (R13) as of day {DEMO_DAY}", "leaderboard", "--db", db, "--as-of", str(DEMO_DAY))
    if not out.json:
        click.echo("\n".join(leaderboard_lines(board)))

    standing = standing_of(state, DEMO_LAB)
    show(f"{DEMO_LAB}'s standing", "standing", DEMO_LAB, "--db", db, "--as-of", str(DEMO_DAY))
    if not out.json:
        click.echo(standing_text(standing))

    explanation = explain(engine, "level", DEMO_LAB, as_of=DEMO_DAY)
    cited = cited_indexes(explanation)
    with Log.open(db) as log:
        proof = log.bundle(cited)
    with open(bundle, "wb") as f:
        f.write(proof)
    show(f"why {DEMO_LAB} is at level {explanation['value']}, with an offline proof of every entry it cites",
         "explain", "level", DEMO_LAB, "--db", db, "--as-of", str(DEMO_DAY), "--bundle", bundle)
    if not out.json:
        click.echo("\n".join(explanation_lines(explanation)))
        click.echo(f"wrote {bundle}: {len(cited)} entries ({', '.join(f'#{i}' for i in cited)}) proved against "
                   f"the checkpoint at size {result.size}")

    show("the trust policy a verifier needs (C2SP tlog-policy)", "policy", "--db", db, "-o", policy)
    if not out.json:
        with open(policy, encoding="utf-8") as f:
            click.echo(f.read().rstrip("\n"))

    verify_argv = ["verify", bundle, "--policy", policy]
    show("anyone checks those entries offline: no database, no network", *verify_argv)
    if out.json:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = run([*verify_argv, "--json"])
        verified = json.loads(captured.getvalue() or "null")
    else:
        code, verified = run(verify_argv), None
    if code != 0:
        if out.json:
            click.echo(json.dumps({"ok": False, "exit_code": code, "reason": "demo_step_failed",
                                   "message": "the offline verification failed", "dir": workdir}))
        raise click.exceptions.Exit(code)
    if out.json:
        out.result({"dir": workdir, "scenario": scenario_path, "db": db, "size": result.size,
                    "final_digest": evaluation.final["digest"], "ineffective": ineffective, "as_of": DEMO_DAY,
                    "leaderboard": board, "standing": standing, "explanation": explanation, "bundle": bundle,
                    "cited": cited, "policy": policy, "verified": verified, "commands": commands})
    else:
        click.echo(f"\ndemo complete: everything is in {workdir}/ "
                   f"(try `pactlog simulate {scenario_path}` after changing the scenario)")


def leaderboard(state: dict) -> list[dict]:
    """R13's lines, best kept record first (nothing resolved last), then by name."""
    lines = [{"actor": name, **actor["leaderboard"]} for name, actor in state["actors"].items()]
    return sorted(lines, key=lambda line: (line["kept"] is None, -(line["kept"] or 0), -line["fulfilled"], line["actor"]))


def leaderboard_lines(board: list[dict]) -> list[str]:
    lines = [f"{'rank':<5} {'actor':<16} {'kept':>5} {'fulfilled':>9} {'breached':>8} {'voided':>6}"]
    for rank, line in enumerate(board, start=1):
        lines.append(f"{rank:<5} {line['actor']:<16} {kept_text(line):>5} {line['fulfilled']:>9} "
                     f"{line['breached']:>8} {line['voided']:>6}")
    return lines


def standing_of(state: dict, actor: str) -> dict:
    data = state["actors"][actor]
    return {"actor": actor, "as_of": state["as_of"], "level": data["level"], "suspended": data["suspended"],
            "access": data["access"], "liquid": data["liquid"], "locked": data["locked"], "retired": data["retired"],
            "fines_outstanding": data["fines_outstanding"], "flags": data["flags"]}


def standing_text(standing: dict) -> str:
    names = {0: "good standing", 1: "warning", 2: "probation", 3: "suspended"}
    return (f"{standing['actor']} as of day {standing['as_of']}: level {standing['level']} "
            f"({names[standing['level']]}), compute access {'yes' if standing['access'] else 'no'}; "
            f"liquid {standing['liquid']}, locked {standing['locked']}, retired {standing['retired']}, "
            f"fines outstanding {standing['fines_outstanding']}")


# --- the log core's walk-through (issue 3) ------------------------------------------------------------


def core_demo(workdir: str, out: Output) -> None:
    """Keys, log, signed entries, checkpoint, an offline bundle verified with only the trust policy,
    1,000 more entries, the old bundle checked against the new checkpoint, and a full audit."""
    from .main import run  # the same entry point as the `pactlog` command

    db = os.path.join(workdir, "ledger.db")
    path = lambda name: os.path.join(workdir, name)  # noqa: E731
    steps: list[dict] = []

    def step(title: str, *args: str) -> None:
        argv = [*args, "--db", db] if args[0] not in {"key", "verify"} else list(args)
        if not out.json:
            click.echo(f"\n# {title}\n$ pactlog {shlex.join(argv)}")
        if out.json:  # one JSON object in the end: keep each step's own JSON inside it
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                code = run([*argv, "--json"])
            result = json.loads(captured.getvalue() or "null")
        else:
            code, result = run(argv), None
        steps.append({"step": title, "command": ["pactlog", *argv], "exit_code": code, "result": result})
        if code != 0:
            if out.json:
                click.echo(json.dumps({"ok": False, "exit_code": code, "reason": "demo_step_failed",
                                       "message": f"step failed: {title}", "dir": workdir, "steps": steps}))
            raise click.exceptions.Exit(code)

    step("a key for the log (its name is the log's origin)", "key", "generate", ORIGIN, "-o", path("log.key"))
    step("create the log", "init", "--key", path("log.key"))
    step("the trust policy a verifier needs (C2SP tlog-policy)", "policy", "-o", path("trust.policy"))
    step("keys for two labs", "key", "generate", "lab-a.example", "-o", path("lab-a.key"))
    step("", "key", "generate", "lab-b.example", "-o", path("lab-b.key"))
    step("lab A commits to an external red-team before release", "sign", "--key", path("lab-a.key"),
         "--type", "COMMIT", "--body", '{"id":"a-redteam","deadline":90,"text":"external red-team before release"}',
         "-o", path("a1.json"))
    step("lab B commits to report capability evaluations", "sign", "--key", path("lab-b.key"), "--type", "COMMIT",
         "--body", '{"id":"b-evals","deadline":60,"text":"publish dangerous-capability evals"}', "-o", path("b1.json"))
    step("append both", "append", path("a1.json"), path("b1.json"))
    step("sign a checkpoint", "checkpoint", "--key", path("log.key"))
    step("an offline bundle for lab A's commitment", "prove", "0", "-o", path("a-redteam.tlog-proof"))
    step("anyone verifies it with the policy alone: no database, no network",
         "verify", path("a-redteam.tlog-proof"), "--policy", path("trust.policy"))

    signer = keys.load_signer(path("lab-b.key"))
    now = int(time.time())
    with open(path("more.jsonl"), "wb") as f:
        for seq in range(2, 1002):
            statement = entries.make_statement(log=ORIGIN, type="SELF_REPORT", signer=signer.vkey, seq=seq,
                                               time=now, body={"metric": "bio_uplift", "value": seq % 50})
            f.write(entries.sign(statement, [signer]).raw + b"\n")
    step("1,000 more entries (signed in bulk by lab B)", "append", path("more.jsonl"), "--quiet")
    step("a new checkpoint", "checkpoint", "--key", path("log.key"))
    step("prove the new checkpoint extends the old one", "consistency", "2", "-o", path("grown.proof"))
    step("the old bundle still holds, against the newer checkpoint", "verify", path("a-redteam.tlog-proof"),
         "--policy", path("trust.policy"), "--consistency", path("grown.proof"))
    step("recompute every hash and check every checkpoint", "audit")
    if out.json:
        out.result({"dir": workdir, "steps": steps})
    else:
        click.echo(f"\ndemo complete: everything is in {workdir}/")


def register(cli: click.Group) -> None:
    cli.add_command(demo)
