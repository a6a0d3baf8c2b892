"""RFC 8785 JSON Canonicalization Scheme (JCS) for pactlog's value subset.

pactlog signs and hashes JSON, so every value must have exactly one byte
encoding.  JCS gives that: no whitespace, object members sorted by the UTF-16
code units of their names, strings escaped as ECMAScript's JSON.stringify
does, numbers printed as ECMAScript prints them.

Our subset: objects with string keys, arrays, strings, booleans, null and
integers in the I-JSON safe range +-(2**53 - 1).  Floats are refused outright:
entries carry integers only, which removes JCS's hardest part (ECMAScript
number formatting) and any cross-language float ambiguity.  In that range an
integer's JCS form is its plain decimal spelling.

:func:`dumps` encodes; :func:`loads` parses strictly and also demands that the
input *is* canonical (byte-identical to ``dumps`` of the result), so that a
parsed value always re-encodes to the bytes that were signed or hashed.

Pure module: standard library only.
"""

from __future__ import annotations

import json
import re
from typing import Any, Union

from ledger.errors import MalformedError

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer I-JSON (RFC 7493) and JCS represent exactly (ECMAScript Number.MAX_SAFE_INTEGER)."""

MAX_DEPTH = 64
"""Deepest nesting of arrays/objects accepted; the outermost container is depth 1."""

JSONValue = Union[dict, list, str, int, bool, None]

CANONICAL_HINT = (
    "canonicalise the JSON with RFC 8785 (JCS): no whitespace, object keys sorted by UTF-16 "
    "code units, minimal string escapes, integers only"
)

# Why ``json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` is
# JCS for our subset, and the one case where it is not:
#
# * Strings: Python's encoder with ensure_ascii=False escapes exactly '"', '\\' and
#   the characters below U+0020, using \b \t \n \f \r short forms and lowercase
#   \u00xx otherwise, and writes everything else literally; that is ECMAScript's
#   QuoteJSONString, which JCS prescribes.  (Lone surrogates are the exception: both
#   refuse them here, because the final UTF-8 encode fails on them.)
# * Integers within +-(2**53 - 1) print as plain decimal in both.  Floats never reach
#   the encoder: _scan refuses them.
# * Key order: Python sorts by code point, JCS by UTF-16 code unit.  Compare two
#   distinct keys at their first differing code points a != b (the common prefix
#   encodes to identical code units, and a key that is a code-point prefix of the
#   other is also a UTF-16 prefix of it, so prefixes sort alike).  If a and b are
#   both in the BMP, each is one code unit equal to itself: same order.  If both are
#   supplementary (>= U+10000), their surrogate pairs order like the code points:
#   same order.  If a is in the BMP and b is supplementary, then a < b by code point,
#   while in UTF-16 a is compared with b's high surrogate (U+D800..U+DBFF): a sorts
#   first exactly when a < U+D800.  a cannot be a surrogate (refused), so the orders
#   disagree iff U+E000 <= a <= U+FFFF.
#   Hence: the orders can differ only inside an object that has one key containing
#   a character in U+E000..U+FFFF and another containing a character >= U+10000.
#   Only then do we sort by UTF-16 ourselves (RFC 8785 section 3.2.3's example is
#   such an object: U+FB33 sorts after U+1F600).
_HIGH_BMP = re.compile("[\ue000-\uffff]")
_SUPPLEMENTARY = re.compile("[\U00010000-\U0010ffff]")


def _malformed(message: str, reason: str, hint: str | None = CANONICAL_HINT) -> MalformedError:
    return MalformedError(message, hint=hint, reason=reason)


# --- encoding ---------------------------------------------------------------------------------


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of ``value``.

    Raises MalformedError for floats (reason ``float_not_allowed``), integers outside
    +-(2**53 - 1) (``integer_out_of_range``), non-string object keys and other types
    (``unsupported_type``), lone surrogates (``invalid_string``) and nesting deeper than
    MAX_DEPTH (``too_deep``).  Tuples are encoded as arrays.
    """
    needs_utf16_sort = _scan(value, 0)
    if needs_utf16_sort:
        text = json.dumps(_sorted_by_utf16(value), ensure_ascii=False, separators=(",", ":"))
    else:
        text = _encode_sorted(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _lone_surrogate() from None


def _lone_surrogate() -> MalformedError:
    return _malformed(
        "a string contains a lone UTF-16 surrogate (U+D800..U+DFFF), which is not valid Unicode",
        "invalid_string",
        hint="strings must be valid Unicode; pair surrogates or remove them",
    )


def _scan(value: Any, depth: int) -> bool:
    """Check ``value`` is in our subset; True if some object needs the UTF-16 key sort."""
    if isinstance(value, str) or value is None or value is True or value is False:
        return False
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return False
        raise _malformed(
            f"integer {value} is outside the safe range +-(2^53-1)",
            "integer_out_of_range",
            hint="I-JSON integers must lie within +-9007199254740991; encode larger numbers as strings",
        )
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise _too_deep()
        needs_utf16_sort = has_high_bmp = has_supplementary = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise _malformed(f"object key {key!r} is not a string", "unsupported_type", hint="JSON object keys are strings")
            if not key.isascii():
                has_high_bmp = has_high_bmp or _HIGH_BMP.search(key) is not None
                has_supplementary = has_supplementary or _SUPPLEMENTARY.search(key) is not None
            if _scan(item, depth + 1):
                needs_utf16_sort = True
        return needs_utf16_sort or (has_high_bmp and has_supplementary)
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise _too_deep()
        needs_utf16_sort = False
        for item in value:
            if _scan(item, depth + 1):
                needs_utf16_sort = True
        return needs_utf16_sort
    if isinstance(value, float):
        raise _malformed(
            f"number {value!r} is not an integer",
            "float_not_allowed",
            hint="pactlog JSON carries integers only; encode fractions as strings or scaled integers",
        )
    raise _malformed(f"a {type(value).__name__} is not a JSON value", "unsupported_type", hint="use dict, list, str, int, bool or None")


def _too_deep() -> MalformedError:
    return _malformed(
        f"JSON nesting is deeper than {MAX_DEPTH} levels",
        "too_deep",
        hint=f"flatten the structure to at most {MAX_DEPTH} nested arrays/objects",
    )


def utf16_key(name: str) -> bytes:
    """RFC 8785's sort key of an object member name: its UTF-16 code units as big-endian bytes
    (bytes compare like the code units). A lone surrogate is encoded as itself, never refused:
    callers that must refuse it do so (see _utf16_order)."""
    return name.encode("utf-16-be", "surrogatepass")


def _utf16_order(item: tuple[str, Any]) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like the sequence of 16-bit code units.
    try:
        return item[0].encode("utf-16-be")
    except UnicodeEncodeError:
        raise _lone_surrogate() from None


def _sorted_by_utf16(value: Any) -> Any:
    """A copy of ``value`` whose dicts iterate in JCS (UTF-16) key order; json.dumps keeps it."""
    if isinstance(value, dict):
        return {key: _sorted_by_utf16(item) for key, item in sorted(value.items(), key=_utf16_order)}
    if isinstance(value, (list, tuple)):
        return [_sorted_by_utf16(item) for item in value]
    return value


# --- strict parsing ---------------------------------------------------------------------------


def loads(data: bytes) -> JSONValue:
    """Parse canonical JSON bytes strictly; raise MalformedError on anything else.

    Refused, each with its own reason: invalid UTF-8 (``invalid_utf8``), a byte order
    mark (``byte_order_mark``), JSON syntax errors incl. NaN/Infinity (``invalid_json``),
    duplicate object keys (``duplicate_key``), numbers with a fraction or exponent
    (``float_not_allowed``), integers beyond +-(2**53 - 1) (``integer_out_of_range``),
    lone surrogate escapes (``invalid_string``), nesting beyond MAX_DEPTH (``too_deep``),
    bytes after the value (``trailing_data``) and any valid JSON that is not in RFC 8785
    canonical form (``non_canonical_json``).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("canonical.loads takes bytes")
    data = bytes(data)
    value = _loads_fast(data)
    if value is not _NOT_FAST:
        return value
    if data.startswith(b"\xef\xbb\xbf"):
        raise _malformed("JSON starts with a UTF-8 byte order mark", "byte_order_mark", hint="remove the byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed(f"JSON is not valid UTF-8 (byte {exc.start})", "invalid_utf8", hint="encode the JSON as UTF-8") from None
    try:
        value = _STRICT_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        offset = len(text[: exc.pos].encode("utf-8"))
        if exc.msg == "Extra data":
            raise _malformed(f"unexpected data after the JSON value at byte {offset}", "trailing_data") from None
        raise _malformed(f"not valid JSON: {exc.msg} at byte {offset}", "invalid_json", hint="fix the JSON syntax") from None
    except RecursionError:
        raise _too_deep() from None
    canonical = _dumps_parsed(value, data)
    if canonical != data:
        if data.startswith(canonical):
            raise _malformed(f"unexpected data after the JSON value at byte {len(canonical)}", "trailing_data")
        offset = next((i for i, (a, b) in enumerate(zip(canonical, data)) if a != b), min(len(canonical), len(data)))
        raise _malformed(f"JSON is not in RFC 8785 canonical form (first difference at byte {offset})", "non_canonical_json")
    return value


_NOT_FAST = object()


def _loads_fast(data: bytes) -> JSONValue | object:
    """The value of ``data`` if it is canonical JSON of the ordinary kind; else _NOT_FAST, and
    :func:`loads` goes the strict way, which also finds the reason for any refusal.

    One json scan without the Python hook called on every object (the duplicate-key check), and
    one comparison with the re-encoded text. That accepts exactly what the strict way accepts,
    with the same value:

    * duplicate keys: the re-encoding of a parsed value never repeats a key, so a text that equals
      it has none, and the strict duplicate check would have passed;
    * integers out of range, fractions, NaN/Infinity: refused by the strict decoder's own hooks;
    * lone surrogates, trailing data, whitespace, any other non-canonical spelling: the text
      differs from the re-encoding;
    * nesting depth and the UTF-16 key order: only taken when _dumps_parsed's own conditions
      show that neither can matter.

    Anything else (including every error) falls back."""
    if not _encoder_suffices(data):
        return _NOT_FAST
    try:
        text = data.decode("utf-8")
        value, end = _FAST_SCAN(text, 0)  # JSONDecoder.raw_decode without its Python frame
    except (ValueError, StopIteration, MalformedError):  # UnicodeDecodeError, JSONDecodeError
        return _NOT_FAST
    if end != len(text) or _encode_sorted(value) != text:
        return _NOT_FAST
    return value


def _encoder_suffices(data: bytes) -> bool:
    """Whether the plain sorted encoder gives the canonical form of whatever ``data`` parses to:
    at most MAX_DEPTH brackets (so no nesting beyond MAX_DEPTH) and no character >= U+E000, whose
    UTF-8 lead bytes are 0xEE..0xF4 (so code-point and UTF-16 key order agree)."""
    return data.count(b"{") + data.count(b"[") <= MAX_DEPTH and (data.isascii() or not _HIGH_LEAD_BYTE.search(data))


def _dumps_parsed(value: JSONValue, data: bytes) -> bytes:
    """``dumps(value)`` for a value that ``json.loads`` just parsed from ``data`` with our hooks.

    The hooks already refused floats, unsafe integers and duplicate keys, so the type scan of
    :func:`dumps` is needed only where it can still find something: nesting deeper than MAX_DEPTH
    (impossible with at most MAX_DEPTH brackets in the input) and the UTF-16 key order (impossible
    without characters >= U+E000, whose UTF-8 lead bytes are 0xEE..0xF4). This keeps strict
    parsing of ordinary entries at one json.loads plus one C-speed json.dumps."""
    if _encoder_suffices(data):
        try:
            return _encode_sorted(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, written as a \uD8xx escape in the input
            raise _lone_surrogate() from None
    return dumps(value)


_HIGH_LEAD_BYTE = re.compile(rb"[\xee-\xf4]")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _malformed(f"duplicate object key {key!r}", "duplicate_key", hint="every key may appear once per object")
            seen.add(key)
    return obj


def _safe_integer(digits: str) -> int:
    if len(digits) <= 15:  # at most 15 digits: within +-(10^15 - 1), which is safe
        return int(digits)
    # 2**53 - 1 has 16 digits: longer spellings are out of range (and would be slow to convert).
    number = int(digits) if len(digits.lstrip("-")) <= 16 else None
    if number is None or abs(number) > MAX_SAFE_INTEGER:
        raise _malformed(
            f"integer {digits[:40]} is outside the safe range +-(2^53-1)",
            "integer_out_of_range",
            hint="I-JSON integers must lie within +-9007199254740991; encode larger numbers as strings",
        )
    return number


def _refuse_fraction(text: str) -> Any:
    raise _malformed(
        f"number {text[:40]} has a fraction or exponent",
        "float_not_allowed",
        hint="pactlog JSON carries integers only, written in plain decimal",
    )


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not valid JSON", "invalid_json", hint="JSON has no NaN or Infinity")


# Built once: json.loads / json.dumps with options build a new decoder / encoder on every call.
_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_object_without_duplicates, parse_int=_safe_integer,
                                   parse_float=_refuse_fraction, parse_constant=_refuse_constant)
# The fast path's decoder: the strict one without the duplicate-key hook (see _loads_fast). Its
# scanner, what raw_decode calls: (value, end) of the JSON value at an index, StopIteration if none.
_FAST_SCAN = json.JSONDecoder(parse_int=_safe_integer, parse_float=_refuse_fraction,
                              parse_constant=_refuse_constant).scan_once

# No circular-reference check: json.loads never builds a cycle, and dumps() runs _scan first, which
# refuses a cycle as nesting deeper than MAX_DEPTH.
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False)


def _make_encode_sorted():
    """``_SORTED_ENCODER.encode``, minus the C encoder it builds on every call: json's own one-shot
    path (JSONEncoder.iterencode) with the same options, built once. Without the C accelerator,
    the encoder itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _SORTED_ENCODER.encode
    e = _SORTED_ENCODER
    try:  # json's internal signature (CPython 3.11-3.13); any other: the public encoder
        encoder = make(None, e.default, json.encoder.encode_basestring, e.indent, e.key_separator,
                       e.item_separator, e.sort_keys, e.skipkeys, e.allow_nan)

        def encode_sorted(value: Any) -> str:
            return "".join(encoder(value, 0))

        probe = {"b": [1, "\u00e9", None, True], "a": {"\n": -2}}
        if encode_sorted(probe) == _SORTED_ENCODER.encode(probe):
            return encode_sorted
    except TypeError:
        pass
    return _SORTED_ENCODER.encode


_encode_sorted = _make_encode_sorted()
