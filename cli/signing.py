"""`pactlog sign`: make a signed entry (or add a co-signature to one)."""

from __future__ import annotations

import json
import os
import time

import click

from ledger import entry as entries
from ledger import sequence
from ledger.errors import InvalidInput, MalformedError

from .common import db_option, load_signer, open_log, read_input, write_output
from .output import Output, output_options


@click.command()
@click.option("--key", "key_path", required=True, help="Your private key file.")
@click.option("--type", "entry_type", help="Entry type, e.g. COMMIT.")
@click.option("--body", help="The type-specific body as JSON (default {}).")
@click.option("--body-file", help="Read the body JSON from this file ('-' for stdin).")
@click.option("--seq", type=int, help="Your sequence number (default: one more than the last you used or the log has).")
@click.option("--time", "when", type=int, help="Unix time of the statement (default: now).")
@click.option("--log", "origin", help="Origin of the log the entry is for (default: the --db log's).")
@click.option("--cosign", "cosign_path", help="Add your signature to the entry in this file instead.")
@click.option("-o", "--out", "path", help="Write the entry here (default stdout), one line.")
@db_option
@output_options
def sign(key_path, entry_type, body, body_file, seq, when, origin, cosign_path, path, db_path, out: Output) -> None:
    """Sign a statement and print the entry (one canonical JSON line, ready for `pactlog append`)."""
    signer = load_signer(key_path)
    if cosign_path:
        if entry_type or body or body_file or seq is not None or when is not None or origin:
            raise InvalidInput("--cosign signs an existing entry as it is; drop the other statement options",
                               reason="usage")
        entry = entries.add_signature(entries.decode_entry(read_input(cosign_path).strip()), signer)
    else:
        if not entry_type:
            raise InvalidInput("missing --type", hint="e.g. --type COMMIT", reason="usage")
        admitted = None
        if (origin is None or seq is None) and os.path.exists(db_path):
            with open_log(db_path) as log:
                origin = origin or log.origin
                admitted = log.store.last_seq(signer.vkey)
        if origin is None:
            raise InvalidInput("no log to sign for", hint="pass --log ORIGIN or --db of the log", reason="usage")
        if seq is None:
            seq = sequence.next_seq(key_path, admitted)
        statement = entries.make_statement(
            log=origin, type=entry_type, signer=signer.vkey, seq=seq,
            time=int(time.time()) if when is None else when, body=_body(body, body_file),
        )
        entry = entries.sign(statement, [signer])
        sequence.record(key_path, max(seq, sequence.last_used(key_path)))
    if out.json:
        out.result({"entry": entry.raw.decode(), "hash": entry.hash_hex})
        if path:
            write_output(path, entry.raw + b"\n")
        return
    write_output(path, entry.raw + b"\n")
    if path:
        out.say(f"wrote {path}: {entries.describe(entry)} ({entry.hash_hex})")


def _body(text: str | None, path: str | None) -> dict:
    if text is not None and path is not None:
        raise InvalidInput("give --body or --body-file, not both", reason="usage")
    if path is not None:
        text = read_input(path).decode("utf-8", "replace")
    if text is None:
        return {}
    try:
        value = json.loads(text, parse_float=_no_float, parse_constant=_no_float)
    except json.JSONDecodeError as exc:
        raise MalformedError(f"the body is not JSON: {exc}", hint="pass a JSON object", reason="bad_body") from exc
    if not isinstance(value, dict):
        raise MalformedError("the body must be a JSON object", hint='e.g. --body \'{"id": "c1"}\'', reason="bad_body")
    return value


def _no_float(text: str):
    raise MalformedError(f"the body contains the non-integer number {text}",
                         hint="pactlog entries use integers only", reason="bad_body")


def register(cli: click.Group) -> None:
    cli.add_command(sign)
