"""The shortcuts taken on offline verification's hot path accept and refuse exactly what the
plain, one-check-at-a-time rules do, with the same messages.

* check_key_name and check_text_line search with one regular expression instead of a loop;
* b64decode_strict takes bytes as well as text;
* a proof's hash lines are decoded as a block, a bad block again line by line;
* parse_checkpoint builds its Checkpoint without re-running the constructor's checks;
* verify_bundle takes the checkpoint body from the bundle parser (parsed with any origin);
* the inclusion proof's hashes are checked by type and length in two C loops.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger import entry as entries
from ledger.bundle import TlogProof, format_bundle, format_tlog_proof, parse_bundle, read_bundle
from ledger.checkpoint import Checkpoint, check_text_line, parse_checkpoint, sign_checkpoint
from ledger.errors import MalformedError, VerificationFailed
from ledger.note import (
    _UNICODE_SPACES,
    Signer,
    b64decode_strict,
    check_key_name,
    parse_note,
    sign_note,
)
from ledger.policy import Policy
from ledger.proof import verify_inclusion
from ledger.verify import verify_bundle

LOG = Signer("example.com/log", hashlib.sha256(b"fast-path log").digest())
ACTOR = Signer("alice", hashlib.sha256(b"fast-path actor").digest())


def _error(call, *args) -> tuple[type, str] | None:
    try:
        call(*args)
    except Exception as exc:  # noqa: BLE001 - the class and message are what is compared
        return type(exc), getattr(exc, "message", str(exc))
    return None


# --- key names and text lines -----------------------------------------------------------------


def _key_name_by_loop(name: str) -> None:
    """check_key_name as it was written before: one character at a time."""
    if not isinstance(name, str) or name == "":
        raise MalformedError("key name is empty")
    name.encode("utf-8")
    for ch in name:
        if ch in _UNICODE_SPACES:
            raise MalformedError(f"key name {name!r} contains whitespace")
        if ch == "+":
            raise MalformedError(f"key name {name!r} contains '+'")
        if ord(ch) < 0x20:
            raise MalformedError(f"key name {name!r} contains a control character")


def test_key_name_check_agrees_with_the_character_loop():
    characters = [chr(c) for c in range(0x3100)] + ["\U0001f600", "\U0010ffff", "\ud800"]
    for ch in characters:
        for name in (ch, f"a{ch}b", f"{ch}+", f"x{ch}\t"):
            expected = _error(_key_name_by_loop, name)
            got = _error(check_key_name, name)
            if expected is None or expected[0] is UnicodeEncodeError:
                assert (got is None) == (expected is None), repr(name)
            else:
                assert got == (MalformedError, expected[1]), repr(name)


def test_text_line_check_names_the_first_control_character():
    for line in ("origin\x00", "a\x1fb\x01", "tab\there", "ok\x7f"):
        expected = next((f"U+{ord(ch):04X}" for ch in line if ch < " "), None)
        error = _error(check_text_line, line, "extension line 1")
        assert (error is None) if expected is None else expected in error[1]
    assert "not valid UTF-8" in _error(check_text_line, "bad \ud800", "origin")[1]


# --- base64 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "AAAA", "AAE=", "AAF=", "AA==", "AB==", "AA=", "A===", "AA AA", "AA\n", "é===", "AAAA="]
)
def test_b64decode_strict_takes_bytes_alike(text):
    as_text = _error(b64decode_strict, text, "field")
    if text.isascii():
        assert _error(b64decode_strict, text.encode(), "field") == as_text
        if as_text is None:
            assert b64decode_strict(text.encode(), "field") == b64decode_strict(text, "field")


# --- proof files --------------------------------------------------------------------------------


def _note() -> bytes:
    return sign_checkpoint(Checkpoint(LOG.name, 5, hashlib.sha256(b"root").digest(), ("ext",)), LOG)


def _proof_file(hashes: int = 6) -> bytes:
    return format_tlog_proof(TlogProof(3, tuple(bytes([i]) * 32 for i in range(hashes)), _note(), b"entry"))


def _with_line(data: bytes, line_number: int, replacement: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[line_number - 1] = replacement
    return b"\n".join(lines)


@pytest.mark.parametrize(
    "bad, message",
    [
        (base64.b64encode(bytes(32))[:-2] + b"B=", "not canonical base64"),  # padding bits set
        (base64.b64encode(bytes(31)), "31 bytes, not 32"),
        (base64.b64encode(bytes(33)), "33 bytes, not 32"),
        (base64.b64encode(bytes(32))[:-1], "not valid base64"),  # missing padding
        (b"!" + base64.b64encode(bytes(32))[1:], "not valid base64"),
        ("é".encode() + base64.b64encode(bytes(32))[2:], "non-ASCII"),
    ],
)
@pytest.mark.parametrize("position", [0, 3, 5])
def test_a_bad_hash_line_is_named(bad, message, position):
    data = _proof_file()
    line_number = 4 + position  # header, extra, index, then the hashes
    error = _error(parse_bundle, _with_line(data, line_number, bad))
    assert error[0] is MalformedError
    assert error[1].startswith(f"line {line_number}: ") and message in error[1]


def test_hash_blocks_parse_as_before():
    for count in (0, 1, 2, 17, 63):
        data = _proof_file(count)
        assert parse_bundle(data)[0].hashes == tuple(bytes([i]) * 32 for i in range(count))


def test_read_bundle_returns_the_shared_checkpoint_body():
    note = _note()
    proofs = [TlogProof(i, (bytes(32),) * 3, note, b"e%d" % i) for i in (1, 2, 4)]
    parsed, body = read_bundle(format_bundle(proofs))
    assert parsed == proofs
    assert body == parse_checkpoint(parse_note(note).text)
    assert body.extensions == ("ext",)


def test_checkpoint_extension_lines_are_still_checked():
    body = "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\nfine\nbad\x01line\n"
    constructed = _error(Checkpoint, "o", 1, bytes(32), ("fine", "bad\x01line"))
    assert constructed[0] is MalformedError and "extension line 2" in constructed[1]
    assert _error(parse_checkpoint, body) == constructed
    assert parse_checkpoint(body[: body.index("bad")]) == Checkpoint("o", 1, bytes(32), ("fine",))


# --- verification -------------------------------------------------------------------------------


def _bundle_for(note: bytes, data: bytes, index: int, hashes: tuple[bytes, ...]) -> bytes:
    return format_tlog_proof(TlogProof(index, hashes, note, data))


def _signed_entry(origin: str) -> bytes:
    statement = entries.make_statement(log=origin, type="NOTE", signer=ACTOR, seq=1, time=1, body={})
    return entries.sign(statement, [ACTOR]).raw


def test_verify_bundle_round_trip_and_tampering():
    data = _signed_entry(LOG.name)
    leaf = hashlib.sha256(b"\x00" + data).digest()
    note = sign_checkpoint(Checkpoint(LOG.name, 1, leaf), LOG)
    policy = Policy.for_log(LOG.verifier.vkey)
    (verified,) = verify_bundle(_bundle_for(note, data, 0, ()), policy)
    assert verified.entry.raw == data and verified.checkpoint.size == 1
    with pytest.raises(VerificationFailed):
        verify_bundle(_bundle_for(note, data.replace(b'"NOTE"', b'"NOTF"'), 0, ()), policy)


def test_an_origin_that_is_not_a_key_name_is_refused_as_before():
    """The bundle parser accepts any origin (tlog-proof does); the policy must still refuse it."""
    origin = "go.sum database tree"
    body = Checkpoint(origin, 1, bytes(32)).body().decode()
    note = sign_note(body, [LOG])
    policy = Policy.for_log(LOG.verifier.vkey)
    expected = _error(policy.verify_checkpoint, note)
    assert expected[0] is MalformedError
    assert _error(verify_bundle, _bundle_for(note, _signed_entry(LOG.name), 0, ()), policy) == expected


def test_inclusion_hash_checks_name_the_bad_hash():
    leaf, root = bytes(32), bytes(32)
    assert _error(verify_inclusion, leaf, 0, 4, [bytes(32), bytearray(32)], root)[0] is VerificationFailed
    for bad in (bytes(31), "x" * 32, memoryview(bytes(32)), None):
        error = _error(verify_inclusion, leaf, 0, 4, [bytes(32), bad], root)
        assert error[0] is VerificationFailed and error[1].startswith("proof hash 1 must be 32 bytes")
