"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys and cosignatures.

A signed note is a UTF-8 text ending in a newline, a blank line, and one or
more signature lines ``"— <key name> <base64(key id || signature)>\\n"``.
This module holds the two halves of that format:

* keys: :class:`Signer` / :class:`Verifier` for plain Ed25519 (signature type
  0x01, Go's ``golang.org/x/mod/sumdb/note``) and :class:`CosignatureSigner` /
  :class:`CosignatureVerifier` for timestamped witness cosignatures (type 0x04,
  c2sp.org/tlog-cosignature ``cosignature/v1``), with the text encodings
  ``name+keyid+base64`` (vkey) and ``PRIVATE+KEY+name+keyid+base64`` (skey);
* notes: :func:`parse_note`, :func:`format_note`, :func:`sign_note`,
  :func:`add_signatures` and :func:`open_note`.

Acceptance rules follow Go's ``note.NewVerifier`` / ``note.Open`` and are
stricter where Go is lenient (lowercase key-id hex, canonical base64, no
control characters in key names).  ``specs/signed-note.md`` is the byte-level
description; every choice made here is written down there.

Pure module: standard library and PyNaCl only; no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Iterable, Self, Sequence

import nacl.bindings
import nacl.exceptions
import nacl.signing

from ledger.errors import MalformedError, VerificationFailed

ALG_ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature (signed-note)."""

ALG_COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 witness cosignature (tlog-cosignature)."""

KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature: the timestamp is a u64 that MUST NOT exceed 2^63 - 1."""

COSIGNATURE_V1_HEADER = b"cosignature/v1\n"

# Go's unicode.IsSpace set (the Unicode White_Space property), spelled out so that
# pactlog and Go agree exactly on which key names are valid.  Python's str.isspace()
# differs: it also counts U+001C..U+001F.
_UNICODE_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

# One search finds the first character check_key_name refuses (whitespace, '+', C0 control);
# _UNICODE_SPACES holds every whitespace character at or below U+0020.
_BAD_KEY_NAME_CHARACTER = re.compile(
    "[\x00-\x20+\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)

_SKEY_PREFIX = "PRIVATE+KEY+"


# --- small strict helpers ---------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 section 4), as every C2SP text format uses."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str | bytes, what: str, *, reason: str = "malformed") -> bytes:
    """Decode canonical standard base64 or raise MalformedError.

    ``strict_mode`` rejects characters outside the alphabet; re-encoding and
    comparing rejects non-zero padding bits and missing padding, so each byte
    string has exactly one accepted spelling (a signature cannot be re-encoded
    into a second "different" note).  ``text`` may be ASCII bytes, as cut from
    a file, which spares an ASCII decode and re-encode.
    """
    try:
        encoded = text if isinstance(text, bytes) else text.encode("ascii")
        # strict mode refuses characters outside the alphabet and misplaced padding, in C
        raw = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise MalformedError(
            f"{what} is not valid base64: {_shown(text)!r}",
            hint="use standard padded base64 (A-Z a-z 0-9 + /, '=' padding)",
            reason=reason,
        ) from None
    if binascii.b2a_base64(raw, newline=False) != encoded:
        raise MalformedError(
            f"{what} is not canonical base64: {_shown(text)!r}",
            hint="re-encode the bytes with standard padded base64",
            reason=reason,
        )
    return raw


def _shown(text: str | bytes) -> str:
    """The start of a refused base64 text, for an error message (bytes shown as text)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "backslashreplace")
    return text[:60]


def check_key_name(name: str) -> None:
    """Raise MalformedError unless ``name`` is a valid signed-note key name.

    signed-note and Go: non-empty, valid UTF-8, no Unicode whitespace, no '+'.
    pactlog additionally rejects ASCII control characters: such a name could
    never appear on a signature line, because notes may not contain them.
    """
    if not isinstance(name, str) or name == "":
        raise MalformedError(
            "key name is empty",
            hint="name keys after the log or witness, e.g. example.com/log",
            reason="bad_key_name",
        )
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedError(
                "key name is not valid UTF-8", hint="use a plain UTF-8 name", reason="bad_key_name"
            ) from None
    found = _BAD_KEY_NAME_CHARACTER.search(name)
    if found is not None:
        _refuse_key_name_character(name, found.group())


def _refuse_key_name_character(name: str, ch: str) -> None:
    """Raise the error for ``ch``, the first character of ``name`` that key names may not hold."""
    if ch in _UNICODE_SPACES:
        raise MalformedError(
            f"key name {name!r} contains whitespace",
            hint="key names may not contain spaces",
            reason="bad_key_name",
        )
    if ch == "+":
        raise MalformedError(
            f"key name {name!r} contains '+'",
            hint="'+' separates the fields of a key string",
            reason="bad_key_name",
        )
    if ord(ch) < 0x20:
        raise MalformedError(
            f"key name {name!r} contains a control character",
            hint="use printable characters only",
            reason="bad_key_name",
        )


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The 4-byte key id: ``SHA-256(name || 0x0A || alg || public_key)[:4]``.

    This is signed-note's recommended derivation (and Go's ``keyHash`` with the
    algorithm byte as the first byte of the encoded key).  Binding the name
    means the same key under two names has two different ids.
    """
    digest = hashlib.sha256(b"%s\n%c%s" % (name.encode("utf-8"), alg, bytes(public_key))).digest()
    return digest[:KEY_ID_SIZE]


def _format_key_string(name: str, kid: bytes, alg: int, key: bytes) -> str:
    return f"{name}+{kid.hex()}+{b64encode(bytes([alg]) + key)}"


_KEY_ID_HEX = re.compile("[0-9a-f]{%d}" % (2 * KEY_ID_SIZE))


def _split_key_string(text: str, what: str, reason: str) -> tuple[str, bytes, int, bytes]:
    """Split ``name+hex8+base64(alg||key)`` into (name, key id, alg, key), strictly.

    Only the first two '+' separate fields: the base64 part may contain '+'.
    """
    if not isinstance(text, str):
        raise MalformedError(f"{what} must be text", reason=reason)
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise MalformedError(
            f"{what} {text[:80]!r} does not have the form name+keyid+base64",
            hint="copy the whole key string",
            reason=reason,
        )
    name, hex_id, key64 = parts
    check_key_name(name)
    if _KEY_ID_HEX.fullmatch(hex_id) is None:
        raise MalformedError(
            f"{what} key id {hex_id!r} is not 8 lowercase hex digits",
            hint="copy the whole key string",
            reason=reason,
        )
    raw = b64decode_strict(key64, f"{what} key data", reason=reason)
    if len(raw) < 1:
        raise MalformedError(f"{what} has no key data", reason=reason)
    return name, bytes.fromhex(hex_id), raw[0], raw[1:]


def _check_seed(seed: bytes) -> bytes:
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != ED25519_KEY_SIZE:
        raise MalformedError(
            "an Ed25519 seed is exactly 32 bytes",
            hint="use Signer.generate() or a 32-byte seed",
            reason="bad_seed",
        )
    return bytes(seed)


def _ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        # What nacl.signing.VerifyKey(public_key).verify(message, signature) does, without its
        # wrapper layers (key object, encoders, argument checks: ours are done).
        nacl.bindings.crypto_sign_open(bytes(signature) + bytes(message), public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True


def cosignature_message(body: bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header, ``time <ts>`` line, checkpoint body."""
    return COSIGNATURE_V1_HEADER + b"time %d\n" % timestamp + bytes(body)


# --- verifiers --------------------------------------------------------------------------------


class Verifier:
    """An Ed25519 (type 0x01) note verifier key.

    ``verify(message, signature)`` takes the note text and the signature bytes
    that follow the key id on a signature line (the raw 64-byte signature).
    """

    alg = ALG_ED25519

    def __init__(self, name: str, public_key: bytes):
        check_key_name(name)
        if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != ED25519_KEY_SIZE:
            raise MalformedError(
                "an Ed25519 public key is exactly 32 bytes",
                hint="copy the whole key",
                reason="malformed_vkey",
            )
        self._set(name, bytes(public_key))

    def _set(self, name: str, public_key: bytes) -> None:
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, self.alg, public_key)

    @classmethod
    def _of_checked(cls, name: str, public_key: bytes) -> Self:
        """The verifier of a key name and a 32-byte key that the caller has checked as __init__
        would (parse_vkey: a vkey is parsed whenever a one-shot verifier meets a signer)."""
        verifier = cls.__new__(cls)
        verifier._set(name, public_key)
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string ``name+keyid+base64(alg || public key)``."""
        return _format_key_string(self.name, self.key_id, self.alg, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True iff ``signature`` is this key's Ed25519 signature of ``message``."""
        return _ed25519_verify(self.public_key, message, signature)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.vkey == self.vkey  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.vkey))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vkey!r})"


class CosignatureVerifier(Verifier):
    """A cosignature/v1 (type 0x04) witness key, c2sp.org/tlog-cosignature.

    The signature bytes on the note line are ``u64 big-endian timestamp ||
    Ed25519 signature`` (72 bytes) over :func:`cosignature_message`; the
    ``message`` passed to :meth:`verify` is the checkpoint body (the note text).
    """

    alg = ALG_COSIGNATURE_V1

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE:
            return False
        timestamp = struct.unpack(">Q", signature[:TIMESTAMP_SIZE])[0]
        if timestamp > MAX_TIMESTAMP:
            return False
        return _ed25519_verify(
            self.public_key, cosignature_message(message, timestamp), signature[TIMESTAMP_SIZE:]
        )

    @staticmethod
    def timestamp(signature: bytes) -> int:
        """The cosigning time (POSIX seconds) carried by a cosignature's signature bytes."""
        if len(signature) < TIMESTAMP_SIZE:
            raise MalformedError(
                "cosignature is shorter than its timestamp", reason="malformed_note"
            )
        return struct.unpack(">Q", signature[:TIMESTAMP_SIZE])[0]


_VERIFIER_TYPES: dict[int, type[Verifier]] = {
    ALG_ED25519: Verifier,
    ALG_COSIGNATURE_V1: CosignatureVerifier,
}


def parse_vkey(text: str) -> Verifier:
    """Parse a verifier key ``name+keyid+base64(alg || key)`` strictly.

    Returns a :class:`Verifier` for type 0x01 or a :class:`CosignatureVerifier`
    for type 0x04; other types, a key that is not 32 bytes, or a key id that
    does not match the name and key are MalformedError.
    """
    name, kid, alg, key = _split_key_string(text, "verifier key", "malformed_vkey")
    cls = _VERIFIER_TYPES.get(alg)
    if cls is None:
        raise MalformedError(
            f"verifier key {name!r} has unsupported signature type 0x{alg:02x}",
            hint="pactlog supports Ed25519 (0x01) and cosignature/v1 (0x04) keys",
            reason="unsupported_key_type",
        )
    if len(key) != ED25519_KEY_SIZE:
        raise MalformedError(
            f"verifier key {name!r} is {len(key)} bytes, not 32",
            hint="copy the whole key string",
            reason="malformed_vkey",
        )
    verifier = cls._of_checked(name, key)  # _split_key_string checked the name; the length is checked
    if verifier.key_id != kid:
        raise MalformedError(
            f"verifier key {name!r} has key id {kid.hex()} but its name and key give {verifier.key_id.hex()}",
            hint="the key string was altered or truncated; copy it again",
            reason="key_id_mismatch",
        )
    return verifier


# --- signers ----------------------------------------------------------------------------------


class Signer:
    """An Ed25519 (type 0x01) note signing key, Go ``note.NewSigner`` compatible.

    ``Signer(name, seed)`` takes the 32-byte RFC 8032 private seed.  Signing is
    deterministic, so the same key and text always give the same signature line.
    """

    alg = ALG_ED25519
    _verifier_type: type[Verifier] = Verifier

    def __init__(self, name: str, seed: bytes):
        check_key_name(name)
        self.name = name
        self._seed = _check_seed(seed)
        self._signing_key = nacl.signing.SigningKey(self._seed)
        self.public_key = bytes(self._signing_key.verify_key)
        self.key_id = key_id(name, self.alg, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Self:
        """A new key with a random seed from the operating system's CSPRNG."""
        return cls(name, bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def from_skey(cls, text: str) -> Self:
        """Parse ``PRIVATE+KEY+name+keyid+base64(alg || seed)``, checking the key id."""
        if not isinstance(text, str) or not text.startswith(_SKEY_PREFIX):
            raise MalformedError(
                "signer key does not start with PRIVATE+KEY+",
                hint="this looks like a public key, not a private one",
                reason="malformed_skey",
            )
        name, kid, alg, seed = _split_key_string(
            text[len(_SKEY_PREFIX) :], "signer key", "malformed_skey"
        )
        if alg != cls.alg:
            raise MalformedError(
                f"signer key {name!r} has signature type 0x{alg:02x}, expected 0x{cls.alg:02x}",
                hint="use the matching key class for this key type",
                reason="unsupported_key_type",
            )
        if len(seed) != ED25519_KEY_SIZE:
            raise MalformedError(
                f"signer key {name!r} seed is {len(seed)} bytes, not 32", reason="malformed_skey"
            )
        signer = cls(name, seed)
        # The key id covers the *public* key, so it can only be checked after deriving it.
        if signer.key_id != kid:
            raise MalformedError(
                f"signer key {name!r} has key id {kid.hex()} but its key gives {signer.key_id.hex()}",
                hint="the key string was altered or truncated",
                reason="key_id_mismatch",
            )
        return signer

    @property
    def skey(self) -> str:
        """The secret key string ``PRIVATE+KEY+name+keyid+base64(alg || seed)``: keep it secret."""
        return _SKEY_PREFIX + _format_key_string(self.name, self.key_id, self.alg, self._seed)

    @property
    def vkey(self) -> str:
        return _format_key_string(self.name, self.key_id, self.alg, self.public_key)

    @property
    def verifier(self) -> Verifier:
        return self._verifier_type(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self._signing_key.sign(bytes(message)).signature

    def note_signature(self, text: bytes | str) -> "NoteSignature":
        """This key's signature of a note text, ready for :func:`format_note`."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        return NoteSignature(self.name, self.key_id, self.sign(text))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vkey!r})"  # never the seed


class CosignatureSigner(Signer):
    """A cosignature/v1 (type 0x04) witness key.

    Cosigning needs a timestamp and pure modules read no clock, so the caller
    passes it: :meth:`cosign` returns the :class:`NoteSignature` to append to
    the checkpoint.  Its skey uses the same ``PRIVATE+KEY+`` layout with type
    byte 0x04 (a pactlog extension: Go's note package has no such keys).
    """

    alg = ALG_COSIGNATURE_V1
    _verifier_type = CosignatureVerifier

    def cosign(self, body: bytes | str, timestamp: int) -> "NoteSignature":
        """Cosign checkpoint ``body`` as of ``timestamp`` (POSIX seconds)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        is_integer = isinstance(timestamp, int) and not isinstance(timestamp, bool)
        if not is_integer or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise MalformedError(
                f"cosignature timestamp {timestamp!r} is not in 0..2^63-1", reason="bad_timestamp"
            )
        blob = struct.pack(">Q", timestamp) + self.sign(cosignature_message(body, timestamp))
        return NoteSignature(self.name, self.key_id, blob)

    def note_signature(self, text: bytes | str) -> "NoteSignature":
        raise TypeError(
            "a cosignature needs a timestamp: use CosignatureSigner.cosign(body, timestamp)"
        )


# --- notes ------------------------------------------------------------------------------------

MAX_SIGNATURES = 100
"""Most signature lines a note may carry (signed-note: MUST accept >= 16; Go caps at 100)."""

SIGNATURE_PREFIX = "\u2014 "  # em dash, space: starts every signature line


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    blob: bytes

    def line(self) -> str:
        """The signature line, ``"— <name> <base64(key id || blob)>\\n"``."""
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(self.key_id + self.blob)}\n"


@dataclass(frozen=True)
class Note:
    """A note text (ending in a newline) and its signatures, in file order."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _malformed(message: str, hint: str | None = None) -> MalformedError:
    return MalformedError(
        message,
        hint=hint or "a signed note is text, a blank line, and '— name signature' lines",
        reason="malformed_note",
    )


_CONTROL_CHARACTER = re.compile("[\x00-\x09\x0b-\x1f]")
_CONTROL_BYTES = bytes(range(0x00, 0x0A)) + bytes(range(0x0B, 0x20))


def _check_note_characters(text: str) -> None:
    found = _CONTROL_CHARACTER.search(text)
    if found:
        raise _malformed(
            f"note contains control character U+{ord(found.group()):04X} at character {found.start()}",
            "notes may contain no control characters other than newline",
        )


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _malformed(f"signature line {number} does not start with '— ': {line[:60]!r}")
    name, sep, sig64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not sep or not sig64:
        raise _malformed(f"signature line {number} has no signature after the key name")
    try:
        check_key_name(name)
    except MalformedError as exc:
        raise _malformed(f"signature line {number}: {exc.message}") from None
    raw = b64decode_strict(sig64, f"signature line {number}", reason="malformed_note")
    if len(raw) < KEY_ID_SIZE + 1:
        raise _malformed(
            f"signature line {number} is {len(raw)} bytes; it needs a 4-byte key id and a signature"
        )
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(data: bytes) -> Note:
    """Parse a signed note strictly (signed-note and Go ``note.Open``), verifying nothing.

    The text is everything up to and including the newline before the *last*
    blank line; every line after it must be a signature line and the note must
    end with a newline, so trailing data and truncation are both errors.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_note takes bytes")
    return _parse_note(bytes(data))


@functools.lru_cache(maxsize=64)
def _parse_note(data: bytes) -> Note:
    # Cached: verifying a bundle reads its checkpoint note in three places (the bundle parser, the
    # policy and the signature check); a Note is immutable, so they can share one parse. Errors
    # are not cached (lru_cache does not keep exceptions).
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed(
            f"note is not valid UTF-8 (byte {exc.start})", "notes are UTF-8 text"
        ) from None
    # In UTF-8 a byte below 0x20 is always that control character, so deleting the control bytes
    # (a C loop, several times faster than the regular expression) shows whether there are any;
    # only then does the regular expression find the first, for the error message.
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        _check_note_characters(whole)
    split = whole.rfind("\n\n")
    if split < 0:
        raise _malformed("note has no blank line before its signatures")
    text, block = whole[: split + 1], whole[split + 2 :]
    if not block:
        raise _malformed("note has no signature lines after its last blank line")
    if not block.endswith("\n"):
        raise _malformed(
            "note does not end with a newline",
            "the last signature line must end with '\\n'; was the file truncated?",
        )
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(
            f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} are accepted",
            "drop the extra signatures",
        )
    signatures = tuple([_parse_signature_line(line, number) for number, line in enumerate(lines, 1)])
    return Note(text, signatures)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise _malformed("note text must end with a newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _malformed("note text is not valid UTF-8") from None
    _check_note_characters(text)


def format_note(note: Note) -> bytes:
    """Encode a note: text, blank line, one line per signature, in order.

    Checks what :func:`parse_note` checks, so the output always parses back to
    an equal :class:`Note`.
    """
    _check_text(note.text)
    if not note.signatures:
        raise _malformed("a signed note needs at least one signature")
    if len(note.signatures) > MAX_SIGNATURES:
        raise _malformed(
            f"note has {len(note.signatures)} signatures; at most {MAX_SIGNATURES} are allowed"
        )
    for sig in note.signatures:
        check_key_name(sig.name)
        if len(sig.key_id) != KEY_ID_SIZE or len(sig.blob) < 1:
            raise _malformed(
                f"signature by {sig.name!r} needs a 4-byte key id and a non-empty signature"
            )
    return (note.text + "\n" + "".join(sig.line() for sig in note.signatures)).encode("utf-8")


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """Sign ``text`` with each Ed25519 signer in order and return the note bytes.

    Witness cosignatures need a timestamp: add them with :func:`add_signatures`
    and :meth:`CosignatureSigner.cosign`.
    """
    _check_text(text)
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    return format_note(Note(text, tuple(signer.note_signature(text) for signer in signers)))


def add_signatures(note_bytes: bytes, signatures: Iterable[NoteSignature]) -> bytes:
    """Append signature lines to a signed note (e.g. witness cosignatures).

    As Go's ``note.Sign``: an existing signature by the same (name, key id) as
    a new one is replaced rather than duplicated.
    """
    note = parse_note(note_bytes)
    new = tuple(signatures)
    replaced = {(sig.name, sig.key_id) for sig in new}
    kept = tuple(sig for sig in note.signatures if (sig.name, sig.key_id) not in replaced)
    return format_note(Note(note.text, kept + new))


def _index_verifiers(verifiers: Sequence[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        other = known.setdefault(slot, verifier)
        if other is not verifier and other != verifier:  # (!= formats both vkeys)
            # Two different keys answer to one (name, key id): a configuration error
            # that would make every signature for that slot ambiguous (Go: ambiguousVerifierError).
            raise MalformedError(
                f"two different trusted keys share name {verifier.name!r} and key id {verifier.key_id.hex()}",
                hint="remove one of them from the trusted keys",
                reason="ambiguous_key",
            )
    return known


def open_note(data: bytes, verifiers: Sequence[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse a note and check its signatures against trusted ``verifiers``.

    Returns the note and the trusted verifiers whose signature verified (in
    signature order, each once).  Signatures whose (name, key id) is not
    trusted are ignored: that is what lets logs rotate keys and witnesses add
    cosignatures.  Every signature from a trusted key is verified, and one that
    fails rejects the whole note (``reason="bad_signature"``), even when it is
    a repeat of a valid one (Go skips repeats; pactlog is stricter).  A note
    with no verified trusted signature is rejected
    (``reason="no_trusted_signature"``).  A cosignature verifier checks its
    signature against the note text taken as the checkpoint body.
    """
    note = parse_note(data)
    known = _index_verifiers(verifiers)
    message = note.text.encode("utf-8")
    verified: list[Verifier] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.blob):
            raise VerificationFailed(
                f"signature by {sig.name}+{sig.key_id.hex()} does not verify",
                hint="the note was altered after signing, or was not signed by this key",
                reason="bad_signature",
            )
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers) or "none"
        raise VerificationFailed(
            "note carries no signature from a trusted key",
            hint=f"trusted keys: {names}; check that you trust the right key",
            reason="no_trusted_signature",
        )
    return note, verified
