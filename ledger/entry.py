"""The signed entry: what a pactlog log stores, one per Merkle leaf.

An entry is the RFC 8785 canonical JSON object

    {"signatures":[{"key":<vkey>,"sig":<base64>},...],
     "statement":{"body":{...},"log":<origin>,"seq":<int>,"signer":<vkey>,"time":<int>,"type":<str>}}

and nothing else; those exact bytes are the log leaf, and SHA-256(0x00 || bytes)
is the entry's identity.  Every signature is an Ed25519 signature of
``b"pactlog/entry/v1\\n" + canonical(statement)``: exactly one by the statement's
signer, optionally more by co-signers, sorted by key.  specs/entry.md is the
byte-level description and the reasoning behind each rule.

Decoding (:func:`decode_entry`) checks form only; :func:`verify_signatures`
checks the cryptography.  The log's admission code and the offline verifier do
both, plus the log-specific checks (origin, sequence numbers, time).

Pure module: standard library, PyNaCl (via ledger.note) and ledger modules only.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from ledger import canonical
from ledger.errors import EntryRejected, InvalidInput, MalformedError, VerificationFailed
from ledger.merkle import leaf_hash as merkle_leaf_hash
from ledger.note import ALG_ED25519, Signer, Verifier, b64decode_strict, b64encode, check_key_name, parse_vkey

SIGNING_DOMAIN = b"pactlog/entry/v1\n"
"""Prefix of every signed message; see specs/entry.md for why it cannot collide with a signed note."""

MAX_ENTRY_SIZE = 65_535
"""Largest entry in bytes: tlog-tiles frames each entry with a big-endian uint16 length."""

SIGNATURE_SIZE = 64
MAX_INTEGER = canonical.MAX_SAFE_INTEGER

STATEMENT_FIELDS = ("body", "log", "seq", "signer", "time", "type")
ENTRY_FIELDS = ("signatures", "statement")
SIGNATURE_FIELDS = ("key", "sig")

_TYPE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")

_ENTRY_HINT = "see specs/entry.md for the entry format"


# --- field checks -----------------------------------------------------------------------------


def _invalid(field: str, problem: str, hint: str = _ENTRY_HINT) -> MalformedError:
    return MalformedError(f"{field} {problem}", hint=hint, reason="invalid_field")


def _check_integer(field: str, value: Any, minimum: int) -> None:
    # bool is an int subclass in Python; JSON true is not a number.
    if type(value) is not int or not minimum <= value <= MAX_INTEGER:
        raise _invalid(field, f"must be an integer in {minimum}..{MAX_INTEGER}, not {value!r}")


def _check_fields(obj: Any, where: str, fields: tuple[str, ...]) -> None:
    if not isinstance(obj, dict):
        raise _invalid(where, f"must be a JSON object, not {type(obj).__name__}")
    if tuple(obj) == fields:  # ``fields`` is sorted, so canonical JSON lists it in this order
        return
    if len(obj) != len(fields) or any(name not in obj for name in fields):
        unknown = sorted(set(obj) - set(fields))
        if unknown:
            raise MalformedError(f"{where} has unknown field {unknown[0]!r}", hint=f"{where} has exactly the fields {', '.join(fields)}", reason="unknown_field")
        missing = [name for name in fields if name not in obj]
        raise MalformedError(f"{where} lacks the field {missing[0]!r}", hint=f"{where} has exactly the fields {', '.join(fields)}", reason="missing_field")


@functools.lru_cache(maxsize=4096)
def ed25519_verifier(vkey: str) -> Verifier:
    """Parse an Ed25519 (type 0x01) vkey, or raise MalformedError; cached, as signers recur."""
    verifier = parse_vkey(vkey)
    if verifier.alg != ALG_ED25519:
        raise MalformedError(
            f"key {verifier.name!r} has signature type 0x{verifier.alg:02x}; entries are signed with Ed25519 (0x01) keys",
            hint="sign entries with an ordinary note key, not a witness cosignature key",
            reason="unsupported_key_type",
        )
    return verifier


def _check_vkey(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _invalid(field, f"must be a verifier key string, not {type(value).__name__}")
    try:
        ed25519_verifier(value)
    except MalformedError as exc:
        raise MalformedError(f"{field}: {exc.message}", hint=exc.hint, reason=exc.reason) from None


def check_type_name(value: Any) -> None:
    """Raise MalformedError unless ``value`` is a valid entry type (``^[A-Za-z][A-Za-z0-9_.:-]{0,63}$``)."""
    if not isinstance(value, str) or _TYPE_PATTERN.fullmatch(value) is None:
        raise _invalid(
            "statement.type",
            f"{value!r} is not a valid entry type",
            hint="a type is 1-64 characters: a letter, then letters, digits, '_', '.', ':' or '-'",
        )


# --- the data model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What the signers assert.  Constructing one validates every field but the body's contents.

    ``body`` is type-specific and opaque here; :meth:`signing_message` (and
    :func:`make_statement`) refuse bodies that are not canonical-JSON values.
    Treat ``body`` as read-only.
    """

    log: str
    type: str
    signer: str
    seq: int
    time: int
    body: dict

    def __post_init__(self) -> None:
        _check_statement(self.log, self.type, self.signer, self.seq, self.time, self.body)

    def to_json_value(self) -> dict:
        return {
            "body": self.body,
            "log": self.log,
            "seq": self.seq,
            "signer": self.signer,
            "time": self.time,
            "type": self.type,
        }

    def signing_message(self) -> bytes:
        """The bytes every signature of this statement signs: domain prefix + canonical JSON."""
        return SIGNING_DOMAIN + canonical.dumps(self.to_json_value())

    # The statement is compared and hashed by value; its body is a dict, so no __hash__.


def _check_statement(log: Any, type_: Any, signer: Any, seq: Any, time: Any, body: Any) -> None:
    """The checks of Statement's constructor: every field but the body's contents."""
    if not isinstance(log, str):
        raise _invalid("statement.log", f"must be a string, not {type(log).__name__}")
    try:
        check_key_name(log)
    except MalformedError as exc:
        raise _invalid("statement.log", f"is not a valid log origin: {exc.message}", hint="the log origin is a key name without spaces or '+'") from None
    check_type_name(type_)
    _check_vkey("statement.signer", signer)
    _check_integer("statement.seq", seq, 1)
    _check_integer("statement.time", time, 0)
    if not isinstance(body, dict):
        raise _invalid("statement.body", f"must be a JSON object, not {type(body).__name__}")


@dataclass(frozen=True)
class EntrySignature:
    """One signature on an entry: the signer's vkey and the raw 64-byte Ed25519 signature."""

    key: str
    sig: bytes

    def __post_init__(self) -> None:
        _check_vkey("signature key", self.key)
        if not isinstance(self.sig, bytes) or len(self.sig) != SIGNATURE_SIZE:
            raise _invalid("signature", f"must be {SIGNATURE_SIZE} bytes")

    def to_json_value(self) -> dict:
        return {"key": self.key, "sig": b64encode(self.sig)}


@dataclass(frozen=True, eq=False)
class Entry:
    """A decoded entry: statement, signatures (sorted by key) and the exact bytes logged.

    Build entries with :func:`sign`, :func:`add_signature` or :func:`decode_entry`;
    the constructor checks that ``raw`` is the encoding of the other two fields.
    Two entries are equal iff their bytes are.
    """

    statement: Statement
    signatures: tuple[EntrySignature, ...]
    raw: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "signatures", tuple(self.signatures))
        _check_signature_set(self.signatures)
        if self.raw != encode_entry(self.statement, self.signatures):
            raise InvalidInput("Entry.raw is not the encoding of its statement and signatures", hint="build entries with sign() or decode_entry()", reason="inconsistent_entry")

    @property
    def signing_message(self) -> bytes:
        """What every signature of this entry signs, cut from ``raw`` rather than re-encoded."""
        return _signing_message(self.raw)

    @functools.cached_property
    def leaf_hash(self) -> bytes:
        """The RFC 6962 leaf hash SHA-256(0x00 || raw): the entry's identity in the log."""
        return merkle_leaf_hash(self.raw)

    @property
    def hash_hex(self) -> str:
        return self.leaf_hash.hex()

    @property
    def signers(self) -> tuple[str, ...]:
        """The vkeys of all signatures, in entry (sorted) order."""
        return tuple(signature.key for signature in self.signatures)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


_STATEMENT_KEY = b',"statement":'


def _signing_message(raw: bytes) -> bytes:
    """The signed message of the canonical entry ``raw``: the domain, then the statement's bytes.

    ``raw`` is canonical and its top-level keys are "signatures" then "statement", so the
    statement's canonical encoding is everything between the first ``,"statement":`` and the
    final ``}``. That pattern cannot occur earlier: the signatures hold only vkeys and base64,
    and inside any JSON string a quote is escaped. (Cutting is a find and a copy; not worth a
    cached_property, whose lock costs about as much.)"""
    start = raw.find(_STATEMENT_KEY)
    return SIGNING_DOMAIN + raw[start + len(_STATEMENT_KEY) : -1]


def _check_signature_set(signatures: tuple[EntrySignature, ...]) -> None:
    """At least one signature, sorted by key, no key (or public key) twice."""
    if not signatures:
        raise MalformedError("the entry has no signatures", hint="an entry carries at least its signer's signature", reason="no_signatures")
    if len(signatures) == 1:  # (the usual entry) nothing to be out of order or repeated
        return
    public_keys = set()
    for i, signature in enumerate(signatures):
        if i and not signatures[i - 1].key < signature.key:
            if signatures[i - 1].key == signature.key:
                raise MalformedError(f"two signatures by the same key {signature.key!r}", hint="each key signs an entry once", reason="duplicate_signature")
            raise MalformedError(
                "signatures are not sorted by key",
                hint="order signatures by their key strings (bytewise UTF-8 order)",
                reason="unsorted_signatures",
            )
        public_key = ed25519_verifier(signature.key).public_key
        if public_key in public_keys:
            raise MalformedError(f"two signatures by the same public key (second: {signature.key!r})", hint="each key signs an entry once", reason="duplicate_signature")
        public_keys.add(public_key)


def encode_entry(statement: Statement, signatures: Sequence[EntrySignature]) -> bytes:
    """The canonical entry bytes; raises EntryRejected(reason="too_large") above MAX_ENTRY_SIZE."""
    raw = canonical.dumps(
        {
            "signatures": [signature.to_json_value() for signature in signatures],
            "statement": statement.to_json_value(),
        }
    )
    if len(raw) > MAX_ENTRY_SIZE:
        raise _too_large(len(raw))
    return raw


def _too_large(size: int) -> EntryRejected:
    return EntryRejected(
        f"the entry is {size} bytes; the limit is {MAX_ENTRY_SIZE}",
        hint="keep large documents off the log and put their hash in the body",
        reason="too_large",
    )


# --- building and signing ---------------------------------------------------------------------


def make_statement(*, log: str, type: str, signer: str | Signer, seq: int, time: int, body: dict | None = None) -> Statement:
    """A validated Statement; ``signer`` is a vkey or a Signer.  The body must be canonical JSON."""
    if isinstance(signer, Signer):
        signer = signer.vkey
    statement = Statement(log=log, type=type, signer=signer, seq=seq, time=time, body={} if body is None else body)
    canonical.dumps(statement.body)  # refuse floats, huge integers, ... before anyone signs
    return statement


def sign(statement: Statement, signers: Sequence[Signer]) -> Entry:
    """Sign ``statement`` with its signer and any co-signers (in any order) into an Entry."""
    vkeys = [signer.vkey for signer in signers]
    if statement.signer not in vkeys:
        raise InvalidInput(
            "none of the given keys is the statement's signer",
            hint="sign with the key whose vkey is statement.signer (co-signers are extra)",
            reason="signer_mismatch",
        )
    message = statement.signing_message()
    signatures = tuple(sorted((_signature(signer, message) for signer in signers), key=lambda s: s.key))
    return _build(statement, signatures)


def add_signature(entry: Entry, signer: Signer) -> Entry:
    """``entry`` with one more co-signature by ``signer`` (a new Entry: new bytes, new hash).

    Co-signing vouches for the statement only; it neither checks nor covers the
    other signatures (verify_signatures does that).
    """
    signature = _signature(signer, entry.statement.signing_message())
    signatures = tuple(sorted((*entry.signatures, signature), key=lambda s: s.key))
    return _build(entry.statement, signatures)


def _signature(signer: Signer, message: bytes) -> EntrySignature:
    _check_vkey("signing key", signer.vkey)  # refuses cosignature (type 0x04) keys
    return EntrySignature(signer.vkey, signer.sign(message))


def _build(statement: Statement, signatures: tuple[EntrySignature, ...]) -> Entry:
    _check_signature_set(signatures)  # before encoding, for the clearer error
    return Entry(statement, signatures, encode_entry(statement, signatures))


# --- decoding and verifying -------------------------------------------------------------------


def decode_entry(data: bytes) -> Entry:
    """Parse entry bytes strictly (size, canonical JSON, exact schema); does not verify signatures.

    Raises EntryRejected(reason="too_large") above MAX_ENTRY_SIZE and MalformedError
    for everything else (reasons: see canonical.loads, plus invalid_field,
    unknown_field, missing_field, no_signatures, unsorted_signatures,
    duplicate_signature and the vkey reasons of ledger.note.parse_vkey).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("decode_entry takes bytes")
    data = bytes(data)
    if len(data) > MAX_ENTRY_SIZE:
        raise _too_large(len(data))
    value = canonical.loads(data)
    _check_fields(value, "entry", ENTRY_FIELDS)
    statement = statement_from_json(value["statement"])
    signatures = value["signatures"]
    if not isinstance(signatures, list):
        raise _invalid("entry.signatures", f"must be a JSON array, not {type(signatures).__name__}")
    signatures = tuple([_signature_from_json(item, i) for i, item in enumerate(signatures)])
    _check_signature_set(signatures)
    return _trusted_entry(statement, signatures, data)


def _trusted_entry(statement: Statement, signatures: tuple[EntrySignature, ...], raw: bytes) -> Entry:
    """An Entry whose ``raw`` is known to be the canonical encoding of the other fields (it was
    just parsed from it strictly), built without encoding it once more."""
    entry = object.__new__(Entry)
    entry.__dict__.update(statement=statement, signatures=signatures, raw=raw)  # frozen: no setattr
    return entry


def statement_from_json(value: Any) -> Statement:
    """A Statement from its parsed JSON object, with the exact field set required."""
    _check_fields(value, "statement", STATEMENT_FIELDS)
    _check_statement(value["log"], value["type"], value["signer"], value["seq"], value["time"], value["body"])
    # The constructor's checks are done: its field-by-field object.__setattr__ (the dataclass is
    # frozen) is spared by copying the six fields, which _check_fields found to be all there is.
    statement = object.__new__(Statement)
    statement.__dict__.update(value)
    return statement


def _signature_from_json(value: Any, index: int) -> EntrySignature:
    where = f"signatures[{index}]"
    _check_fields(value, where, SIGNATURE_FIELDS)
    key, sig64 = value["key"], value["sig"]
    _check_vkey(where + ".key", key)
    if not isinstance(sig64, str):
        raise _invalid(where + ".sig", f"must be a base64 string, not {type(sig64).__name__}")
    try:
        sig = b64decode_strict(sig64, where + ".sig")
    except MalformedError as exc:
        raise MalformedError(exc.message, hint=exc.hint, reason="invalid_field") from None
    if len(sig) != SIGNATURE_SIZE:
        raise _invalid(where + ".sig", f"is {len(sig)} bytes, not {SIGNATURE_SIZE}")
    # Both fields are checked above, so the constructor's checks are skipped (and so is its
    # field-by-field object.__setattr__: the dataclass is frozen).
    signature = object.__new__(EntrySignature)
    signature.__dict__.update(key=key, sig=sig)
    return signature


def verify_signatures(entry: Entry) -> None:
    """Check the signer's signature is present and every signature verifies.

    Raises VerificationFailed with reason ``missing_signer_signature`` or
    ``bad_signature``.  All signatures must verify, co-signatures included: an
    entry carrying a bad signature is refused, not partially trusted.
    """
    statement = entry.statement
    if statement.signer not in [signature.key for signature in entry.signatures]:  # entry.signers
        raise VerificationFailed(
            f"the entry is not signed by its signer {ed25519_verifier(statement.signer).name!r}",
            hint="the statement's signer must sign it; co-signatures alone do not count",
            reason="missing_signer_signature",
        )
    message = _signing_message(entry.raw)
    for signature in entry.signatures:
        verifier = ed25519_verifier(signature.key)
        if not verifier.verify(message, signature.sig):
            raise VerificationFailed(
                f"the signature by {verifier.name!r} ({signature.key}) does not verify",
                hint="the entry was altered after signing, or signed for a different statement",
                reason="bad_signature",
            )


# --- display ----------------------------------------------------------------------------------


def format_time(seconds: int) -> str:
    """ISO 8601 UTC (``2024-05-01T12:00:00Z``); ``@<seconds>`` beyond year 9999."""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"@{seconds}"


def describe(entry: Entry) -> str:
    """One human-readable line: ``<type> by <signer name> seq <n> at <ISO time>[, co-signed by ...]``."""
    statement = entry.statement
    line = f"{statement.type} by {ed25519_verifier(statement.signer).name} seq {statement.seq} at {format_time(statement.time)}"
    cosigners = [ed25519_verifier(key).name for key in entry.signers if key != statement.signer]
    if cosigners:
        line += ", co-signed by " + ", ".join(cosigners)
    return line
