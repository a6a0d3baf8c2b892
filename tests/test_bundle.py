"""Tests for ledger.bundle: C2SP tlog-proof files, bundles and consistency files.

Vectors (specs/vectors/bundles.json) follow the shape of the C2SP tlog-proof
example with real keys from fixed seeds; they are parsed and re-formatted byte
for byte, and their proofs are checked here against the checkpoint root.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.bundle import (
    CONSISTENCY_HEADER,
    MAX_PROOF_HASHES,
    TLOG_PROOF_HEADER,
    ConsistencyFile,
    TlogProof,
    format_bundle,
    format_consistency_file,
    format_tlog_proof,
    parse_bundle,
    parse_consistency_file,
    parse_tlog_proof,
    split_note,
)
from ledger.checkpoint import open_checkpoint
from ledger.errors import MalformedError
from ledger.note import CosignatureSigner, Signer, parse_note, parse_vkey

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "specs" / "vectors" / "bundles.json").read_text(
        "utf-8"
    )
)
PARSERS = {
    "tlog_proof": parse_tlog_proof,
    "bundle": parse_bundle,
    "consistency": parse_consistency_file,
}
NOTE = VECTORS["checkpoint"]["note"].encode()
SINGLE = VECTORS["tlog_proofs"][0]["file"].encode()


def _root_from_inclusion(index: int, size: int, leaf: bytes, hashes: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, kept independent of ledger.merkle on purpose."""
    fn, sn, r = index, size - 1, leaf
    for p in hashes:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def _check_proof(proof: TlogProof, case: dict) -> None:
    assert proof.index == case["index"]
    assert [h.hex() for h in proof.hashes] == case["hashes_hex"]
    assert proof.checkpoint_note == case["checkpoint_note"].encode()
    assert (None if proof.extra is None else proof.extra.hex()) == case["extra_hex"]
    cp, _ = open_checkpoint(
        proof.checkpoint_note, [parse_vkey(VECTORS["keys"]["log"]["vkey"])], "example.com/fancylog"
    )
    entry = (
        proof.extra
        if proof.extra is not None
        else bytes.fromhex(VECTORS["entries_hex"][proof.index])
    )
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    if case["leaf_hash_hex"] is not None:
        assert leaf.hex() == case["leaf_hash_hex"]
    assert _root_from_inclusion(proof.index, cp.size, leaf, list(proof.hashes)) == cp.root


@pytest.mark.parametrize("label", sorted(VECTORS["keys"]))
def test_keys_follow_from_seeds(label):
    key = VECTORS["keys"][label]
    cls = CosignatureSigner if key["alg"] == 4 else Signer
    assert cls(key["name"], bytes.fromhex(key["seed_hex"])).vkey == key["vkey"]


@pytest.mark.parametrize("case", VECTORS["tlog_proofs"], ids=lambda c: c["name"])
def test_tlog_proof_vectors(case):
    data = case["file"].encode()
    proof = parse_tlog_proof(data)
    _check_proof(proof, case)
    assert format_tlog_proof(proof) == data
    assert parse_bundle(data) == [proof]


def test_tlog_proof_layout():
    lines = SINGLE.decode().split("\n")
    assert lines[0] == TLOG_PROOF_HEADER
    assert lines[1].startswith("extra ") and lines[2] == "index 7"
    assert SINGLE.endswith(NOTE) and SINGLE[: -len(NOTE)].endswith(b"=\n\n")


def test_bundle_vector():
    data = VECTORS["bundle"]["file"].encode()
    proofs = parse_bundle(data)
    assert [p.index for p in proofs] == [0, 7, 20]
    for proof, case in zip(proofs, VECTORS["bundle"]["proofs"]):
        _check_proof(proof, case)
    assert format_bundle(proofs) == data
    assert data == b"".join(format_tlog_proof(p) for p in proofs)
    with pytest.raises(MalformedError):
        parse_tlog_proof(data)  # a single-proof parser refuses the second proof


def test_consistency_vector():
    case = VECTORS["consistency"]
    data = case["file"].encode()
    parsed = parse_consistency_file(data)
    assert [h.hex() for h in parsed.hashes] == case["hashes_hex"]
    assert (
        parsed.old_note == case["old_note"].encode()
        and parsed.new_note == case["new_note"].encode()
    )
    assert format_consistency_file(parsed) == data
    assert data.startswith(CONSISTENCY_HEADER.encode() + b"\n")


@pytest.mark.parametrize("case", VECTORS["bad"], ids=lambda c: c["name"])
def test_bad_vectors(case):
    data = (
        bytes.fromhex(case["data_hex"]) if case["data_hex"] is not None else case["data"].encode()
    )
    with pytest.raises(MalformedError) as info:
        PARSERS[case["parser"]](data)
    assert info.value.reason == "malformed_proof"
    assert case["message_contains"] in info.value.message


def test_every_truncation_is_rejected_unless_it_drops_whole_signature_lines():
    """Cutting a proof anywhere fails to parse, except right after a signature line:
    a note minus its last cosignatures is still a note (verification against a
    policy is what notices missing cosignatures)."""
    first_signature_end = SINGLE.index(b"\n", SINGLE.index("\n\u2014 ".encode()) + 1) + 1
    boundaries = {
        i + 1 for i in range(first_signature_end - 1, len(SINGLE)) if SINGLE[i : i + 1] == b"\n"
    }
    for cut in range(len(SINGLE)):
        if cut in boundaries:
            proof = parse_tlog_proof(SINGLE[:cut])
            assert len(parse_note(proof.checkpoint_note).signatures) < 4
        else:
            with pytest.raises(MalformedError):
                parse_tlog_proof(SINGLE[:cut])


def test_split_note():
    data = NOTE + b"c2sp.org/tlog-proof@v1\n"
    note, offset = split_note(data, 0)
    assert note == NOTE and offset == len(NOTE)
    old = VECTORS["old_checkpoint"]["note"].encode()
    assert split_note(old + NOTE, 0) == (old, len(old))
    assert split_note(old + NOTE, len(old)) == (NOTE, len(old) + len(NOTE))
    for bad in (
        b"",
        b"\n",
        b"origin\n1\nroot\n",
        b"origin\n1\nroot\n\n",
        b"origin\n1\nroot\n\n\xe2\x80\x94 name sig",
    ):
        with pytest.raises(MalformedError):
            split_note(bad, 0)


def _proof(**changes) -> TlogProof:
    base = {"index": 3, "hashes": (bytes(32),), "checkpoint_note": NOTE, "extra": b"entry"}
    return TlogProof(**(base | changes))


@pytest.mark.parametrize(
    "proof",
    [
        _proof(index=-1),
        _proof(index=2**64 - 1),
        _proof(index=True),
        _proof(hashes=(bytes(31),)),
        _proof(hashes=(bytes(32),) * (MAX_PROOF_HASHES + 1)),
        _proof(checkpoint_note=NOTE + b"x\n"),
        _proof(checkpoint_note=NOTE[:-1]),
        _proof(checkpoint_note=b"hello\n\n" + NOTE.split(b"\n\n")[1]),
    ],
)
def test_format_tlog_proof_rejects(proof):
    with pytest.raises(MalformedError):
        format_tlog_proof(proof)


def test_format_bundle_rules():
    with pytest.raises(MalformedError):
        format_bundle([])
    with pytest.raises(MalformedError):
        format_bundle([_proof(index=4), _proof(index=3)])
    with pytest.raises(MalformedError):
        format_bundle([_proof(index=3), _proof(index=3)])
    old = VECTORS["old_checkpoint"]["note"].encode()
    with pytest.raises(MalformedError):
        format_bundle([_proof(index=3), _proof(index=4, checkpoint_note=old)])


def test_format_consistency_rules():
    old = VECTORS["old_checkpoint"]["note"].encode()
    assert parse_consistency_file(
        format_consistency_file(ConsistencyFile((), old, NOTE))
    ) == ConsistencyFile((), old, NOTE)
    with pytest.raises(MalformedError):
        format_consistency_file(ConsistencyFile((bytes(33),), old, NOTE))
    with pytest.raises(MalformedError):
        format_consistency_file(ConsistencyFile((), old + NOTE, NOTE))


def test_empty_extra_is_distinct_from_no_extra():
    with_empty = format_tlog_proof(_proof(extra=b""))
    assert b"\nextra \n" in with_empty and parse_tlog_proof(with_empty).extra == b""
    assert parse_tlog_proof(format_tlog_proof(_proof(extra=None))).extra is None


@settings(max_examples=80, deadline=None)
@given(
    index=st.integers(0, 2**64 - 2),
    hashes=st.lists(st.binary(min_size=32, max_size=32), max_size=MAX_PROOF_HASHES).map(tuple),
    extra=st.none() | st.binary(max_size=100),
)
def test_round_trip(index, hashes, extra):
    proof = TlogProof(index, hashes, NOTE, extra)
    data = format_tlog_proof(proof)
    assert parse_tlog_proof(data) == proof
    assert format_tlog_proof(parse_tlog_proof(data)) == data


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=120))
def test_garbage_after_header_never_crashes(data):
    try:
        parse_bundle(SINGLE[:40] + data)
    except MalformedError:
        pass
