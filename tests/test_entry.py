"""Signed entries (ledger/entry.py) against specs/entry.md and specs/vectors/entries.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import canonical, entry as E
from ledger.errors import EntryRejected, InvalidInput, MalformedError, VerificationFailed
from ledger.merkle import leaf_hash
from ledger.note import CosignatureSigner, Signer, parse_vkey

VECTORS = json.loads((Path(__file__).parent.parent / "specs" / "vectors" / "entries.json").read_text("utf-8"))
ERRORS = {"MalformedError": MalformedError, "EntryRejected": EntryRejected, "VerificationFailed": VerificationFailed}
LOG = VECTORS["log"]

SIGNERS = {key["name"]: Signer(key["name"], bytes.fromhex(key["seed_hex"])) for key in VECTORS["keys"][:3]}
ALICE, BOB, CAROL = SIGNERS["alice.example"], SIGNERS["bob.example"], SIGNERS["carol.example"]


def entry_bytes(vector: dict) -> bytes:
    return bytes.fromhex(vector["entry_hex"]) if "entry_hex" in vector else vector["entry"].encode("utf-8")


def statement(**overrides):
    fields = dict(log=LOG, type="commitment", signer=ALICE.vkey, seq=1, time=1714564800, body={"k": "v"})
    fields.update(overrides)
    return E.make_statement(**fields)


# --- vectors ----------------------------------------------------------------------------------


def test_vector_keys_derive_from_their_seeds():
    for key in VECTORS["keys"]:
        cls = CosignatureSigner if "note" in key else Signer
        signer = cls(key["name"], bytes.fromhex(key["seed_hex"]))
        assert (signer.vkey, signer.skey, signer.public_key.hex()) == (key["vkey"], key["skey"], key["public_key_hex"])


def test_vector_constants_match_the_code():
    assert VECTORS["signing_domain"].encode() == E.SIGNING_DOMAIN
    assert VECTORS["max_entry_size"] == E.MAX_ENTRY_SIZE == 65535


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_decode_verify_and_hash(vector):
    data = entry_bytes(vector)
    entry = E.decode_entry(data)
    E.verify_signatures(entry)
    assert entry.raw == data and len(data) == vector["size"]
    assert entry.leaf_hash.hex() == vector["leaf_hash"] == leaf_hash(data).hex()
    assert entry.hash_hex == vector["leaf_hash"]
    assert entry.statement.signing_message() == vector["signing_message"].encode("utf-8")
    assert list(entry.signers) == vector["signers"]
    assert E.describe(entry) == vector["describe"]


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_are_reproduced_by_signing(vector):
    """Ed25519 is deterministic: re-signing the decoded statement gives the same bytes."""
    entry = E.decode_entry(entry_bytes(vector))
    by_vkey = {signer.vkey: signer for signer in SIGNERS.values()}
    resigned = E.sign(entry.statement, [by_vkey[vkey] for vkey in reversed(entry.signers)])
    assert resigned.raw == entry.raw


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_raise_the_named_error(vector):
    data = entry_bytes(vector)
    with pytest.raises(ERRORS[vector["error"]]) as caught:
        E.verify_signatures(E.decode_entry(data))
    assert type(caught.value) is ERRORS[vector["error"]]
    assert caught.value.reason == vector["reason"]
    assert caught.value.hint  # every error says what to do


def test_signature_failures_decode_cleanly():
    """VerificationFailed vectors are well-formed: decode succeeds, only verification fails."""
    for vector in VECTORS["invalid"]:
        if vector["error"] == "VerificationFailed":
            E.decode_entry(entry_bytes(vector))


# --- signing and structure --------------------------------------------------------------------


def test_entry_layout_and_leaf_hash():
    entry = E.sign(statement(), [ALICE])
    assert entry.raw.startswith(b'{"signatures":[{"key":"' + ALICE.vkey.encode() + b'","sig":"')
    assert entry.raw.endswith(b'"statement":' + canonical.dumps(entry.statement.to_json_value()) + b"}")
    assert entry.leaf_hash == leaf_hash(entry.raw)
    assert entry.statement.signing_message() == b"pactlog/entry/v1\n" + canonical.dumps(entry.statement.to_json_value())
    assert ALICE.verifier.verify(entry.statement.signing_message(), entry.signatures[0].sig)


def test_signers_are_sorted_whatever_the_order_given():
    one = E.sign(statement(), [CAROL, ALICE, BOB])
    two = E.sign(statement(), [BOB, CAROL, ALICE])
    assert one == two and hash(one) == hash(two)
    assert list(one.signers) == sorted([ALICE.vkey, BOB.vkey, CAROL.vkey])
    E.verify_signatures(one)


def test_add_signature_equals_signing_together():
    alone = E.sign(statement(), [ALICE])
    cosigned = E.add_signature(E.add_signature(alone, CAROL), BOB)
    assert cosigned == E.sign(statement(), [ALICE, BOB, CAROL])
    assert cosigned.leaf_hash != alone.leaf_hash  # the signature set is part of the entry's identity
    E.verify_signatures(cosigned)


def test_sign_requires_the_statement_signer():
    with pytest.raises(InvalidInput) as caught:
        E.sign(statement(), [BOB])
    assert caught.value.reason == "signer_mismatch"


def test_no_key_signs_twice():
    with pytest.raises(MalformedError) as caught:
        E.sign(statement(), [ALICE, ALICE])
    assert caught.value.reason == "duplicate_signature"
    with pytest.raises(MalformedError) as caught:
        E.add_signature(E.sign(statement(), [ALICE]), ALICE)
    assert caught.value.reason == "duplicate_signature"


def test_same_public_key_under_two_names_is_one_signer():
    alias = Signer("alias.example", bytes([1]) * 32)  # ALICE's seed, another name and key id
    with pytest.raises(MalformedError) as caught:
        E.sign(statement(), [ALICE, alias])
    assert caught.value.reason == "duplicate_signature"


def test_cosignature_keys_cannot_sign_entries():
    witness = CosignatureSigner("witness.example", bytes([4]) * 32)
    with pytest.raises(MalformedError) as caught:
        E.sign(statement(), [ALICE, witness])
    assert caught.value.reason == "unsupported_key_type"
    with pytest.raises(MalformedError):
        statement(signer=witness.vkey)


def test_make_statement_accepts_a_signer_and_defaults_the_body():
    made = E.make_statement(log=LOG, type="t", signer=ALICE, seq=1, time=0)
    assert made.signer == ALICE.vkey and made.body == {}


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"log": ""}, "invalid_field"),
        ({"log": "a+b"}, "invalid_field"),
        ({"log": 5}, "invalid_field"),
        ({"type": ""}, "invalid_field"),
        ({"type": "a" * 65}, "invalid_field"),
        ({"type": "a b"}, "invalid_field"),
        ({"type": "type\n"}, "invalid_field"),
        ({"type": "é"}, "invalid_field"),
        ({"signer": "nope"}, "malformed_vkey"),
        ({"signer": 7}, "invalid_field"),
        ({"seq": 0}, "invalid_field"),
        ({"seq": True}, "invalid_field"),
        ({"seq": 2**53}, "invalid_field"),
        ({"seq": 1.0}, "invalid_field"),
        ({"time": -1}, "invalid_field"),
        ({"time": "0"}, "invalid_field"),
        ({"body": []}, "invalid_field"),
        ({"body": {"x": 1.5}}, "float_not_allowed"),
        ({"body": {"x": 2**60}}, "integer_out_of_range"),
        ({"body": {1: "x"}}, "unsupported_type"),
    ],
)
def test_make_statement_refuses_bad_fields(overrides, reason):
    with pytest.raises(MalformedError) as caught:
        statement(**overrides)
    assert caught.value.reason == reason


def test_type_names_at_the_limits_are_accepted():
    for name in ("a", "Z" + "9" * 63, "a.b:c-d_e"):
        assert statement(type=name).type == name


def test_signing_refuses_too_large_entries_and_the_limit_is_exact():
    probe = E.sign(statement(body={"pad": ""}), [ALICE])
    room = E.MAX_ENTRY_SIZE - len(probe.raw)
    largest = E.sign(statement(body={"pad": "x" * room}), [ALICE])
    assert len(largest.raw) == E.MAX_ENTRY_SIZE
    assert E.decode_entry(largest.raw) == largest
    with pytest.raises(EntryRejected) as caught:
        E.sign(statement(body={"pad": "x" * (room + 1)}), [ALICE])
    assert caught.value.reason == "too_large"


def test_entry_constructor_refuses_inconsistent_bytes():
    entry = E.sign(statement(), [ALICE])
    with pytest.raises(InvalidInput) as caught:
        E.Entry(entry.statement, entry.signatures, entry.raw + b" ")
    assert caught.value.reason == "inconsistent_entry"


def test_verify_catches_a_statement_changed_after_signing():
    entry = E.sign(statement(), [ALICE])
    forged = E.Entry(statement(seq=2), entry.signatures, E.encode_entry(statement(seq=2), entry.signatures))
    with pytest.raises(VerificationFailed) as caught:
        E.verify_signatures(forged)
    assert caught.value.reason == "bad_signature"


def test_decode_takes_bytes_only():
    with pytest.raises(TypeError):
        E.decode_entry(VECTORS["valid"][0]["entry"])


def test_describe_is_one_line():
    entry = E.sign(statement(type="governance.approval", seq=3, time=0), [BOB, ALICE])
    assert E.describe(entry) == "governance.approval by alice.example seq 3 at 1970-01-01T00:00:00Z, co-signed by bob.example"
    assert E.format_time(canonical.MAX_SAFE_INTEGER) == f"@{canonical.MAX_SAFE_INTEGER}"


def test_statement_from_json_round_trips():
    made = statement()
    assert E.statement_from_json(json.loads(canonical.dumps(made.to_json_value()))) == made


# --- properties -------------------------------------------------------------------------------

json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20))
json_bodies = st.dictionaries(
    st.text(max_size=10),
    st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    body=json_bodies,
    seq=st.integers(1, 2**53 - 1),
    time=st.integers(0, 2**53 - 1),
    kind=st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.:-]{0,63}\Z"),
    cosigners=st.sets(st.sampled_from(["bob.example", "carol.example"])),
)
def test_sign_decode_verify_round_trip(body, seq, time, kind, cosigners):
    made = statement(body=body, seq=seq, time=time, type=kind)
    entry = E.sign(made, [ALICE, *(SIGNERS[name] for name in cosigners)])
    decoded = E.decode_entry(entry.raw)
    assert decoded == entry and decoded.statement == made
    E.verify_signatures(decoded)
    assert {parse_vkey(key).name for key in decoded.signers} == {"alice.example", *cosigners}


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_flipped_bit_is_refused(position, bit):
    """No single-bit change to an entry yields another acceptable entry."""
    data = bytearray(entry_bytes(VECTORS["valid"][1]))
    data[position % len(data)] ^= 1 << bit
    with pytest.raises((MalformedError, VerificationFailed)):
        E.verify_signatures(E.decode_entry(bytes(data)))
