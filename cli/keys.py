"""`pactlog key ...`: create and inspect Ed25519 keys (C2SP signed-note key formats)."""

from __future__ import annotations

import re

import click

from ledger import keys

from .common import new_passphrase
from .output import Output, output_options


@click.group("key")
def key_group() -> None:
    """Create and inspect signing keys."""


@key_group.command("generate")
@click.argument("name")
@click.option("-o", "--out", "path", help="Private key file (default: NAME.key with unsafe characters replaced).")
@click.option("--encrypt", is_flag=True, help="Encrypt the key with a passphrase ($PACTLOG_PASSPHRASE or a prompt).")
@output_options
def generate(name: str, path: str | None, encrypt: bool, out: Output) -> None:
    """Create a key named NAME; writes FILE (mode 0600) and FILE.pub (the verifier key).

    For a log key, NAME is the log's origin, e.g. example.org/pactlog."""
    path = path or re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".key"
    signer = keys.generate_key_file(path, name, passphrase=new_passphrase() if encrypt else None)
    out.result(
        {"name": signer.name, "vkey": signer.vkey, "key_file": path, "public_key_file": path + ".pub",
         "encrypted": encrypt},
        f"{signer.vkey}\nwrote {path} (private, 0600) and {path}.pub",
    )


@key_group.command("show")
@click.argument("path")
@output_options
def show(path: str, out: Output) -> None:
    """Print the verifier key of a public (.pub) or private key file."""
    verifier = keys.load_verifier(path)
    out.result({"name": verifier.name, "vkey": verifier.vkey}, verifier.vkey)


def register(cli: click.Group) -> None:
    cli.add_command(key_group)
