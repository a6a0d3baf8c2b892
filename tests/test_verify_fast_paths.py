"""The shortcuts taken on offline verification's hot path accept and refuse exactly what the
plain, one-check-at-a-time rules do, with the same messages.

* check_key_name and check_text_line search with one regular expression instead of a loop;
* b64decode_strict takes bytes as well as text;
* a tlog-proof's lines up to its note are read by one regular expression (its hash lines in their
  only canonical spelling, decoded as a block), anything else again line by line;
* parse_checkpoint builds its Checkpoint without re-running the constructor's checks;
* verify_bundle takes the checkpoint body from the bundle parser (parsed with any origin);
* the inclusion proof's hashes are checked by type and length in two C loops, and not at all
  (verify_parsed_inclusion) for a proof and checkpoint that the parsers produced;
* canonical.loads first tries one json scan without the duplicate-key hook and one comparison
  with the re-encoding, and re-encodes with a C encoder built once;
* statement_from_json builds its Statement without the constructor (whose checks it runs);
* parse_vkey builds its Verifier without re-checking the key name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import bundle as bundles
from ledger import canonical
from ledger import entry as entries
from ledger import proof as proofs
from ledger.bundle import TlogProof, format_bundle, format_tlog_proof, parse_bundle, read_bundle
from ledger.checkpoint import Checkpoint, check_text_line, parse_checkpoint, sign_checkpoint
from ledger.errors import MalformedError, VerificationFailed
from ledger.merkle import leaf_hash, root_from_leaf_hashes
from ledger.note import (
    _UNICODE_SPACES,
    CosignatureSigner,
    CosignatureVerifier,
    Signer,
    Verifier,
    b64decode_strict,
    check_key_name,
    parse_note,
    parse_vkey,
    sign_note,
)
from ledger.policy import Policy
from ledger.proof import assemble, inclusion_plan, plan_node_ids, verify_inclusion
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


# --- tlog-proofs: the one-match reader against the line-by-line reader -------------------------


def _by_lines(monkeypatch, call, *args):
    """``call(*args)`` with the one-match reader switched off: the line-by-line reader's result."""
    with monkeypatch.context() as patched:
        patched.setattr(bundles, "_PROOF_HEAD", re.compile(b"(?!)"))  # never matches
        patched.setattr(bundles, "_HASH_BLOCK", re.compile(b"(?!)"))
        return _outcome(call, *args)


def _outcome(call, *args):
    try:
        return "ok", call(*args)
    except Exception as exc:  # noqa: BLE001 - the class and message are what is compared
        return type(exc), getattr(exc, "message", str(exc))


def _proof_variants() -> list[bytes]:
    note = _note()
    rng = random.Random(7)
    files = []
    for count in (0, 1, 2, 14, 62, 63, 64):
        hashes = tuple(rng.randbytes(32) for _ in range(count))
        for index, extra in ((3, b"entry"), (0, None), (2**64 - 2, b""), (12345, bytes(range(256)))):
            proof = TlogProof(index, hashes[:63], note, extra)
            data = format_tlog_proof(proof)
            if count == 64:  # one hash too many: only the readers can be given that
                data = data.replace(b"\n\n", b"\n" + base64.b64encode(hashes[63]) + b"\n\n", 1)
            files.append(data)
    good = files[3]
    lines = good.split(b"\n")
    for number, line in enumerate(lines[:8]):
        for bad in (b"", line + b" ", line[:-1], line.replace(b"=", b"A"), b"index 01", b"index 18446744073709551615",
                    b"extra AAA", b"extra AB==", b"extra \xc3\xa9", b"extra  AAAA", b"EXTRA AAAA", line[:-2] + b"B="):
            files.append(b"\n".join([*lines[:number], bad, *lines[number + 1 :]]))
    files.append(good.replace(b"\n\n", b"\n", 1))  # no empty line before the note
    files.append(good[: good.index(b"\n\n")])  # cut in the hash lines
    return files


def test_the_one_match_reader_reads_what_the_line_reader_reads(monkeypatch):
    for data in _proof_variants():
        expected = _by_lines(monkeypatch, parse_bundle, data)
        assert _outcome(parse_bundle, data) == expected, data[:120]
        assert _outcome(bundles.parse_tlog_proof, data) == _by_lines(monkeypatch, bundles.parse_tlog_proof, data)


def test_the_hash_line_pattern_is_canonical_base64_of_32_bytes():
    """Every possible last data character, at the end of random hash lines and a few wrong lengths."""
    pattern = re.compile(bundles._HASH_LINES[: bundles._HASH_LINES.index(b"){")] + b")")
    rng = random.Random(3)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for last in alphabet + b"=\n -_.":
        for _ in range(4):
            line = base64.b64encode(rng.randbytes(32))[:42] + bytes([last]) + b"="
            for candidate in (line, line[:-1], line + b"=", line[1:], b"A" + line, line.replace(b"=", b"")):
                try:
                    decoded = b64decode_strict(candidate, "hash")
                except MalformedError:
                    decoded = None
                expected = decoded is not None and len(decoded) == 32
                assert (pattern.fullmatch(candidate + b"\n") is not None) == expected, candidate
                if expected:
                    assert bundles._decode_matched_hashes(candidate + b"\n") == (decoded,)


# --- inclusion proofs of parsed bundles ------------------------------------------------------------


def test_parsed_inclusion_agrees_with_verify_inclusion():
    """The same outcome for every index of small trees, with right, tampered, short and long proofs."""
    for size in range(1, 40):
        leaves = [leaf_hash(b"%d" % i) for i in range(size)]
        root = root_from_leaf_hashes(leaves)

        def node(level: int, index: int) -> bytes:
            return root_from_leaf_hashes(leaves[index << level : (index + 1) << level])

        for index in range(size):
            plan = inclusion_plan(index, size)
            path = tuple(assemble(plan, {n: node(*n) for n in plan_node_ids(plan)}))
            flipped = tuple(h if i else bytes([h[0] ^ 1]) + h[1:] for i, h in enumerate(path))
            cases = [
                (leaves[index], index, size, path, root),
                (leaves[index], index, size, flipped, root),
                (leaves[index], index, size, path[:-1], root),
                (leaves[index], index, size, path + (root,), root),
                (leaves[index], index + 1, size, path, root),
                (leaves[index], size, size, path, root),
                (leaves[index], index, size + 1, path, root),
                (leaves[(index + 1) % size], index, size, path, root),
            ]
            for case in cases:
                expected = _outcome(verify_inclusion, *case)
                assert _outcome(proofs.verify_parsed_inclusion, *case) == expected, (size, index, case[1:3])


# --- canonical JSON: the one-scan path against the strict path ----------------------------------------


def _loads_strictly(monkeypatch, data: bytes):
    with monkeypatch.context() as patched:
        patched.setattr(canonical, "_loads_fast", lambda data: canonical._NOT_FAST)
        return _outcome(canonical.loads, data)


_texts = st.text(st.sampled_from("az\x00\x1f\"\\/\u00e9\u2028\ud7ff\ue000\uffff\U0001f600"), max_size=4)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | _texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4),
    max_leaves=12,
)


def _spellings(value) -> list[bytes]:
    """Canonical and near-canonical spellings of a value, and some damaged ones."""
    out = []
    for options in ({"sort_keys": True}, {"sort_keys": False}):
        for ensure_ascii in (False, True):
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii, **options)
            out += [text.encode("utf-8", "surrogatepass"), (text + " ").encode("utf-8", "surrogatepass")]
    data = out[0]
    out += [data.replace(b":", b": ", 1), data.replace(b"}", b',"a":1}', 1), data.replace(b"{", b'{"a":1,', 1),
            data.replace(b"1", b"1.0", 1), data.replace(b"1", b"10000000000000000", 1), data + data, b"\xef\xbb\xbf" + data]
    return out


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_loads_fast_accepts_only_what_the_strict_path_accepts(value):
    monkeypatch = pytest.MonkeyPatch()
    try:
        for data in _spellings(value):
            strict = _loads_strictly(monkeypatch, data)
            assert _outcome(canonical.loads, data) == strict, data
            fast = canonical._loads_fast(data)
            if fast is not canonical._NOT_FAST:
                assert strict == ("ok", fast) and type(fast) is type(strict[1]), data
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize(
    "data",
    [b'{"a":1,"a":1}', b'{"a":{"b":1,"b":1},"c":1.5}', b'[9007199254740991]', b'[9007199254740992]', b'[-0]',
     b'"\\ud800"', b'"\\u00e9"', b'"\xc3\xa9"', b'{"\xef\xac\xb3":1,"\xf0\x9f\x98\x80":2}', b"[" * 65 + b"]" * 65,
     b"[" * 64 + b"]" * 64, b"NaN", b"[1e3]", b"{}", b"null", b" 1", b"1 ", b"01", b""],
)
def test_loads_fast_edge_cases(monkeypatch, data):
    strict = _loads_strictly(monkeypatch, data)
    assert _outcome(canonical.loads, data) == strict
    fast = canonical._loads_fast(data)
    assert fast is canonical._NOT_FAST or strict == ("ok", fast)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_the_prebuilt_encoder_is_the_json_encoder(value):
    expected = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(value)
    assert canonical._encode_sorted(value) == expected


# --- entries and keys built without their constructors -------------------------------------------------


def test_statement_from_json_is_the_constructor():
    good = {"body": {"x": [1]}, "log": "example.com/log", "seq": 3, "signer": ACTOR.vkey, "time": 5, "type": "NOTE"}
    variants = [good]
    for field, bad in [("log", "a b"), ("log", 5), ("type", "1x"), ("signer", "x+y+z"), ("signer", CosignatureSigner("w", bytes(32)).vkey),
                       ("seq", 0), ("seq", True), ("time", -1), ("time", 2**53), ("body", [])]:
        variants.append({**good, field: bad})
    for value in variants:
        constructed = _outcome(lambda v: entries.Statement(**v), value)
        parsed = _outcome(entries.statement_from_json, value)
        assert parsed == constructed
        if parsed[0] == "ok":
            assert vars(parsed[1]) == vars(constructed[1]) and repr(parsed[1]) == repr(constructed[1])


def test_parsed_verifier_keys_are_the_constructed_ones():
    for signer in (ACTOR, LOG, CosignatureSigner("witness.example", hashlib.sha256(b"w").digest())):
        parsed = parse_vkey(signer.vkey)
        built = type(parsed)(signer.name, signer.public_key)
        assert type(parsed) is (CosignatureVerifier if isinstance(signer, CosignatureSigner) else Verifier)
        assert vars(parsed) == vars(built) and parsed == built
