"""C2SP checkpoints (c2sp.org/tlog-checkpoint): a log's signed tree head.

A checkpoint is a signed note whose text is::

    <origin>\\n
    <tree size, ASCII decimal, no leading zeros>\\n
    <base64 of the 32-byte RFC 6962 root hash>\\n
    [<extension line>\\n ...]

This module parses and formats that body and signs/opens it as a note
(:mod:`ledger.note`).  Which keys and witnesses to trust is
:mod:`ledger.policy`'s job.  ``specs/checkpoint.md`` is the byte-level spec.

Pure module: standard library, PyNaCl via ledger.note; no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ledger.errors import BadKey, MalformedError, VerificationFailed
from ledger.note import (
    Note,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    check_key_name,
    open_note,
    sign_note,
)

HASH_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII only: [0-9] is a literal byte range
_CONTROL_CHARACTER = re.compile("[\x00-\x1f]")


def _malformed(message: str, hint: str | None = None) -> MalformedError:
    return MalformedError(
        message,
        hint=hint
        or "a checkpoint body is 'origin', 'size' and 'base64 root' lines, each ending in a newline",
        reason="malformed_checkpoint",
    )


def parse_decimal(
    text: str, what: str, *, maximum: int = MAX_TREE_SIZE, reason: str = "malformed_checkpoint"
) -> int:
    """Parse a canonical ASCII decimal (no sign, spaces or leading zeros) up to ``maximum``.

    Python's ``int()`` would also take ``+5``, ``0005``, `` 5``, ``5_000`` and
    non-ASCII digits; each of those would give one number two spellings.
    """
    if not _DECIMAL.fullmatch(text):
        raise MalformedError(
            f"{what} {text[:40]!r} is not a canonical decimal number",
            hint="write digits only, with no leading zeros",
            reason=reason,
        )
    value = int(text)
    if value > maximum:
        raise MalformedError(f"{what} {text} is larger than {maximum}", reason=reason)
    return value


def check_text_line(line: str, what: str) -> None:
    """A checkpoint line is non-empty and has no newline or other control character."""
    if not isinstance(line, str) or line == "":
        raise _malformed(f"{what} is empty")
    found = _CONTROL_CHARACTER.search(line)
    if found is not None:
        raise _malformed(f"{what} {line[:60]!r} contains control character U+{ord(found.group()):04X}")
    if not line.isascii():  # only non-ASCII text can hold a lone surrogate
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed(f"{what} is not valid UTF-8") from None


def check_origin(origin: str) -> None:
    """pactlog's origin rule: a valid note key name (no spaces, no '+').

    tlog-checkpoint only RECOMMENDS this; pactlog requires it because a pactlog
    log's key name is its origin (see specs/checkpoint.md).
    """
    check_text_line(origin, "checkpoint origin")
    try:
        check_key_name(origin)
    except MalformedError as exc:
        raise _malformed(
            f"checkpoint origin {origin!r} is not a valid key name ({exc.message})",
            "origins contain no spaces or '+'",
        ) from None


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines.

    Construction checks everything tlog-checkpoint requires, so :meth:`body`
    always yields a body that :func:`parse_checkpoint` accepts (with
    ``any_origin=True`` when the origin is not a key name).
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_text_line(self.origin, "checkpoint origin")
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not 0 <= self.size <= MAX_TREE_SIZE
        ):
            raise _malformed(f"tree size {self.size!r} is not an integer in 0..2^64-1")
        if not isinstance(self.root, (bytes, bytearray)) or len(self.root) != HASH_SIZE:
            raise _malformed("root hash must be exactly 32 bytes")
        object.__setattr__(self, "root", bytes(self.root))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, 1):
            check_text_line(line, f"extension line {number}")

    def body(self) -> bytes:
        """The note text the log signs: ``origin\\nsize\\nbase64(root)\\n`` + extension lines."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_checkpoint(text: str | bytes, *, any_origin: bool = False) -> Checkpoint:
    """Parse a checkpoint body (a note's text) strictly.

    By default the origin must also be a valid key name (pactlog's rule); pass
    ``any_origin=True`` to accept any non-empty origin line as tlog-checkpoint
    itself does, e.g. Go's ``go.sum database tree``.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("checkpoint is not valid UTF-8") from None
    if not isinstance(text, str):
        raise TypeError("parse_checkpoint takes str or bytes")
    if not text.endswith("\n"):
        raise _malformed("checkpoint body does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _malformed(f"checkpoint body has {len(lines)} lines; it needs origin, size and root")
    origin, size_text, root_text, *extensions = lines
    if any_origin:
        check_text_line(origin, "checkpoint origin")
    else:
        check_origin(origin)  # which checks it as a text line first
    size = parse_decimal(size_text, "tree size")
    root = b64decode_strict(root_text, "root hash", reason="malformed_checkpoint")
    if len(root) != HASH_SIZE:
        raise _malformed(f"root hash is {len(root)} bytes, not 32")
    for number, line in enumerate(extensions, 1):
        check_text_line(line, f"extension line {number}")
    return _checked_checkpoint(origin, size, root, tuple(extensions))


def _checked_checkpoint(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> Checkpoint:
    """A Checkpoint of fields that parse_checkpoint has just checked, without checking them again
    in ``__post_init__`` (the checkpoint of every verified proof is parsed: this is a hot path)."""
    cp = object.__new__(Checkpoint)
    object.__setattr__(cp, "origin", origin)
    object.__setattr__(cp, "size", size)
    object.__setattr__(cp, "root", root)
    object.__setattr__(cp, "extensions", extensions)
    return cp


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> bytes:
    """Sign ``cp`` as its log and return the signed note bytes.

    The signer's key name must equal the origin (tlog-checkpoint SHOULD,
    pactlog MUST: policies find a log's key by the checkpoint origin).
    """
    check_origin(cp.origin)
    if signer.name != cp.origin:
        raise BadKey(
            f"key {signer.name!r} cannot sign checkpoints of log {cp.origin!r}",
            hint="a log's signing key is named after its origin",
            reason="key_name_mismatch",
        )
    return sign_note(cp.body().decode("utf-8"), [signer])


def open_checkpoint(
    note_bytes: bytes,
    verifiers: Sequence[Verifier],
    origin: str | None = None,
    *,
    any_origin: bool = False,
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint with :func:`ledger.note.open_note` and parse its body.

    Signature rules are open_note's (unknown keys ignored, a failing trusted
    key rejects, at least one trusted key must verify).  When ``origin`` is
    given the checkpoint must be for that log (``reason="wrong_origin"``).
    """
    note, _verified = open_note(note_bytes, verifiers)
    cp = parse_checkpoint(note.text, any_origin=any_origin)
    if origin is not None and cp.origin != origin:
        raise VerificationFailed(
            f"checkpoint is for log {cp.origin!r}, expected {origin!r}",
            hint="this checkpoint belongs to another log",
            reason="wrong_origin",
        )
    return cp, note
