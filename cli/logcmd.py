"""Commands on a log database: init, info, policy, append, checkpoint, show, tail, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import click

from ledger import checkpoint as checkpoints
from ledger.audit import audit as run_audit
from ledger.entry import decode_entry, describe
from ledger.errors import CorruptionError, InvalidInput
from ledger.log import DEFAULT_BATCH, Log
from ledger.merkle import leaf_hash
from ledger.policy import Policy, format_policy

from .common import db_option, load_signer, open_input, open_log, resolve_entry, write_output
from .output import Output, output_options

MAX_LISTED = 10_000  # outcomes listed by `append --json`; larger imports are counted, not listed


@click.command()
@click.option("--key", "key_path", required=True, help="The log's private key; its name becomes the origin.")
@db_option
@output_options
def init(key_path: str, db_path: str, out: Output) -> None:
    """Create an empty log signed by KEY (origin = the key's name)."""
    signer = load_signer(key_path)
    with Log.create(db_path, signer) as log:
        out.result(
            {"db": db_path, "origin": log.origin, "vkey": log.store.log_vkey},
            f"created {db_path}\norigin {log.origin}\nlog key {log.store.log_vkey}\n"
            f"trust policy for verifiers: `pactlog policy --db {db_path}`",
        )


@click.command()
@db_option
@output_options
def info(db_path: str, out: Output) -> None:
    """Print the log's origin, key, size, root and latest checkpoint."""
    with open_log(db_path) as log:
        latest = log.store.latest_checkpoint()
        data = {
            "origin": log.origin,
            "vkey": log.store.log_vkey,
            "size": log.size,
            "root": log.root().hex(),
            "checkpoints": log.store.count_checkpoints(),
            "latest_checkpoint_size": latest[0] if latest else None,
        }
    out.result(data, "\n".join(f"{k:24} {v}" for k, v in data.items()))


@click.command()
@db_option
@click.option("-o", "--out", "path", help="Write the policy to this file instead of stdout.")
@output_options
def policy(db_path: str, path: str | None, out: Output) -> None:
    """Print a C2SP tlog-policy that trusts this log (give it to verifiers)."""
    with open_log(db_path) as log:
        text = format_policy(Policy.for_log(log.store.log_vkey))
    if path or not out.json:
        write_output(path, text.encode())
    out.result({"policy": text, "file": path})


def _entries_from(paths: tuple[str, ...]) -> Iterator[bytes]:
    """Entries, one per line (canonical JSON has no raw newlines), streamed from files or stdin."""
    for path in paths or ("-",):
        with open_input(path) as stream:
            for line in stream:
                line = line.rstrip(b"\r\n")
                if line.strip():
                    yield line


@click.command()
@click.argument("files", nargs=-1)
@db_option
@click.option("--batch", default=DEFAULT_BATCH, show_default=True, help="Entries per committed transaction.")
@output_options
def append(files: tuple[str, ...], db_path: str, batch: int, out: Output) -> None:
    """Append signed entries from FILES (or stdin): one canonical JSON entry per line.

    Re-submitting a logged entry returns its index (idempotent). The first bad entry stops the
    command; entries of the batches before it stay committed."""
    if batch < 1:
        raise InvalidInput("--batch must be at least 1", reason="usage")
    rows: list[dict] = []  # the first MAX_LISTED outcomes; the rest are only counted
    added = total = 0
    with open_log(db_path, write=True) as log:
        progress = out.progress("appended")
        for result in log.append_stream(_entries_from(files), batch_size=batch, progress=progress):
            total += 1
            added += result.new
            if len(rows) < MAX_LISTED:
                rows.append({"index": result.index, "hash": result.hash_hex, "new": result.new})
        progress.done()
        size = log.size
    if total <= 10:
        lines = [f"{r['index']}\t{r['hash']}\t{'appended' if r['new'] else 'already logged'}" for r in rows]
    else:
        lines = [f"indexes {rows[0]['index']}..{size - 1}" if added else "no new entries"]
    lines.append(f"{added} appended, {total - added} already present; log size {size}")
    out.result({"appended": added, "duplicates": total - added, "size": size, "entries": rows,
                "entries_listed": len(rows)}, "\n".join(lines))


@click.command()
@click.option("--key", "key_path", help="The log's private key: sign a checkpoint of the current tree.")
@click.option("--list", "list_all", is_flag=True, help="List every signed checkpoint.")
@click.option("--size", type=int, help="Print the stored checkpoint at this size.")
@db_option
@output_options
def checkpoint(key_path: str | None, list_all: bool, size: int | None, db_path: str, out: Output) -> None:
    """Sign a checkpoint (--key), or print stored ones (latest, --size N, --list)."""
    if key_path and (list_all or size is not None):
        raise InvalidInput("--key signs a new checkpoint; do not combine it with --list or --size", reason="usage")
    if key_path:
        signer = load_signer(key_path)
        with open_log(db_path, write=True) as log:
            note = log.sign_checkpoint(signer)
    elif list_all:
        with open_log(db_path) as log:
            items = [_checkpoint_json(note) for _, note in log.store.checkpoints()]
        out.result({"checkpoints": items},
                   "\n".join(f"{c['size']}\t{c['root']}" for c in items) or "no checkpoints yet")
        return
    else:
        with open_log(db_path) as log:
            note = log.checkpoint_note(size)
    out.result({**_checkpoint_json(note), "note": note.decode()}, note.decode().rstrip("\n"))


def _checkpoint_json(note: bytes) -> dict:
    body = note.split(b"\n\n")[0] + b"\n"
    cp = checkpoints.parse_checkpoint(body)
    return {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}


@click.command()
@click.argument("which")
@db_option
@click.option("--raw", is_flag=True, help="Print the entry's exact bytes.")
@output_options
def show(which: str, db_path: str, raw: bool, out: Output) -> None:
    """Print the entry at index WHICH, or with entry hash WHICH (64 hex digits)."""
    with open_log(db_path) as log:
        index = resolve_entry(log, which)
        data = log.entry_bytes(index)
    if raw and not out.json:
        write_output(None, data + b"\n")
        return
    value = json.loads(data)
    out.result({"index": index, "hash": leaf_hash(data).hex(), "entry": value},
               f"index {index}\nhash  {leaf_hash(data).hex()}\n{json.dumps(value, indent=2, ensure_ascii=False)}")


@click.command()
@click.option("-n", "count", default=10, show_default=True, help="How many of the last entries.")
@db_option
@output_options
def tail(count: int, db_path: str, out: Output) -> None:
    """Print the last entries, one line each."""
    with open_log(db_path) as log:
        start = max(0, log.size - max(count, 0))
        rows = []
        for index, data in log.entries(start):
            rows.append((index, data, decode_entry(data)))
    out.result(
        {"entries": [{"index": i, "entry": json.loads(d)} for i, d, _ in rows]},
        "\n".join(f"{i}\t{describe(e)}" for i, _, e in rows) or "the log is empty",
    )


@click.command()
@db_option
@click.option("--no-signatures", is_flag=True, help="Skip re-verifying entry signatures (faster).")
@output_options
def audit(db_path: str, no_signatures: bool, out: Output) -> None:
    """Recompute every hash from the entries and check every stored checkpoint.

    Exit 1 with the first corrupted index if anything does not match."""
    with open_log(db_path) as log:
        progress = out.progress("audited", total=log.size)
        report = run_audit(log, check_signatures=not no_signatures, progress=progress)
        progress.done()
    text = (f"ok: {report.size} entries and {report.checkpoints} checkpoints verified" if report.ok else
            "AUDIT FAILED" + (f": first corrupted index {report.first_bad_index}" if report.first_bad_index is not None
                              else "") + "\n" + "\n".join(f"- {p}" for p in report.problems))
    if report.ok:
        out.result(report.to_json(), text)
        return
    exc = CorruptionError(text.splitlines()[0] + ("; " + report.problems[0] if report.problems else ""),
                          hint="restore the database from a copy you trust", reason="audit_failed")
    if out.json:
        click.echo(json.dumps({**exc.to_json(), **report.to_json(), "ok": False}, sort_keys=True))
        raise click.exceptions.Exit(exc.exit_code)
    click.echo(text, err=True)
    raise click.exceptions.Exit(exc.exit_code)


def register(cli: click.Group) -> None:
    for command in (init, info, policy, append, checkpoint, show, tail, audit):
        cli.add_command(command)
