"""RFC 8785 canonical JSON (ledger/canonical.py): vectors, strictness, and a differential test against rfc8785."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger import canonical
from ledger.errors import MalformedError

VECTORS = json.loads((Path(__file__).parent.parent / "specs" / "vectors" / "canonical.json").read_text("utf-8"))


def vector_bytes(vector: dict) -> bytes:
    if "repeat" in vector:
        return b"".join(bytes.fromhex(run) * count for run, count in vector["repeat"])
    return bytes.fromhex(vector["hex"])


# --- vectors ----------------------------------------------------------------------------------


def test_vector_constants_match_the_code():
    assert VECTORS["max_depth"] == canonical.MAX_DEPTH == 64
    assert VECTORS["max_safe_integer"] == canonical.MAX_SAFE_INTEGER == 2**53 - 1


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors(vector):
    value = json.loads(vector["input"])
    expected = bytes.fromhex(vector["canonical_hex"])
    assert expected == vector["canonical"].encode("utf-8")
    assert canonical.dumps(value) == expected
    assert rfc8785.dumps(value) == expected  # the reference implementation agrees
    assert canonical.loads(expected) == value


@pytest.mark.parametrize("vector", VECTORS["dumps_invalid"], ids=lambda v: v["name"])
def test_values_that_cannot_be_encoded(vector):
    with pytest.raises(MalformedError) as caught:
        canonical.dumps(json.loads(vector["input"]))
    assert caught.value.reason == vector["reason"]


@pytest.mark.parametrize("vector", VECTORS["loads_invalid"], ids=lambda v: v["name"])
def test_bytes_the_strict_parser_refuses(vector):
    with pytest.raises(MalformedError) as caught:
        canonical.loads(vector_bytes(vector))
    assert caught.value.reason == vector["reason"]
    assert caught.value.hint


def test_rfc8785_sorting_example_order():
    """RFC 8785 section 3.2.3 lists the expected order of its example's keys."""
    vector = next(v for v in VECTORS["valid"] if v["name"] == "rfc8785_sorting")
    keys = list(json.loads(vector["canonical"]))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001F600", "\ufb33"]


# --- encoding details -------------------------------------------------------------------------


def test_types_outside_the_subset_are_refused():
    for value, reason in [
        ({1: "a"}, "unsupported_type"),
        ({("a",): 1}, "unsupported_type"),
        (b"bytes", "unsupported_type"),
        ({"a"}, "unsupported_type"),
        (float("nan"), "float_not_allowed"),
        (float("inf"), "float_not_allowed"),
        ([0.0], "float_not_allowed"),
    ]:
        with pytest.raises(MalformedError) as caught:
            canonical.dumps(value)
        assert caught.value.reason == reason


def test_tuples_encode_as_arrays_and_bools_stay_literals():
    assert canonical.dumps({"a": (1, True, None)}) == b'{"a":[1,true,null]}'


def test_depth_limit_is_exact():
    def nested(depth):
        value: object = 0
        for _ in range(depth):
            value = [value]
        return value

    assert canonical.loads(canonical.dumps(nested(64))) == nested(64)
    with pytest.raises(MalformedError):
        canonical.dumps(nested(65))


def test_cycles_are_refused_not_looped():
    loop: list = []
    loop.append(loop)
    with pytest.raises(MalformedError) as caught:
        canonical.dumps(loop)
    assert caught.value.reason == "too_deep"


def test_loads_takes_bytes_like_only():
    assert canonical.loads(bytearray(b"[1]")) == [1]
    assert canonical.loads(memoryview(b"{}")) == {}
    with pytest.raises(TypeError):
        canonical.loads("{}")


def test_non_canonical_error_tells_how_to_fix():
    with pytest.raises(MalformedError) as caught:
        canonical.loads(b'{"b":1,"a":2}')
    assert "RFC 8785" in caught.value.message and "RFC 8785" in caught.value.hint
    assert "byte 2" in caught.value.message


# --- properties -------------------------------------------------------------------------------

# Characters chosen to hit every escaping and ordering case: controls, ASCII, Latin-1, the
# U+D7FF/U+E000 edges around the surrogate block, high BMP and supplementary characters.
interesting_chars = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x7F),
    st.characters(min_codepoint=0x80, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
    st.sampled_from("\x00\x1f\x7f\"\\/\u2028\ud7ff\ue000\uffff\U00010000\U0010ffff"),
)
texts = st.text(interesting_chars, max_size=6)
safe_integers = st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER)
values = st.recursive(
    st.none() | st.booleans() | safe_integers | texts,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(values)
@example({"\uff01": 1, "\U0001F600": 2})
@example({"\ue000": {"\U00010000": 1, "\uffff": 2}})
def test_dumps_agrees_with_the_rfc8785_package(value):
    encoded = canonical.dumps(value)
    assert encoded == rfc8785.dumps(value)
    assert canonical.loads(encoded) == value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, safe_integers, min_size=2, max_size=8))
def test_key_order_is_utf16_code_unit_order(obj):
    keys = list(json.loads(canonical.dumps(obj)))
    assert keys == sorted(obj, key=lambda k: k.encode("utf-16-be"))


@settings(max_examples=200, deadline=None)
@given(values)
def test_reformatted_json_is_refused_unless_identical(value):
    encoded = canonical.dumps(value)
    for variant in (
        json.dumps(value, ensure_ascii=True).encode(),
        json.dumps(value, indent=1, ensure_ascii=False).encode(),
        json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(),  # unsorted keys
    ):
        if variant != encoded:
            with pytest.raises(MalformedError) as caught:
                canonical.loads(variant)
            assert caught.value.reason == "non_canonical_json"


@settings(max_examples=200, deadline=None)
@given(st.integers(canonical.MAX_SAFE_INTEGER + 1, 10**400) | st.integers(-(10**400), -canonical.MAX_SAFE_INTEGER - 1))
def test_unsafe_integers_are_refused_both_ways(number):
    with pytest.raises(MalformedError) as caught:
        canonical.dumps([number])
    assert caught.value.reason == "integer_out_of_range"
    with pytest.raises(MalformedError) as caught:
        canonical.loads(str(number).encode())
    assert caught.value.reason == "integer_out_of_range"


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3), st.booleans())
def test_lone_surrogates_are_refused(surrogates, as_key):
    value = {surrogates: 1} if as_key else [surrogates]
    with pytest.raises(MalformedError) as caught:
        canonical.dumps(value)
    assert caught.value.reason == "invalid_string"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_arbitrary_bytes_parse_only_if_canonical(data):
    """loads either refuses with MalformedError or returns a value that re-encodes to the input."""
    try:
        value = canonical.loads(data)
    except MalformedError:
        return
    assert canonical.dumps(value) == data
