"""Options and loaders shared by the command groups."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import click

from ledger import keys
from ledger.errors import BadKey, InvalidInput, NotFound, StorageError
from ledger.log import Log
from ledger.note import Signer

PASSPHRASE_ENV = "PACTLOG_PASSPHRASE"
DB_ENV = "PACTLOG_DB"
DEFAULT_DB = "pactlog.db"

db_option = click.option(
    "--db",
    "db_path",
    envvar=DB_ENV,
    default=DEFAULT_DB,
    show_default=True,
    help=f"The log database (or ${DB_ENV}).",
)


def open_log(db_path: str, *, write: bool = False) -> Log:
    return Log.open(db_path, write=write)


def load_signer(path: str) -> Signer:
    """A private key file, decrypted with $PACTLOG_PASSPHRASE or a prompt when it is encrypted."""
    try:
        return keys.load_signer(path, passphrase=os.environ.get(PASSPHRASE_ENV))
    except BadKey as exc:
        if exc.reason != "passphrase_required" or not sys.stdin.isatty():
            raise
    return keys.load_signer(path, passphrase=click.prompt(f"Passphrase for {path}", hide_input=True))


def new_passphrase() -> str:
    """A passphrase for a new encrypted key: $PACTLOG_PASSPHRASE, or asked twice on a terminal."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        raise BadKey(
            "--encrypt needs a passphrase but there is no terminal to ask for one",
            hint=f"set ${PASSPHRASE_ENV}", reason="passphrase_required",
        )
    return click.prompt("Passphrase for the new key", hide_input=True, confirmation_prompt=True)


@contextmanager
def open_input(path: str) -> Iterator[BinaryIO]:
    """A binary stream on a file, or on stdin for '-'."""
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        f = open(path, "rb")
    except FileNotFoundError as exc:
        raise NotFound(f"no such file: {path}", hint="check the path") from exc
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}", hint="check its permissions") from exc
    with f:
        yield f


def read_input(path: str) -> bytes:
    """Bytes of a file, or of stdin for '-'."""
    with open_input(path) as f:
        return f.read()


def write_output(path: str | None, data: bytes) -> None:
    """Write bytes to a file, or to stdout when no path (or '-') is given."""
    if path in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}", hint="check the directory") from exc


def resolve_entry(log: Log, which: str) -> int:
    """The index of the entry named by a decimal index or a 64-hex-digit entry hash."""
    if which.isdigit() and len(which) < 20:
        index = int(which)
        if index >= log.size:
            raise InvalidInput(f"index {index} is not in the log (size {log.size})",
                               hint=f"indexes run from 0 to {log.size - 1}", reason="index_out_of_range")
        return index
    try:
        leaf = bytes.fromhex(which)
    except ValueError:
        leaf = b""
    if len(leaf) != 32:
        raise InvalidInput(f"{which!r} is neither an index nor an entry hash",
                           hint="give a decimal index or 64 hex digits", reason="usage")
    index = log.find(leaf)
    if index is None:
        raise InvalidInput(f"no entry with hash {which} in the log", hint="check the hash", reason="not_in_log")
    return index
