"""Tests for ledger.note: C2SP signed notes, Ed25519 keys and cosignature/v1 keys.

Known answers come from specs/vectors/notes.json (C2SP, Go x/mod, generated).
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import MalformedError, PactlogError, VerificationFailed
from ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    CosignatureSigner,
    CosignatureVerifier,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    add_signatures,
    check_key_name,
    cosignature_message,
    format_note,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "specs" / "vectors" / "notes.json").read_text("utf-8")
)
ERRORS = {"MalformedError": MalformedError, "VerificationFailed": VerificationFailed}

PETER = next(c for c in VECTORS["signing"] if c["name"] == "go-peter-neumann")
SEED_A = bytes(range(32))
SEED_B = bytes(range(1, 33))


def _id(case: dict) -> str:
    return case["name"]


# --- known answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["signing"], ids=_id)
def test_signing_vectors(case):
    signer = Signer.from_skey(case["skey"])
    assert signer.vkey == case["vkey"]
    assert signer.skey == case["skey"]
    assert parse_vkey(case["vkey"]) == signer.verifier
    # Ed25519 is deterministic: the same key and text give the published bytes.
    assert sign_note(case["text"], [signer]) == case["note"].encode()
    note, verified = open_note(case["note"].encode(), [parse_vkey(case["vkey"])])
    assert note.text == case["text"]
    assert [v.vkey for v in verified] == [case["vkey"]]


@pytest.mark.parametrize("case", VECTORS["open_ok"], ids=_id)
def test_open_ok_vectors(case):
    data = case["note"].encode()
    note, verified = open_note(data, [parse_vkey(v) for v in case["vkeys"]])
    assert note.text == case["text"]
    assert [v.vkey for v in verified] == case["verified"]
    assert [(s.name, s.key_id.hex(), s.blob.hex()) for s in note.signatures] == [
        (s["name"], s["key_id_hex"], s["blob_hex"]) for s in case["signatures"]
    ]
    assert format_note(parse_note(data)) == data


@pytest.mark.parametrize("case", VECTORS["open_fail"], ids=_id)
def test_open_fail_vectors(case):
    data = bytes.fromhex(case["note_hex"]) if "note_hex" in case else case["note"].encode()
    with pytest.raises(ERRORS[case["error"]]) as info:
        open_note(data, [parse_vkey(v) for v in case["vkeys"]])
    assert info.value.reason == case["reason"]
    assert info.value.hint


@pytest.mark.parametrize("case", VECTORS["vkeys_ok"], ids=lambda c: c["vkey"][:30])
def test_vkeys_ok(case):
    v = parse_vkey(case["vkey"])
    assert (v.name, v.key_id.hex(), v.alg, v.public_key.hex()) == (
        case["name"],
        case["key_id_hex"],
        case["alg"],
        case["public_key_hex"],
    )
    assert v.vkey == case["vkey"]
    assert isinstance(v, CosignatureVerifier) == (case["alg"] == ALG_COSIGNATURE_V1)


@pytest.mark.parametrize("case", VECTORS["vkeys_bad"], ids=lambda c: c["vkey"][:40])
def test_vkeys_bad(case):
    with pytest.raises(MalformedError) as info:
        parse_vkey(case["vkey"])
    assert info.value.reason == case["reason"]


@pytest.mark.parametrize("case", VECTORS["skeys_bad"], ids=lambda c: c["skey"][:40])
def test_skeys_bad(case):
    with pytest.raises(MalformedError) as info:
        Signer.from_skey(case["skey"])
    assert info.value.reason == case["reason"]


@pytest.mark.parametrize("case", VECTORS["key_ids"], ids=lambda c: f"{c['name']}-{c['alg']}")
def test_key_id_vectors(case):
    assert (
        key_id(case["name"], case["alg"], bytes.fromhex(case["public_key_hex"])).hex()
        == case["key_id_hex"]
    )


def test_every_single_bit_flip_of_a_signed_note_is_rejected():
    data = PETER["note"].encode()
    verifiers = [parse_vkey(PETER["vkey"])]
    for i in range(len(data)):
        altered = bytearray(data)
        altered[i] ^= 0x01
        with pytest.raises(PactlogError):
            open_note(bytes(altered), verifiers)


# --- keys -------------------------------------------------------------------------------------


def test_signer_properties():
    signer = Signer("example.com/log", SEED_A)
    assert signer.alg == ALG_ED25519
    assert len(signer.public_key) == 32 and len(signer.key_id) == 4
    assert signer.key_id == key_id("example.com/log", ALG_ED25519, signer.public_key)
    assert signer.vkey.startswith(f"example.com/log+{signer.key_id.hex()}+A")
    assert signer.skey.startswith(f"PRIVATE+KEY+example.com/log+{signer.key_id.hex()}+A")
    assert Signer.from_skey(signer.skey).vkey == signer.vkey
    signature = signer.sign(b"message")
    assert len(signature) == 64
    assert signer.verifier.verify(b"message", signature)
    assert not signer.verifier.verify(b"messagE", signature)
    assert not signer.verifier.verify(b"message", signature[:63])
    assert SEED_A.hex() not in repr(signer) and signer.skey not in repr(signer)


def test_generate_gives_distinct_working_keys():
    a, b = Signer.generate("example.com/a"), Signer.generate("example.com/a")
    assert a.public_key != b.public_key
    assert Signer.from_skey(a.skey).public_key == a.public_key
    w = CosignatureSigner.generate("witness.example")
    assert isinstance(w, CosignatureSigner) and w.vkey.split("+")[2].startswith("B")  # 0x04 -> 'B'


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "x" * 32])
def test_signer_rejects_bad_seed(seed):
    with pytest.raises(MalformedError) as info:
        Signer("example.com/log", seed)
    assert info.value.reason == "bad_seed"


def test_verifier_equality_and_hash():
    a = Signer("n", SEED_A).verifier
    assert a == parse_vkey(a.vkey) and hash(a) == hash(parse_vkey(a.vkey))
    assert a != Signer("n", SEED_B).verifier
    assert a != CosignatureVerifier("n", a.public_key)  # same key, other type: other key id
    with pytest.raises(MalformedError):
        Verifier("n", bytes(31))


@pytest.mark.parametrize("name", ["example.com/log", "a", "éxample/ключ", "x—y", "sum.golang.org"])
def test_valid_key_names(name):
    check_key_name(name)


SPACES = [
    "\t",
    "\n",
    "\v",
    "\f",
    "\r",
    " ",
    "\x85",
    "\xa0",
    "\u1680",
    "\u2000",
    "\u2005",
    "\u200a",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
]


@pytest.mark.parametrize(
    "bad", ["", "a+b", "+", "a\x01b", "a\x1fb", "a\udc80b", *(f"a{s}b" for s in SPACES)]
)
def test_invalid_key_names(bad):
    with pytest.raises(MalformedError) as info:
        check_key_name(bad)
    assert info.value.reason == "bad_key_name"


# --- cosignatures -----------------------------------------------------------------------------

BODY = b"example.com/log\n5\n" + base64.b64encode(bytes(32)) + b"\n"


def test_cosignature_layout_and_verification():
    witness = CosignatureSigner("witness.example", SEED_A)
    sig = witness.cosign(BODY, 1767225600)
    assert sig.name == "witness.example" and sig.key_id == witness.key_id
    assert sig.key_id == key_id("witness.example", ALG_COSIGNATURE_V1, witness.public_key)
    assert len(sig.blob) == 72 and sig.blob[:8] == struct.pack(">Q", 1767225600)
    assert cosignature_message(BODY, 1767225600) == b"cosignature/v1\ntime 1767225600\n" + BODY
    assert Signer("x", SEED_A).verifier.verify(cosignature_message(BODY, 1767225600), sig.blob[8:])
    verifier = witness.verifier
    assert isinstance(verifier, CosignatureVerifier)
    assert verifier.verify(BODY, sig.blob)
    assert CosignatureVerifier.timestamp(sig.blob) == 1767225600
    assert not verifier.verify(BODY + b"ext\n", sig.blob)
    assert not verifier.verify(BODY, struct.pack(">Q", 1767225601) + sig.blob[8:])
    assert not verifier.verify(BODY, sig.blob[:71])
    assert not verifier.verify(BODY, sig.blob[8:])
    note = add_signatures(sign_note(BODY.decode(), [Signer("example.com/log", SEED_B)]), [sig])
    assert open_note(note, [verifier])[1] == [verifier]


def test_cosignature_timestamp_above_2_63_is_invalid():
    witness = CosignatureSigner("witness.example", SEED_A)
    ts = 2**63
    blob = struct.pack(">Q", ts) + witness.sign(cosignature_message(BODY, ts))
    assert not witness.verifier.verify(BODY, blob)
    for bad in (-1, 2**63, "1", 1.0, True):
        with pytest.raises(MalformedError):
            witness.cosign(BODY, bad)
    assert witness.verifier.verify(BODY, witness.cosign(BODY, 2**63 - 1).blob)


def test_cosigner_key_strings():
    witness = CosignatureSigner("witness.example", SEED_A)
    assert CosignatureSigner.from_skey(witness.skey).vkey == witness.vkey
    with pytest.raises(MalformedError) as info:
        Signer.from_skey(witness.skey)
    assert info.value.reason == "unsupported_key_type"
    with pytest.raises(MalformedError):
        CosignatureSigner.from_skey(Signer("witness.example", SEED_A).skey)
    with pytest.raises(TypeError):
        witness.note_signature(BODY)


def test_ed25519_and_cosignature_keys_do_not_cross_verify():
    signer = Signer("k.example", SEED_A)
    cosigner = CosignatureSigner("k.example", SEED_A)
    note = sign_note(BODY.decode(), [signer])
    with pytest.raises(VerificationFailed) as info:
        open_note(note, [cosigner.verifier])  # other key id: unknown, so nothing trusted verified
    assert info.value.reason == "no_trusted_signature"


# --- notes ------------------------------------------------------------------------------------


def test_open_note_reports_each_verifier_once_in_signature_order():
    a, b = Signer("a.example", SEED_A), Signer("b.example", SEED_B)
    data = sign_note("text\n", [b, a, b])
    note, verified = open_note(data, [a.verifier, b.verifier])
    assert len(note.signatures) == 3
    assert verified == [b.verifier, a.verifier]


def test_ambiguous_verifiers_are_rejected_but_identical_ones_are_fine():
    a = Signer("a.example", SEED_A)
    data = sign_note("text\n", [a])
    assert open_note(data, [a.verifier, parse_vkey(a.vkey)])[1] == [a.verifier]

    class Colliding(Verifier):
        def __init__(self, name, public_key, forced_id):
            super().__init__(name, public_key)
            self.key_id = forced_id

    other = Colliding("a.example", Signer("z", SEED_B).public_key, a.key_id)
    with pytest.raises(MalformedError) as info:
        open_note(data, [a.verifier, other])
    assert info.value.reason == "ambiguous_key"


def test_add_signatures_replaces_same_key_and_appends():
    a, b = Signer("a.example", SEED_A), Signer("b.example", SEED_B)
    data = sign_note("text\n", [a])
    both = add_signatures(data, [b.note_signature("text\n")])
    assert [s.name for s in parse_note(both).signatures] == ["a.example", "b.example"]
    again = add_signatures(both, [a.note_signature("text\n")])
    assert [s.name for s in parse_note(again).signatures] == ["b.example", "a.example"]
    assert add_signatures(data, []) == data


def test_signature_cap():
    signers = [Signer(f"s{i}.example", SEED_A) for i in range(MAX_SIGNATURES + 1)]
    sigs = tuple(s.note_signature("t\n") for s in signers)
    assert (
        len(parse_note(format_note(Note("t\n", sigs[:MAX_SIGNATURES]))).signatures)
        == MAX_SIGNATURES
    )
    with pytest.raises(MalformedError):
        format_note(Note("t\n", sigs))


@pytest.mark.parametrize(
    "note",
    [
        Note("no newline", (NoteSignature("a", b"\0\0\0\0", b"x"),)),
        Note("text\n", ()),
        Note("tab\there\n", (NoteSignature("a", b"\0\0\0\0", b"x"),)),
        Note("text\n", (NoteSignature("bad name", b"\0\0\0\0", b"x"),)),
        Note("text\n", (NoteSignature("a", b"\0\0\0", b"x"),)),
        Note("text\n", (NoteSignature("a", b"\0\0\0\0", b""),)),
    ],
)
def test_format_note_rejects_what_parse_would(note):
    with pytest.raises(MalformedError):
        format_note(note)


def test_sign_note_input_checks():
    with pytest.raises(MalformedError):
        sign_note("no final newline", [Signer("a", SEED_A)])
    with pytest.raises(ValueError):
        sign_note("text\n", [])
    with pytest.raises(TypeError):
        parse_note("text")  # type: ignore[arg-type]


def test_text_may_contain_blank_lines_and_em_dash_lines():
    signer = Signer("a.example", SEED_A)
    text = "first\n\n— not a signature\n\nlast\n"
    note, _ = open_note(sign_note(text, [signer]), [signer.verifier])
    assert note.text == text


# --- properties -------------------------------------------------------------------------------

note_text = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",), min_codepoint=0x20), max_size=30),
    min_size=1,
    max_size=5,
).map(lambda lines: "\n".join(lines) + "\n")
key_names = st.text(
    st.characters(
        blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="+\x85"
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(text=note_text, name=key_names, seed=st.binary(min_size=32, max_size=32))
def test_sign_open_round_trip(text, name, seed):
    signer = Signer(name, seed)
    data = sign_note(text, [signer])
    note, verified = open_note(data, [parse_vkey(signer.vkey)])
    assert note.text == text and verified == [signer.verifier]
    assert format_note(parse_note(data)) == data


@settings(max_examples=60, deadline=None)
@given(text=note_text, blobs=st.lists(st.binary(min_size=1, max_size=80), min_size=1, max_size=5))
def test_parse_format_round_trip(text, blobs):
    note = Note(
        text,
        tuple(NoteSignature(f"k{i}.example", bytes([i]) * 4, blob) for i, blob in enumerate(blobs)),
    )
    assert parse_note(format_note(note)) == note


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_parse_note_never_crashes(data):
    try:
        note = parse_note(data)
    except MalformedError:
        return
    assert format_note(note) == data
