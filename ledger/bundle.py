"""Offline proof files: C2SP tlog-proofs, multi-entry bundles, consistency files.

Formats (``specs/bundle.md`` is the byte-level description):

* a **tlog-proof** (c2sp.org/tlog-proof@v1, file extension ``.tlog-proof``)::

      c2sp.org/tlog-proof@v1
      extra <base64 of the logged entry bytes>      (optional)
      index <decimal leaf index>
      <base64 hash>                                 (0..63 lines, leaf to root)
      <empty line>
      <signed checkpoint note, verbatim>

* a **bundle**: one or more tlog-proofs concatenated, all over the same
  checkpoint note, in strictly increasing index order;

* a **consistency file**::

      pactlog/consistency-proof@v1
      <base64 hash>                                 (0..63 lines)
      <empty line>
      <old signed checkpoint note, verbatim>
      <new signed checkpoint note, verbatim>

This module only parses and formats.  Checking proofs, signatures and
policies is :mod:`ledger.verify`'s job.

Pure module: standard library and other pure ledger modules; no I/O.
"""

from __future__ import annotations

import binascii
import re
import struct
from dataclasses import dataclass
from typing import Sequence

from ledger.checkpoint import MAX_TREE_SIZE, Checkpoint, parse_checkpoint, parse_decimal
from ledger.errors import MalformedError
from ledger.note import SIGNATURE_PREFIX, b64decode_strict, b64encode, parse_note

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_TLOG_PROOF_HEADER_BYTES = TLOG_PROOF_HEADER.encode("ascii")
CONSISTENCY_HEADER = "pactlog/consistency-proof@v1"
HASH_SIZE = 32
MAX_PROOF_HASHES = 63
"""Most hashes a proof may list (as tlog-witness caps consistency proofs)."""

_SIGNATURE_PREFIX_BYTES = SIGNATURE_PREFIX.encode("utf-8")


def _malformed(message: str, hint: str | None = None) -> MalformedError:
    return MalformedError(
        message, hint=hint or "regenerate the proof file with pactlog", reason="malformed_proof"
    )


@dataclass(frozen=True)
class TlogProof:
    """One C2SP tlog-proof: leaf index, inclusion hashes (leaf to root), checkpoint note, extra data.

    In pactlog ``extra`` carries the logged entry bytes, whose leaf hash is
    SHA-256(0x00 || extra): the inclusion proof authenticates it.
    """

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: bytes
    extra: bytes | None = None


@dataclass(frozen=True)
class ConsistencyFile:
    """A consistency proof between two signed checkpoints of one log."""

    hashes: tuple[bytes, ...]
    old_note: bytes
    new_note: bytes


# --- reading lines ----------------------------------------------------------------------------


class _Lines:
    """A cursor over newline-terminated lines of a byte string, counting line numbers."""

    def __init__(self, data: bytes, offset: int = 0, line_number: int = 1):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("proof files are bytes")
        self.data = bytes(data)
        self.offset = offset
        self.line_number = line_number  # number of the next line to be read
        # The signed notes read so far, with their checkpoint bodies (parsed with any origin):
        # the proofs of a bundle repeat one note, which needs checking only once, and a verifier
        # can take its body from here instead of parsing it again.
        self.checkpoints: dict[bytes, Checkpoint] = {}

    def at_end(self) -> bool:
        return self.offset >= len(self.data)

    def peek_raw(self) -> bytes | None:
        end = self.data.find(b"\n", self.offset)
        return None if end < 0 else self.data[self.offset : end]

    def next(self, what: str) -> str:
        """The next line (without its newline) as ASCII text."""
        return self.next_bytes(what).decode("ascii")

    def next_bytes(self, what: str) -> bytes:
        """The next line (without its newline), checked to be ASCII but left as bytes."""
        end = self.data.find(b"\n", self.offset)
        if end < 0:
            if self.at_end():
                raise _malformed(
                    f"line {self.line_number}: file ends where {what} was expected",
                    "the file is truncated",
                )
            raise _malformed(
                f"line {self.line_number}: {what} is not terminated by a newline",
                "the file is truncated",
            )
        line = self.data[self.offset : end]
        if not line.isascii():
            raise _malformed(f"line {self.line_number}: {what} contains non-ASCII bytes")
        self.offset = end + 1
        self.line_number += 1
        return line

    def fail(self, message: str, hint: str | None = None) -> MalformedError:
        # Called after next(): the offending line is the previous one.
        return _malformed(f"line {self.line_number - 1}: {message}", hint)


def split_note(data: bytes, start: int) -> tuple[bytes, int]:
    """Cut one signed note out of ``data`` at offset ``start``; return (note bytes, next offset).

    An embedded note's text runs to its *first* blank line (checkpoint bodies
    never contain one), and its signature block is every following line that
    starts with "— ".  The note ends at the first line that does not, or at the
    end of the data.  The bytes returned still need :func:`ledger.note.parse_note`.
    """
    data = bytes(data)
    blank = data.find(b"\n\n", start)
    if start >= len(data) or data[start : start + 1] == b"\n":
        raise _malformed(f"no note text at byte {start}", "a signed checkpoint was expected here")
    if blank < 0:
        raise _malformed(
            f"note starting at byte {start} has no blank line before its signatures",
            "the file is truncated",
        )
    offset = blank + 2
    count = 0
    while data.startswith(_SIGNATURE_PREFIX_BYTES, offset):
        end = data.find(b"\n", offset)
        if end < 0:
            raise _malformed(
                f"signature line at byte {offset} is not terminated by a newline",
                "the file is truncated",
            )
        offset = end + 1
        count += 1
    if count == 0:
        raise _malformed(
            f"note starting at byte {start} has no signature lines", "the file is truncated"
        )
    return data[start:offset], offset


def _check_note(note: bytes, what: str) -> Checkpoint:
    """A proof file's note must be a well-formed signed checkpoint (not yet verified); its body."""
    try:
        return _note_body(note)
    except MalformedError as exc:
        raise _malformed(f"{what}: {exc.message}", exc.hint) from None


def _note_body(note: bytes) -> Checkpoint:
    return parse_checkpoint(parse_note(note).text, any_origin=True)


# Up to MAX_PROOF_HASHES hash lines, each in the one spelling a hash may have: canonical padded
# base64 of 32 bytes is 42 characters, then one whose last 2 bits are padding and so zero (an
# alphabet index that is a multiple of 4: A E I M Q U Y c g k o s w 0 4 8), then "=". These are
# exactly the lines _decode_hash_lines accepts.
_HASH_LINES = rb"(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n){0,%d}" % MAX_PROOF_HASHES
_HASH_BLOCK = re.compile(_HASH_LINES + rb"\n")  # and the empty line that ends them


def _read_hashes(lines: _Lines) -> tuple[bytes, ...]:
    """Read base64 hash lines up to and including the empty line that ends them.

    A valid block (a proof has up to 63 lines) is recognised by one regular expression and
    decoded in one piece; anything else is gone through line by line, to name the first bad line."""
    data, start = lines.data, lines.offset
    block = _HASH_BLOCK.match(data, start)
    if block is None:
        return _read_hash_lines(lines)
    hashes = _decode_matched_hashes(data[start : block.end() - 1])
    lines.offset = block.end()
    lines.line_number += len(hashes) + 1
    return hashes


def _decode_matched_hashes(text: bytes) -> tuple[bytes, ...]:
    """The hashes of lines that _HASH_LINES matched, decoded by two C calls.

    With its "=" read as "A" (zero bits), a line is 44 base64 characters: 33 bytes, the hash and
    a zero byte. Decoding skips the newlines, and the unpacking keeps 32 bytes of every 33."""
    raw = binascii.a2b_base64(text.replace(b"=", b"A"))
    return struct.unpack("32sx" * (len(raw) // 33), raw)


def _read_hash_lines(lines: _Lines) -> tuple[bytes, ...]:
    """_read_hashes one line at a time, raising MalformedError for the first bad line."""
    data, start = lines.data, lines.offset
    end = start - 1 if data[start : start + 1] == b"\n" else data.find(b"\n\n", start)
    if end < 0:
        # No empty line ends the hashes, so the file is cut short: the line reader raises with
        # the line where it ends.
        while True:
            lines.next("a proof hash or the empty line")
    block = data[start:end].split(b"\n") if end >= start else []
    if len(block) > MAX_PROOF_HASHES:
        lines.offset, lines.line_number = start, lines.line_number + MAX_PROOF_HASHES + 1
        raise lines.fail(f"more than {MAX_PROOF_HASHES} proof hashes")
    hashes = _decode_hash_lines(lines, block)
    lines.offset = end + 2
    lines.line_number += len(block) + 1
    return tuple(hashes)


def _decode_hash_lines(lines: _Lines, block: list[bytes]) -> list[bytes]:
    """Decode hash lines one at a time, raising MalformedError for the first bad one."""
    hashes = []
    for number, raw in enumerate(block):
        try:
            line = raw.decode("ascii")
            digest = b64decode_strict(line, "proof hash", reason="malformed_proof")
        except (UnicodeDecodeError, MalformedError) as exc:
            message = exc.message if isinstance(exc, MalformedError) else "proof hash contains non-ASCII bytes"
            lines.line_number += number + 1
            raise lines.fail(message) from None
        if len(digest) != HASH_SIZE:
            lines.line_number += number + 1
            raise lines.fail(f"proof hash is {len(digest)} bytes, not 32")
        hashes.append(digest)
    return hashes


def _read_note(lines: _Lines, what: str) -> bytes:
    start_line = lines.line_number
    try:
        note, next_offset = split_note(lines.data, lines.offset)
    except MalformedError as exc:
        raise _malformed(f"line {start_line}: {what}: {exc.message}", exc.hint) from None
    if note not in lines.checkpoints:
        try:
            lines.checkpoints[note] = _note_body(note)
        except MalformedError as exc:  # _check_note's error, its description only built when needed
            raise _malformed(f"{what} starting at line {start_line}: {exc.message}", exc.hint) from None
    lines.line_number += note.count(b"\n")
    lines.offset = next_offset
    return note


def _check_hashes(hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    hashes = tuple(bytes(h) for h in hashes)
    if len(hashes) > MAX_PROOF_HASHES:
        raise _malformed(f"a proof has at most {MAX_PROOF_HASHES} hashes, got {len(hashes)}")
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise _malformed(f"proof hash is {len(h)} bytes, not 32")
    return hashes


# --- tlog-proof -------------------------------------------------------------------------------


# A tlog-proof up to its note, when every line is well formed (one match on the hot path of offline
# verification): the header, "extra " and the rest of its line (b64decode_strict decides whether
# it is canonical base64, which also makes it ASCII), "index " and a canonical decimal (its bound
# is still checked), the hash lines and the empty line. Anything else goes to the line-by-line
# reader, which says what is wrong and where.
_PROOF_HEAD = re.compile(
    rb"c2sp\.org/tlog-proof@v1\n(?:extra ([^\n]*)\n)?index (0|[1-9][0-9]{0,19})\n(%s)\n" % _HASH_LINES
)


def _read_tlog_proof(lines: _Lines) -> TlogProof:
    head = _PROOF_HEAD.match(lines.data, lines.offset)
    if head is None:
        return _read_tlog_proof_lines(lines)
    extra64, digits, hash_lines = head.groups()
    index = int(digits)
    try:
        extra = None if extra64 is None else b64decode_strict(extra64, "extra data", reason="malformed_proof")
    except MalformedError:
        return _read_tlog_proof_lines(lines)
    if index >= MAX_TREE_SIZE:
        return _read_tlog_proof_lines(lines)
    hashes = _decode_matched_hashes(hash_lines)
    lines.offset = head.end()
    lines.line_number += len(hashes) + (3 if extra is None else 4)  # header, [extra,] index, empty line
    return TlogProof(index, hashes, _read_note(lines, "checkpoint"), extra)


def _read_tlog_proof_lines(lines: _Lines) -> TlogProof:
    """_read_tlog_proof one line at a time."""
    # Lines stay bytes (checked ASCII): the long extra line is base64-decoded without a text copy.
    if lines.next_bytes("the tlog-proof header") != _TLOG_PROOF_HEADER_BYTES:
        raise lines.fail(
            f"expected the header {TLOG_PROOF_HEADER!r}",
            "this is not a c2sp.org/tlog-proof@v1 file",
        )
    line = lines.next_bytes("'extra' or 'index'")
    extra = None
    if line.startswith(b"extra "):
        try:
            extra = b64decode_strict(line[len("extra ") :], "extra data", reason="malformed_proof")
        except MalformedError as exc:
            raise lines.fail(exc.message) from None
        line = lines.next_bytes("'index'")
    if not line.startswith(b"index "):
        raise lines.fail(f"expected 'index <n>', got {line[:40].decode('ascii')!r}")
    try:
        index = parse_decimal(
            line[len("index ") :].decode("ascii"), "index", maximum=MAX_TREE_SIZE - 1, reason="malformed_proof"
        )
    except MalformedError as exc:
        raise lines.fail(exc.message) from None
    hashes = _read_hashes(lines)
    note = _read_note(lines, "checkpoint")
    return TlogProof(index, hashes, note, extra)


def parse_tlog_proof(data: bytes) -> TlogProof:
    """Parse exactly one c2sp.org/tlog-proof@v1; trailing bytes are an error."""
    lines = _Lines(data)
    proof = _read_tlog_proof(lines)
    if not lines.at_end():
        raise _malformed(
            f"line {lines.line_number}: unexpected data after the checkpoint",
            "a .tlog-proof holds one proof; use parse_bundle for several",
        )
    return proof


def format_tlog_proof(proof: TlogProof) -> bytes:
    """Encode one tlog-proof; the checkpoint note is written verbatim."""
    if (
        isinstance(proof.index, bool)
        or not isinstance(proof.index, int)
        or not 0 <= proof.index < MAX_TREE_SIZE
    ):
        raise _malformed(f"index {proof.index!r} is not in 0..2^64-2")
    hashes = _check_hashes(proof.hashes)
    note = bytes(proof.checkpoint_note)
    _, end = split_note(note, 0)
    if end != len(note):
        raise _malformed("checkpoint note has data after its signatures")
    _check_note(note, "checkpoint")
    out = [TLOG_PROOF_HEADER.encode() + b"\n"]
    if proof.extra is not None:
        out.append(b"extra " + b64encode(bytes(proof.extra)).encode() + b"\n")
    out.append(b"index %d\n" % proof.index)
    out.extend(b64encode(h).encode() + b"\n" for h in hashes)
    out.append(b"\n")
    out.append(note)
    return b"".join(out)


# --- bundles ----------------------------------------------------------------------------------


def _check_bundle(proofs: Sequence[TlogProof]) -> None:
    if not proofs:
        raise _malformed("a bundle holds at least one proof")
    for previous, proof in zip(proofs, proofs[1:]):
        if proof.checkpoint_note != proofs[0].checkpoint_note:
            raise _malformed(
                f"proof for index {proof.index} uses a different checkpoint",
                "all proofs of a bundle share one checkpoint",
            )
        if proof.index <= previous.index:
            raise _malformed(
                f"index {proof.index} follows index {previous.index}",
                "bundle proofs are sorted by index, without duplicates",
            )


def parse_bundle(data: bytes) -> list[TlogProof]:
    """Parse one or more concatenated tlog-proofs over the same checkpoint."""
    return read_bundle(data)[0]


def read_bundle(data: bytes) -> tuple[list[TlogProof], Checkpoint]:
    """:func:`parse_bundle`, plus the body of the checkpoint the proofs share, parsed with any
    origin (pactlog's origin rule is the policy's to check): ledger.verify need not parse it again."""
    lines = _Lines(data)
    if lines.at_end():
        raise _malformed("the bundle is empty")
    proofs = []
    while not lines.at_end():
        proofs.append(_read_tlog_proof(lines))
    _check_bundle(proofs)
    return proofs, lines.checkpoints[proofs[0].checkpoint_note]


def format_bundle(proofs: Sequence[TlogProof]) -> bytes:
    """Concatenate tlog-proofs into a bundle (same checkpoint, increasing index)."""
    proofs = list(proofs)
    _check_bundle(proofs)
    return b"".join(format_tlog_proof(p) for p in proofs)


# --- consistency files ------------------------------------------------------------------------


def parse_consistency_file(data: bytes) -> ConsistencyFile:
    """Parse a pactlog/consistency-proof@v1 file: hashes, old note, new note, nothing else."""
    lines = _Lines(data)
    if lines.next("the consistency-proof header") != CONSISTENCY_HEADER:
        raise lines.fail(
            f"expected the header {CONSISTENCY_HEADER!r}",
            "this is not a pactlog consistency-proof file",
        )
    hashes = _read_hashes(lines)
    old_note = _read_note(lines, "old checkpoint")
    new_note = _read_note(lines, "new checkpoint")
    if not lines.at_end():
        raise _malformed(f"line {lines.line_number}: unexpected data after the new checkpoint")
    return ConsistencyFile(hashes, old_note, new_note)


def format_consistency_file(proof: ConsistencyFile) -> bytes:
    """Encode a consistency file; both notes are written verbatim."""
    hashes = _check_hashes(proof.hashes)
    notes = []
    for what, note in (("old checkpoint", proof.old_note), ("new checkpoint", proof.new_note)):
        note = bytes(note)
        _, end = split_note(note, 0)
        if end != len(note):
            raise _malformed(f"{what} note has data after its signatures")
        _check_note(note, what)
        notes.append(note)
    body = [
        CONSISTENCY_HEADER.encode() + b"\n",
        *(b64encode(h).encode() + b"\n" for h in hashes),
        b"\n",
    ]
    return b"".join(body + notes)
