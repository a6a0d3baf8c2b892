"""The embeddable offline verifier: bundles, checkpoints, inclusion and consistency proofs, policies.

Imports only the standard library, PyNaCl and pure ledger modules (no SQLite, no click), so a tool
builder can vendor it. Trust comes from a C2SP tlog-policy (a local file); nothing here reaches a
network or a database.

Verifying a bundle (specs/bundle.md) checks, for each entry it carries:
  1. the checkpoint note is signed by a log of the policy, for the log's origin, with the policy's
     witness quorum (an inclusion proof is never trusted on its own: size and root come from here);
  2. the entry decodes (strict canonical form) and its Ed25519 signatures verify;
  3. the entry is bound to the checkpoint's origin;
  4. its leaf hash, SHA-256(0x00 || entry bytes), is included at the stated index in the checkpoint's
     tree (RFC 9162 §2.1.3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import merkle
from .bundle import parse_consistency_file, read_bundle
from .checkpoint import Checkpoint
from .entry import Entry, decode_entry, verify_signatures
from .errors import MalformedError, VerificationFailed
from .policy import Policy, parse_policy
from .proof import verify_consistency, verify_inclusion, verify_parsed_inclusion

__all__ = [
    "VerifiedEntry",
    "parse_policy",
    "verify_bundle",
    "verify_checkpoint",
    "verify_consistency",
    "verify_consistency_file",
    "verify_inclusion",
]


@dataclass(frozen=True)
class VerifiedEntry:
    index: int
    entry: Entry
    checkpoint: Checkpoint


def verify_checkpoint(note: bytes, policy: Policy) -> Checkpoint:
    """The checkpoint in a signed note, once its signatures satisfy the policy."""
    return policy.verify_checkpoint(note)


def verify_bundle(data: bytes, policy: Policy) -> list[VerifiedEntry]:
    """Every entry of a bundle, verified offline; raises VerificationFailed on the first failure."""
    # All proofs of a bundle share one checkpoint note (the parser checks), whose body the parser
    # has already parsed: the policy only checks its signatures.
    proofs, body = read_bundle(data)
    cp = policy._verify_parsed(proofs[0].checkpoint_note, body)
    verified = []
    for p in proofs:
        if p.extra is None:
            raise VerificationFailed(
                f"the proof for index {p.index} carries no entry",
                hint="a pactlog bundle has the entry in its `extra` line; ask the log for a bundle (`pactlog prove`)",
                reason="no_entry",
            )
        try:
            entry = decode_entry(p.extra)
        except MalformedError as exc:
            raise VerificationFailed(
                f"the entry at index {p.index} in the bundle is not a valid entry: {exc.message}",
                hint="the bundle was altered or is not a pactlog bundle", reason="bad_entry",
            ) from exc
        verify_signatures(entry)
        if entry.statement.log != cp.origin:
            raise VerificationFailed(
                f"the entry at index {p.index} is bound to the log {entry.statement.log!r}, "
                f"but the checkpoint is from {cp.origin!r}",
                hint="the bundle mixes two logs", reason="wrong_log",
            )
        verify_parsed_inclusion(merkle.leaf_hash(p.extra), p.index, cp.size, p.hashes, cp.root)
        verified.append(VerifiedEntry(p.index, entry, cp))
    return verified


def verify_consistency_file(data: bytes, policy: Policy) -> tuple[Checkpoint, Checkpoint]:
    """The (old, new) checkpoints of a consistency-proof file, once both verify under the policy
    and the proof shows the new tree extends the old one."""
    cf = parse_consistency_file(data)
    old = policy.verify_checkpoint(cf.old_note)
    new = policy.verify_checkpoint(cf.new_note)
    if old.origin != new.origin:
        raise VerificationFailed(
            f"the two checkpoints are from different logs ({old.origin!r} and {new.origin!r})",
            hint="a consistency proof relates two checkpoints of the same log", reason="wrong_origin",
        )
    verify_consistency(old.size, new.size, old.root, new.root, list(cf.hashes))
    return old, new
