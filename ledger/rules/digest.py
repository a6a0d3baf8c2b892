"""Canonical serialisation of the derived state and its digest (D3).

The bytes are RFC 8785 (JCS) canonical JSON as ``ledger.canonical`` writes it:
no whitespace, object keys sorted by UTF-16 code units, minimal string escapes,
integers in plain decimal.  JCS represents integers exactly only up to 2^53 - 1;
a derived total can pass that bound only with absurd amounts (each entry's
integers are within it), and then, as the one extension, the integer is still
written in plain exact decimal.  The digest is SHA-256 of the bytes, in hex.
"""

from __future__ import annotations

import hashlib
import json

from ledger import canonical
from ledger.errors import MalformedError


def canonical_bytes(value) -> bytes:
    """The canonical JSON bytes of a JSON-shaped ``value``."""
    try:
        return canonical.dumps(value)
    except MalformedError as exc:
        if exc.reason != "integer_out_of_range":
            raise
    return json.dumps(_utf16_sorted(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_canonical(data: bytes):
    """Parse bytes that :func:`canonical_bytes` wrote; anything else is a MalformedError."""
    try:
        return canonical.loads(data)
    except MalformedError as exc:
        if exc.reason != "integer_out_of_range":
            raise
    value = json.loads(data.decode("utf-8"))
    if canonical_bytes(value) != data:
        raise MalformedError("not canonical JSON", reason="non_canonical_json")
    return value


def digest_of(value) -> str:
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


class Lazy:
    """A large member of the canonical state, produced item by item so that a digest never holds
    it whole: ``items`` yields (key, value) pairs in RFC 8785 key order (an object), or values in
    order (an array)."""

    def __init__(self, items, *, is_object: bool):
        self.items = items
        self.is_object = is_object


def streamed_digest(value) -> str:
    """:func:`digest_of` of a JSON-shaped value whose large members may be :class:`Lazy`: the same
    digest, computed while streaming them (the bytes are hashed as they are made, never joined)."""
    sha = hashlib.sha256()
    _feed(sha, value)
    return sha.hexdigest()


def _feed(sha, value) -> None:
    if isinstance(value, Lazy):
        sha.update(b"{" if value.is_object else b"[")
        first = True
        for item in value.items:
            if not first:
                sha.update(b",")
            first = False
            if value.is_object:
                key, item = item
                sha.update(canonical_bytes(key) + b":")
            sha.update(canonical_bytes(item))
        sha.update(b"}" if value.is_object else b"]")
    elif isinstance(value, dict) and any(isinstance(v, Lazy) for v in value.values()):
        sha.update(b"{")
        for n, key in enumerate(sorted(value, key=canonical.utf16_key)):
            sha.update((b"," if n else b"") + canonical_bytes(key) + b":")
            _feed(sha, value[key])
        sha.update(b"}")
    else:
        sha.update(canonical_bytes(value))


def _utf16_sorted(value):
    if isinstance(value, dict):
        return {key: _utf16_sorted(value[key]) for key in sorted(value, key=canonical.utf16_key)}
    if isinstance(value, (list, tuple)):
        return [_utf16_sorted(item) for item in value]
    return value
