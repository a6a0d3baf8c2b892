"""Proof commands: prove (make a bundle), consistency (make a consistency proof), verify (offline)."""

from __future__ import annotations

import click

from ledger import verify as verifier
from ledger.entry import describe
from ledger.errors import InvalidInput, VerificationFailed

from .common import db_option, open_log, read_input, resolve_entry, write_output
from .output import Output, output_options

BUNDLE_HEADER = b"c2sp.org/tlog-proof@v1\n"
CONSISTENCY_HEADER = b"pactlog/consistency-proof@v1\n"


@click.command()
@click.argument("which", nargs=-1, required=True)
@click.option("--at", "at_size", type=int, help="Prove against the stored checkpoint of this size (default latest).")
@click.option("-o", "--out", "path", help="Write the bundle here (default stdout).")
@db_option
@output_options
def prove(which: tuple[str, ...], at_size: int | None, path: str | None, db_path: str, out: Output) -> None:
    """Make an offline bundle for entries WHICH (indexes or entry hashes) against a signed checkpoint.

    The bundle is a C2SP tlog-proof (one per entry) carrying the entry itself; anyone verifies it
    with `pactlog verify BUNDLE --policy POLICY`, no database needed."""
    with open_log(db_path) as log:
        indexes = [resolve_entry(log, w) for w in which]
        data = log.bundle(indexes, at_size)
    _emit(out, path, data, {"indexes": sorted(set(indexes)), "bundle": data.decode()})


@click.command()
@click.argument("old_size", type=int)
@click.argument("new_size", type=int, required=False)
@click.option("-o", "--out", "path", help="Write the proof file here (default stdout).")
@db_option
@output_options
def consistency(old_size: int, new_size: int | None, path: str | None, db_path: str, out: Output) -> None:
    """Prove that the checkpoint at NEW_SIZE (default: latest) extends the one at OLD_SIZE.

    Both must be checkpoints the log signed. Check the file offline with `pactlog verify`."""
    with open_log(db_path) as log:
        data = log.consistency_file(old_size, new_size)
    _emit(out, path, data, {"consistency": data.decode()})


def _emit(out: Output, path: str | None, data: bytes, fields: dict) -> None:
    """Write a proof file (or stdout); with --json, stdout carries the JSON and the file the bytes."""
    if out.json:
        out.result(fields)
        if path:
            write_output(path, data)
        return
    write_output(path, data)
    if path:
        out.say(f"wrote {path}")


@click.command()
@click.argument("file")
@click.option("--policy", "policy_path", required=True, help="Trust policy (C2SP tlog-policy): the log key, witnesses, quorum.")
@click.option("--consistency", "consistency_path",
              help="Also check that this consistency proof extends the bundle's checkpoint to a newer one.")
@output_options
def verify(file: str, policy_path: str, consistency_path: str | None, out: Output) -> None:
    """Verify offline a bundle, a consistency-proof file or a signed checkpoint.

    Needs only the file and a trusted policy; exit 0 when it verifies, 1 when it does not."""
    policy = verifier.parse_policy(read_input(policy_path))
    data = read_input(file)
    if data.startswith(BUNDLE_HEADER):
        verified = verifier.verify_bundle(data, policy)
        cp = verified[0].checkpoint
        result = {
            "kind": "bundle",
            "origin": cp.origin,
            "checkpoint_size": cp.size,
            "root": cp.root.hex(),
            "entries": [{"index": v.index, "hash": v.entry.hash_hex, "type": v.entry.statement.type,
                         "signer": v.entry.statement.signer, "seq": v.entry.statement.seq} for v in verified],
        }
        lines = [f"verified: {len(verified)} entr{'y' if len(verified) == 1 else 'ies'} in {cp.origin} "
                 f"at tree size {cp.size}"]
        lines += [f"  {v.index}\t{describe(v.entry)}" for v in verified]
        if consistency_path:
            old, new = verifier.verify_consistency_file(read_input(consistency_path), policy)
            if (old.origin, old.size, old.root) != (cp.origin, cp.size, cp.root):
                raise VerificationFailed(
                    f"the consistency proof starts from size {old.size}, not from the bundle's checkpoint ({cp.size})",
                    hint="make it with `pactlog consistency <bundle size>`", reason="consistency_mismatch",
                )
            result["extended_to"] = {"size": new.size, "root": new.root.hex()}
            lines.append(f"and the log's checkpoint at size {new.size} extends it (consistency verified)")
        out.result(result, "\n".join(lines))
    elif data.startswith(CONSISTENCY_HEADER):
        if consistency_path:
            raise InvalidInput("--consistency goes with a bundle", reason="usage")
        old, new = verifier.verify_consistency_file(data, policy)
        out.result({"kind": "consistency", "origin": old.origin, "old_size": old.size, "new_size": new.size,
                    "old_root": old.root.hex(), "new_root": new.root.hex()},
                   f"verified: {old.origin} at size {new.size} extends size {old.size}")
    else:
        if consistency_path:
            raise InvalidInput("--consistency goes with a bundle", reason="usage")
        cp = verifier.verify_checkpoint(data, policy)
        out.result({"kind": "checkpoint", "origin": cp.origin, "size": cp.size, "root": cp.root.hex()},
                   f"verified: checkpoint of {cp.origin} at size {cp.size}, root {cp.root.hex()}")


def register(cli: click.Group) -> None:
    for command in (prove, consistency, verify):
        cli.add_command(command)
