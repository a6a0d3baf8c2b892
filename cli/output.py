"""How commands print: human text or ``--json``, progress on a terminal only.

Every command takes ``--json`` (one JSON object on stdout: ``ok``, ``exit_code`` and the command's
fields; errors carry ``reason``) and ``--quiet`` (no progress, no chatter). Progress goes to stderr,
and only when stderr is a terminal, so piped output stays clean.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import dataclass

import click


@dataclass
class Output:
    json: bool = False
    quiet: bool = False

    def result(self, data: dict, text: str | None = None) -> None:
        """Print a command's result: ``data`` as JSON, or ``text`` for people."""
        if self.json:
            click.echo(json.dumps({"ok": True, "exit_code": 0, **data}, indent=None, sort_keys=True))
        elif text is not None:
            click.echo(text)

    def say(self, text: str) -> None:
        """A human remark on stderr (never in --json or --quiet mode)."""
        if not self.json and not self.quiet:
            click.echo(text, err=True)

    def progress(self, label: str, total: int | None = None) -> "Progress":
        show = not self.quiet and sys.stderr.isatty()
        return Progress(label, total, show)


class Progress:
    """A one-line progress counter on stderr, redrawn at most 10 times a second; ``done()`` draws
    the final count (which the rate limit may have skipped) and ends the line."""

    def __init__(self, label: str, total: int | None, show: bool):
        self.label, self.total, self.show = label, total, show
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._count = self._drawn = None

    def __call__(self, done: int) -> None:
        if not self.show:
            return
        self._count = done
        now = time.monotonic()
        if now - self._last_draw < 0.1 and done != self.total:
            return
        self._last_draw = now
        self._draw(done, now)

    def _draw(self, done: int, now: float) -> None:
        rate = done / max(now - self.started, 1e-9)
        of = f"/{self.total:,}" if self.total else ""
        sys.stderr.write(f"\r{self.label}: {done:,}{of} ({rate:,.0f}/s)")
        sys.stderr.flush()
        self._drawn = done

    def done(self) -> None:
        if self.show:
            if self._count is not None and self._count != self._drawn:
                self._draw(self._count, time.monotonic())
            sys.stderr.write("\n")
            sys.stderr.flush()


def output_options(command):
    """Add --json and --quiet to a command and pass it an ``out: Output``."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
    @click.option("--quiet", "-q", is_flag=True, help="No progress or remarks.")
    @functools.wraps(command)
    def wrapper(*args, as_json: bool, quiet: bool, **kwargs):
        ctx = click.get_current_context()
        out = Output(json=as_json, quiet=quiet)
        ctx.meta["pactlog.output"] = out
        return command(*args, out=out, **kwargs)

    return wrapper
