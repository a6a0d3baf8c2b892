"""The ``pactlog`` command: the click group, and the one place that maps errors to exit codes.

Exit codes (also in README.md):
    0  ok
    1  verification failed: a bad proof or signature, inconsistent checkpoints, a corrupted database
    2  usage error or bad input, rejected before anything was stored
    3  storage or environment error: database missing or locked, unreadable key file
    4  internal error: a bug in pactlog (please report it with the traceback)
"""

from __future__ import annotations

import json
import sys
import traceback

import click

from ledger.errors import PactlogError

from . import keys as keys_commands
from . import demo, logcmd, proofs, roles, signing, simulate, state

EXIT_INTERNAL = 4


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pactlog")
def cli() -> None:
    """pactlog: an append-only ledger of signed commitments, with proofs anyone can check offline.

    The log database is --db, or $PACTLOG_DB, or ./pactlog.db.
    """


keys_commands.register(cli)
logcmd.register(cli)
signing.register(cli)
proofs.register(cli)
demo.register(cli)
state.register(cli)
roles.register(cli)
simulate.register(cli)


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (errors printed as text or JSON)."""
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        # without standalone mode click returns the code of a click.exceptions.Exit instead of raising
        code = cli.main(args=args, prog_name="pactlog", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except PactlogError as exc:
        _report(exc.to_json(), f"error: {exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""), as_json)
        return exc.exit_code
    except click.exceptions.Abort:
        _report({"ok": False, "exit_code": 2, "reason": "aborted", "message": "aborted"}, "aborted", as_json)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        message = exc.format_message()
        if as_json:
            _report({"ok": False, "exit_code": 2, "reason": "usage", "message": message}, "", True)
        else:
            exc.show()
        return 2
    except BrokenPipeError:
        return 0
    except Exception:  # a bug: say so plainly, with the traceback
        trace = traceback.format_exc()
        _report({"ok": False, "exit_code": EXIT_INTERNAL, "reason": "internal_error", "message": trace},
                f"internal error (a bug in pactlog; please report it):\n{trace}", as_json)
        return EXIT_INTERNAL


def _report(data: dict, text: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, sort_keys=True))
    else:
        click.echo(text, err=True)


if __name__ == "__main__":
    main()
