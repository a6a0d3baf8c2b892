"""Tests for ledger.policy: C2SP tlog-policy parsing, formatting and quorum checks.

Vectors (specs/vectors/policies.json) use the C2SP example policy structure
(two levels of groups) with real keys generated from fixed seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import MalformedError, VerificationFailed
from ledger.note import CosignatureSigner, CosignatureVerifier, Signer, add_signatures
from ledger.policy import NONE, Group, Policy, format_policy, parse_policy

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "specs" / "vectors" / "policies.json").read_text(
        "utf-8"
    )
)
EXAMPLE = VECTORS["example"]
KEYS = VECTORS["keys"]


def _shape(policy: Policy) -> tuple:
    return (
        [v.vkey for v in policy.logs],
        {name: v.vkey for name, v in policy.witnesses.items()},
        policy.groups,
        policy.quorum,
    )


@pytest.mark.parametrize("label", sorted(KEYS))
def test_keys_follow_from_seeds(label):
    key = KEYS[label]
    cls = CosignatureSigner if key["alg"] == 4 else Signer
    signer = cls(key["name"], bytes.fromhex(key["seed_hex"]))
    assert (signer.vkey, signer.skey, signer.key_id.hex()) == (
        key["vkey"],
        key["skey"],
        key["key_id_hex"],
    )


def test_example_policy_structure():
    policy = parse_policy(EXAMPLE["policy"])
    assert [v.vkey for v in policy.logs] == [KEYS["log"]["vkey"]]
    assert list(policy.witnesses) == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert all(isinstance(v, CosignatureVerifier) for v in policy.witnesses.values())
    assert policy.groups == {
        "X-witnesses": Group("X-witnesses", 2, ("X1", "X2", "X3")),
        "Y-witnesses": Group("Y-witnesses", 1, ("Y1", "Y2", "Y3"), "any"),
        "X-and-Y": Group("X-and-Y", 2, ("X-witnesses", "Y-witnesses"), "all"),
    }
    assert policy.quorum == "X-and-Y"


def test_format_is_canonical_and_round_trips():
    policy = parse_policy(EXAMPLE["policy"])
    assert format_policy(policy) == EXAMPLE["canonical"]
    assert format_policy(parse_policy(EXAMPLE["canonical"])) == EXAMPLE["canonical"]
    assert parse_policy(EXAMPLE["canonical"].encode()) == parse_policy(EXAMPLE["canonical"])


def test_whitespace_comments_and_urls():
    messy = parse_policy(EXAMPLE["messy_policy"])
    assert _shape(messy) == _shape(parse_policy(EXAMPLE["policy"]))
    assert messy.log_urls == {KEYS["log"]["vkey"]: "https://example.com/log"}
    assert messy.witness_urls == {
        n: f"https://{n.lower()}.witness.example/" for n in ("Y1", "Y2", "Y3")
    }
    assert parse_policy(format_policy(messy)) == messy


@pytest.mark.parametrize(
    "case", EXAMPLE["quorum_sets"], ids=lambda c: "+".join(c["cosigners"]) or "nobody"
)
def test_quorum_sets(case):
    assert parse_policy(EXAMPLE["policy"]).quorum_met(set(case["cosigners"])) is case["met"]


@pytest.mark.parametrize("case", VECTORS["verify"], ids=lambda c: c["name"])
def test_verify_vectors(case):
    policy = parse_policy(EXAMPLE["policy"])
    note = case["note"].encode()
    if case["error"] is None:
        cp = policy.verify_checkpoint(note)
        expected = EXAMPLE["checkpoint"]
        assert (cp.origin, cp.size, cp.root.hex()) == (
            expected["origin"],
            expected["size"],
            expected["root_hex"],
        )
        return
    with pytest.raises(VerificationFailed) as info:
        policy.verify_checkpoint(note)
    assert info.value.reason == case["reason"]
    if case["message_contains"]:
        assert case["message_contains"] in info.value.message


def test_quorum_message_names_the_short_group():
    case = next(c for c in VECTORS["verify"] if c["name"] == "x-group-short")
    with pytest.raises(VerificationFailed) as info:
        parse_policy(EXAMPLE["policy"]).verify_checkpoint(case["note"].encode())
    assert info.value.message.startswith(
        "witness quorum X-and-Y not met: group X-and-Y needs 2 of 2, has 1 (missing: X-witnesses)"
    )
    assert "missing: X2, X3" in info.value.message


@pytest.mark.parametrize("case", VECTORS["parse_ok"], ids=lambda c: c["name"])
def test_parse_ok(case):
    data = bytes.fromhex(case["policy_hex"]) if "policy_hex" in case else case["policy"]
    policy = parse_policy(data)
    assert (len(policy.logs), len(policy.witnesses), len(policy.groups), policy.quorum) == (
        case["logs"],
        case["witnesses"],
        case["groups"],
        case["quorum"],
    )
    assert parse_policy(format_policy(policy)) == policy


def test_names_are_opaque_bytes():
    case = next(c for c in VECTORS["parse_ok"] if c["name"] == "opaque-non-utf8-name")
    policy = parse_policy(bytes.fromhex(case["policy_hex"]))
    # "K" and the Kelvin sign are different names; the 0xff byte survives as an opaque name.
    assert (
        len({"K", "\u212a", b"\xff".decode("utf-8", "surrogateescape")} & set(policy.witnesses))
        == 3
    )
    assert policy.quorum_met({"K", "\u212a", "\udcff"}) and not policy.quorum_met({"K", "\u212a"})


@pytest.mark.parametrize("case", VECTORS["parse_bad"], ids=lambda c: c["name"])
def test_parse_bad(case):
    data = bytes.fromhex(case["policy_hex"]) if case.get("policy_hex") else case["policy"]
    with pytest.raises(MalformedError) as info:
        parse_policy(data)
    assert info.value.reason == "malformed_policy"
    assert case["message_contains"] in info.value.message


def test_for_log():
    log = Signer("example.com/log", bytes.fromhex(KEYS["log"]["seed_hex"]))
    policy = Policy.for_log(log.vkey)
    assert format_policy(policy) == f"log {log.vkey}\nquorum {NONE}\n"
    cp = Checkpoint("example.com/log", 1, bytes(32))
    assert policy.verify_checkpoint(sign_checkpoint(cp, log)) == cp
    with pytest.raises(MalformedError):
        Policy.for_log(CosignatureSigner("w.example", bytes(32)).vkey)


def test_unknown_witness_cosignatures_do_not_count():
    log = Signer("example.com/log", bytes(32))
    known = CosignatureSigner("known.example", bytes([1]) * 32)
    stranger = CosignatureSigner("stranger.example", bytes([2]) * 32)
    policy = parse_policy(f"log {log.vkey}\nwitness K {known.vkey}\nquorum K\n")
    cp = Checkpoint("example.com/log", 1, bytes(32))
    signed = sign_checkpoint(cp, log)
    with pytest.raises(VerificationFailed) as info:
        policy.verify_checkpoint(add_signatures(signed, [stranger.cosign(cp.body(), 5)]))
    assert (
        info.value.reason == "quorum_not_met" and "witness K did not cosign" in info.value.message
    )
    assert policy.verify_checkpoint(add_signatures(signed, [known.cosign(cp.body(), 5)])) == cp


def test_limits():
    witnesses = [CosignatureSigner(f"w{i}.example", i.to_bytes(32, "big")) for i in range(257)]
    text = (
        "".join(f"witness w{i} {w.vkey}\n" for i, w in enumerate(witnesses[:256])) + "quorum none\n"
    )
    assert len(parse_policy(text).witnesses) == 256
    with pytest.raises(MalformedError):
        parse_policy(text + f"witness w256 {witnesses[256].vkey}\n")


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 6), data=st.data())
def test_threshold_semantics(n, data):
    k = data.draw(st.integers(1, n))
    witnesses = [CosignatureSigner(f"w{i}.example", bytes([i + 1]) * 32) for i in range(n)]
    text = "".join(f"witness w{i} {w.vkey}\n" for i, w in enumerate(witnesses))
    text += f"group g {k} {' '.join(f'w{i}' for i in range(n))}\nquorum g\n"
    policy = parse_policy(text)
    cosigners = data.draw(st.sets(st.sampled_from([f"w{i}" for i in range(n)])))
    assert policy.quorum_met(cosigners) == (len(cosigners) >= k)
    # Monotone: more cosignatures never break a met quorum.
    if policy.quorum_met(cosigners):
        assert policy.quorum_met(cosigners | {"w0"})
