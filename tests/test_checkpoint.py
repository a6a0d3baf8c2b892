"""Tests for ledger.checkpoint: C2SP tlog-checkpoint bodies, signing and opening.

Known answers come from specs/vectors/checkpoints.json (C2SP, sum.golang.org,
sigsum-go, Sunlight, generated).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    parse_decimal,
    sign_checkpoint,
)
from ledger.errors import BadKey, MalformedError, VerificationFailed
from ledger.note import CosignatureSigner, Signer, add_signatures, open_note, parse_note, parse_vkey

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "specs" / "vectors" / "checkpoints.json").read_text(
        "utf-8"
    )
)
ERRORS = {"MalformedError": MalformedError, "VerificationFailed": VerificationFailed}
ROOT = bytes(range(32))


def _fields(cp: Checkpoint) -> tuple:
    return (cp.origin, cp.size, cp.root.hex(), list(cp.extensions))


def _expected(case: dict) -> tuple:
    return (case["origin"], case["size"], case["root_hex"], case["extensions"])


@pytest.mark.parametrize(
    "case",
    VECTORS["bodies_ok"],
    ids=lambda c: c["body"].split("\n")[0] + "/" + c["body"].split("\n")[1],
)
def test_bodies_ok(case):
    for text in (case["body"], case["body"].encode()):
        cp = parse_checkpoint(text, any_origin=case["any_origin"])
        assert _fields(cp) == _expected(case)
    assert cp.body() == case["body"].encode()


@pytest.mark.parametrize("case", VECTORS["bodies_bad"], ids=lambda c: repr(c["body"])[:60])
def test_bodies_bad(case):
    with pytest.raises(MalformedError) as info:
        parse_checkpoint(case["body"], any_origin=case["any_origin"])
    assert info.value.reason == case["reason"]


@pytest.mark.parametrize("case", VECTORS["signed"], ids=lambda c: c["name"])
def test_signed_vectors(case):
    data = case["note"].encode()
    verifiers = [parse_vkey(v) for v in case["vkeys"]]
    cp, note = open_checkpoint(data, verifiers, case["origin"], any_origin=case["any_origin"])
    assert _fields(cp) == _expected(case)
    assert cp.body() == note.text.encode()
    assert [v.vkey for v in open_note(data, verifiers)[1]] == case["verified"]
    if "sign_seed_hex" in case:
        # Ed25519 is deterministic: re-signing from the seed reproduces the log's line.
        signed = sign_checkpoint(cp, Signer(cp.origin, bytes.fromhex(case["sign_seed_hex"])))
        assert parse_note(signed).signatures[0] == parse_note(data).signatures[0]
    if "cosign" in case:
        cosign = case["cosign"]
        witness = CosignatureSigner(cosign["name"], bytes.fromhex(cosign["seed_hex"]))
        assert witness.cosign(cp.body(), cosign["timestamp"]).line() == cosign["line"]
        assert cosign["line"] in case["note"]
    if "cosign_timestamp" in case:
        blob = next(s.blob for s in note.signatures if s.key_id == verifiers[0].key_id)
        assert verifiers[0].timestamp(blob) == case["cosign_timestamp"]


def test_pactlog_generated_vector_is_reproduced_exactly():
    case = next(c for c in VECTORS["signed"] if c["name"] == "pactlog-generated")
    cp = Checkpoint(
        case["origin"], case["size"], bytes.fromhex(case["root_hex"]), tuple(case["extensions"])
    )
    log = Signer(cp.origin, bytes.fromhex(case["sign_seed_hex"]))
    witness = CosignatureSigner(case["cosign"]["name"], bytes.fromhex(case["cosign"]["seed_hex"]))
    data = add_signatures(
        sign_checkpoint(cp, log), [witness.cosign(cp.body(), case["cosign"]["timestamp"])]
    )
    assert data == case["note"].encode()


@pytest.mark.parametrize("case", VECTORS["open_fail"], ids=lambda c: c["name"])
def test_open_fail_vectors(case):
    with pytest.raises(ERRORS[case["error"]]) as info:
        open_checkpoint(
            case["note"].encode(),
            [parse_vkey(v) for v in case["vkeys"]],
            case["origin"],
            any_origin=case["any_origin"],
        )
    assert info.value.reason == case["reason"]


def test_body_layout():
    cp = Checkpoint("example.com/log", 0, ROOT, ("ext one", "two"))
    assert (
        cp.body()
        == b"example.com/log\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\ntwo\n"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": ""},
        {"origin": "a\nb"},
        {"size": -1},
        {"size": 2**64},
        {"size": True},
        {"size": "1"},
        {"root": bytes(31)},
        {"root": bytes(33)},
        {"root": "x" * 32},
        {"extensions": ("",)},
        {"extensions": ("a\nb",)},
        {"extensions": ("a\rb",)},
    ],
)
def test_checkpoint_constructor_rejects(kwargs):
    args = {"origin": "example.com/log", "size": 1, "root": ROOT, "extensions": ()} | kwargs
    with pytest.raises(MalformedError):
        Checkpoint(**args)


def test_foreign_origin_needs_opt_in():
    body = "go.sum database tree\n1\n" + "A" * 43 + "=\n"
    with pytest.raises(MalformedError):
        parse_checkpoint(body)
    assert parse_checkpoint(body, any_origin=True).origin == "go.sum database tree"


def test_sign_checkpoint_requires_the_origin_key():
    cp = Checkpoint("example.com/log", 3, ROOT)
    with pytest.raises(BadKey) as info:
        sign_checkpoint(cp, Signer("example.com/other", ROOT))
    assert info.value.reason == "key_name_mismatch"
    with pytest.raises(MalformedError):
        sign_checkpoint(Checkpoint("has space", 3, ROOT), Signer("has-space", ROOT))
    with pytest.raises(TypeError):
        sign_checkpoint(cp, CosignatureSigner("example.com/log", ROOT))


def test_open_checkpoint_ignores_unknown_and_checks_origin():
    log = Signer("example.com/log", ROOT)
    cp = Checkpoint("example.com/log", 3, ROOT)
    data = sign_checkpoint(cp, log)
    assert open_checkpoint(data, [log.verifier])[0] == cp
    assert open_checkpoint(data, [log.verifier], "example.com/log")[0] == cp
    with pytest.raises(VerificationFailed) as info:
        open_checkpoint(data, [Signer("example.com/log", bytes(32)).verifier])
    assert info.value.reason == "no_trusted_signature"


@pytest.mark.parametrize("text", ["0", "1", "10", "18446744073709551615"])
def test_parse_decimal_ok(text):
    assert parse_decimal(text, "n") == int(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00",
        "01",
        "+1",
        "-0",
        " 1",
        "1 ",
        "1_0",
        "\u0661",
        "1e3",
        "0x1",
        "18446744073709551616",
        "9" * 30,
    ],
)
def test_parse_decimal_rejects(text):
    with pytest.raises(MalformedError):
        parse_decimal(text, "n")


origins = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="./-_"),
    min_size=1,
    max_size=30,
)
extension_lines = st.text(
    st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), min_size=1, max_size=20
)


@settings(max_examples=80, deadline=None)
@given(
    origin=origins,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(extension_lines, max_size=3).map(tuple),
)
def test_body_round_trip_and_signing(origin, size, root, extensions):
    cp = Checkpoint(origin, size, root, extensions)
    assert parse_checkpoint(cp.body()) == cp
    log = Signer(origin, root)
    assert open_checkpoint(sign_checkpoint(cp, log), [log.verifier], origin)[0] == cp
