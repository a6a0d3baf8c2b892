"""`pactlog demo`: a guided run of the whole flow on the embedded SQLite default.

It runs the real commands (printed as it goes, so they can be copied) in a fresh directory: keys for a
log and two labs, init, signed commitments, append, checkpoint, an offline bundle verified with only
the trust policy, 1,000 more entries, and the old bundle checked against the new checkpoint through a
consistency proof; finally a full audit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import time

import click

from ledger import entry as entries
from ledger import keys
from ledger.errors import InvalidInput

from .output import Output, output_options

ORIGIN = "demo.pactlog.org/log"


@click.command()
@click.option("--dir", "workdir", default="pactlog-demo", show_default=True, help="Fresh directory to work in.")
@output_options
def demo(workdir: str, out: Output) -> None:
    """Run a demo: keys, log, signed commitments, checkpoint, offline proof, growth, consistency, audit."""
    if os.path.exists(workdir) and os.listdir(workdir):
        raise InvalidInput(f"{workdir} is not empty", hint="pass --dir with a new directory", reason="usage")
    os.makedirs(workdir, exist_ok=True)
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
