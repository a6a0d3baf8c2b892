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


def _utf16_sorted(value):
    if isinstance(value, dict):
        return {key: _utf16_sorted(value[key]) for key in sorted(value, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(value, (list, tuple)):
        return [_utf16_sorted(item) for item in value]
    return value
