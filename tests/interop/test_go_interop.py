"""Interoperability with Go's own golang.org/x/mod/sumdb/note and sumdb/tlog (specs/interop.md).

Both directions: Go verifies what pactlog signs and proves, and pactlog verifies what Go
signs and proves. The Go side is ``tests/interop/go`` (a line-protocol helper), built
once per session into a temporary directory, offline, against the Debian package
golang-golang-x-mod-dev. Each test sends one batch of requests to one Go process.

Without Go the tests FAIL (never skip): CI installs golang-go and golang-golang-x-mod-dev.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import random
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from ledger import proof
from ledger.bundle import parse_bundle, parse_consistency_file
from ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint, sign_checkpoint
from ledger.errors import MalformedError, VerificationFailed
from ledger.merkle import EMPTY_ROOT, Frontier, leaf_hash, node_hash, root_from_leaf_hashes
from ledger.note import CosignatureSigner, Signer, add_signatures, open_note, parse_vkey, sign_note

GO_SOURCE = Path(__file__).parent / "go"
INSTALL_HINT = "install them with: apt-get install -y golang-go golang-golang-x-mod-dev"

ORIGIN = "example.org/interop"
WITNESS = "witness.example/w1"
NAMES = (ORIGIN, "go.example/log", "ünïcode.example/日志")
T0 = 1_767_268_800


def seed(label: str) -> bytes:
    return hashlib.sha256(b"pactlog interop " + label.encode()).digest()


# --- the Go helper ----------------------------------------------------------------------------


class GoHelper:
    """One batch of line requests to the built Go helper = one process (see main.go's protocol)."""

    def __init__(self, executable: Path):
        self.executable = executable

    def run(self, requests: Sequence[str]) -> list[str]:
        for request in requests:
            assert "\n" not in request, f"request spans lines: {request!r}"
        done = subprocess.run(
            [str(self.executable)], input="".join(r + "\n" for r in requests),
            capture_output=True, text=True, encoding="utf-8", timeout=60,
        )
        assert done.returncode == 0, f"Go helper exited {done.returncode}: {done.stderr}"
        replies = done.stdout.split("\n")  # not splitlines(): U+2028 etc. are not line ends here
        assert replies.pop() == "", "Go helper output does not end with a newline"
        assert len(replies) == len(requests), f"{len(requests)} requests, {len(replies)} replies"
        for request, reply in zip(requests, replies):
            assert not reply.startswith("error "), f"Go helper refused request {request[:200]!r}: {reply}"
        return replies

    def ok(self, requests: Sequence[str]) -> list[list[str]]:
        """Run requests that must all succeed; return each reply's fields after 'ok'."""
        replies = self.run(requests)
        for request, reply in zip(requests, replies):
            assert reply.split(" ")[0] == "ok", f"Go rejected {request[:200]!r}: {reply}"
        return [reply.split(" ")[1:] for reply in replies]


def _xmod_dir() -> Path:
    """The golang.org/x/mod source the helper's go.mod replaces the module with."""
    match = re.search(r"^replace golang\.org/x/mod => (\S+)$", (GO_SOURCE / "go.mod").read_text(), re.M)
    assert match, "tests/interop/go/go.mod lost its replace directive"
    return Path(match.group(1))


@pytest.fixture(scope="session")
def go(tmp_path_factory) -> GoHelper:
    """Build the Go helper offline, once per session, into a temporary directory."""
    go_tool = shutil.which("go")
    if go_tool is None:
        pytest.fail(f"the Go toolchain (`go`) is not installed; the interop tests need Go and "
                    f"golang.org/x/mod: {INSTALL_HINT}", pytrace=False)
    xmod = _xmod_dir()
    if not (xmod / "sumdb" / "note" / "note.go").is_file():
        pytest.fail(f"golang.org/x/mod source not found at {xmod}: {INSTALL_HINT}", pytrace=False)
    work = tmp_path_factory.mktemp("go-interop")
    build = work / "src"
    build.mkdir()
    for name in ("go.mod", "main.go"):
        shutil.copyfile(GO_SOURCE / name, build / name)
    env = {
        **os.environ,
        "GO111MODULE": "on", "GOPROXY": "off", "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
        "GOCACHE": str(work / "cache"), "GOPATH": str(work / "gopath"), "CGO_ENABLED": "0",
        # Hermetic: ignore the user's `go env -w` settings and any go.work; never fetch a toolchain.
        "GOENV": "off", "GOWORK": "off", "GOTOOLCHAIN": "local",
    }
    executable = work / "interop"
    done = subprocess.run([go_tool, "build", "-o", str(executable), "."], cwd=build, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"building tests/interop/go failed (is golang-golang-x-mod-dev installed? "
                    f"{INSTALL_HINT}):\n{done.stderr}", pytrace=False)
    return GoHelper(executable)


# --- encodings shared with the Go helper ------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def hexdata(data: bytes) -> str:
    return data.hex() or "-"


def hashlist(hashes: Sequence[bytes]) -> str:
    return ",".join(h.hex() for h in hashes) or "-"


def parse_hashlist(text: str) -> list[bytes]:
    return [] if text == "-" else [bytes.fromhex(h) for h in text.split(",")]


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1:]


# --- one tree of records, built by pactlog ----------------------------------------------------

N = 1030  # covers 2^10 - 1, 2^10 and 2^10 + 1
EDGE_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
              255, 256, 257, 511, 512, 513, 1023, 1024, 1025, N)


def record(i: int) -> bytes:
    """Record i: 0..63 bytes, record 0 empty, so odd lengths and empty data are covered."""
    return (hashlib.sha512(b"record %d" % i).digest() * 2)[: i % 64]


class Tree:
    """The records' leaf hashes, every complete node (level, index) and the root at every size."""

    def __init__(self, records: Sequence[bytes]):
        self.records = list(records)
        self.leaves = [leaf_hash(data) for data in records]
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots = [EMPTY_ROOT]
        frontier = Frontier()
        for leaf in self.leaves:
            for level, index, h in frontier.append(leaf):
                self.nodes[(level, index)] = h
            self.roots.append(frontier.root())

    def get_node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


@pytest.fixture(scope="module")
def tree() -> Tree:
    return Tree([record(i) for i in range(N)])


def go_log_requests(records: Sequence[bytes]) -> list[str]:
    """Requests that rebuild the same log inside the Go helper (tlog.StoredHashes)."""
    return ["reset", *(f"append {hexdata(data)}" for data in records)]


def inclusion_cases() -> list[tuple[int, int]]:
    """(index, size): every pair for sizes 1..33, edge indexes of edge sizes, seeded random ones."""
    rng = random.Random(6962)
    cases = {(i, s) for s in range(1, 34) for i in range(s)}
    for s in EDGE_SIZES + tuple(rng.sample(range(1, N + 1), 20)):
        cases |= {(i, s) for i in (0, 1, s // 2, s - 2, s - 1) if 0 <= i < s}
        cases |= {(rng.randrange(s), s) for _ in range(4)}
    return sorted(cases, key=lambda c: (c[1], c[0]))


def consistency_cases() -> list[tuple[int, int]]:
    """(old, new): every pair up to 33, every pair of edge sizes, seeded random ones."""
    rng = random.Random(9162)
    cases = {(o, n) for n in range(1, 34) for o in range(1, n + 1)}
    cases |= {(o, n) for n in EDGE_SIZES for o in EDGE_SIZES if o <= n}
    for _ in range(60):
        new = rng.randrange(1, N + 1)
        cases.add((rng.randrange(1, new + 1), new))
    return sorted(cases, key=lambda c: (c[1], c[0]))


def pactlog_accepts_inclusion(leaf: bytes, index: int, size: int, hashes, root: bytes) -> bool:
    try:
        proof.verify_inclusion(leaf, index, size, hashes, root)
    except VerificationFailed:
        return False
    return True


def pactlog_accepts_consistency(old: int, new: int, old_root: bytes, new_root: bytes, hashes) -> bool:
    try:
        proof.verify_consistency(old, new, old_root, new_root, hashes)
    except VerificationFailed:
        return False
    return True


def bitflip(h: bytes, bit: int = 0) -> bytes:
    return flip(h, (bit // 8) % len(h), 1 << (bit % 8))


def with_one_flipped(hashes: Sequence[bytes], case: int) -> list[bytes]:
    """The proof with one bit flipped in hash number ``case mod len`` (varied across cases)."""
    k = case % len(hashes)
    return [*hashes[:k], bitflip(hashes[k], case), *hashes[k + 1:]]


# === (a) Go verifies pactlog =================================================================


def test_go_accepts_our_verifier_and_signer_keys(go):
    signers = [Signer(name, seed(name)) for name in NAMES]
    replies = go.ok([f"vkey {s.vkey}" for s in signers] + [f"skey {s.skey}" for s in signers])
    for s, (name, key_hash) in zip(signers * 2, replies):
        assert (name, key_hash) == (s.name, s.key_id.hex())


def _checkpoints(tree: Tree, origin: str) -> list[Checkpoint]:
    cps = [Checkpoint(origin, size, tree.roots[size]) for size in (0, 1, 2, 3, 4, 5, 7, 8, 9, 64, 65, N)]
    cps.append(Checkpoint(origin, 2**64 - 1, bytes(range(32))))  # Go parses the size as uint64
    cps.append(Checkpoint(origin, 3, tree.roots[3], ("extension line one", "ünïcode extension")))
    return cps


@pytest.mark.parametrize("origin", NAMES)
def test_go_opens_our_checkpoints_byte_for_byte(go, tree, origin):
    signer = Signer(origin, seed(origin))
    cps = _checkpoints(tree, origin)
    notes = [sign_checkpoint(cp, signer) for cp in cps]
    opened = go.ok([f"open {b64(note)} {signer.vkey}" for note in notes])
    parsed = go.ok([f"checkpoint {b64(note)} {signer.vkey}" for note in notes])
    # Go re-signs the same text with our skey: Ed25519 is deterministic, so the notes are identical.
    resigned = go.ok([f"sign {b64(cp.body())} {signer.skey}" for cp in cps])
    for cp, note, (text, *counts), reply, (go_note,) in zip(cps, notes, opened, parsed, resigned):
        assert unb64(text) == cp.body()
        assert counts == ["1", "0"]
        assert reply == [str(cp.size), cp.root.hex(), "1", "0", origin]
        assert unb64(go_note) == note


def test_go_skips_our_witness_cosignatures_and_checks_the_log_signature(go, tree):
    log = Signer(ORIGIN, seed(ORIGIN))
    witnesses = [CosignatureSigner(f"{WITNESS}-{i}", seed(f"witness {i}")) for i in range(2)]
    other = Signer(ORIGIN, seed("not the log key"))
    cases = []
    for size in (0, 1, 17):
        cp = Checkpoint(ORIGIN, size, tree.roots[size])
        note = add_signatures(sign_checkpoint(cp, log), [w.cosign(cp.body(), T0 + size) for w in witnesses])
        # pactlog checks the log signature and both cosignatures...
        _, verified = open_note(note, [log.verifier] + [w.verifier for w in witnesses])
        assert len(verified) == 3
        cases.append((cp, note))
    replies = go.run([f"checkpoint {b64(note)} {log.vkey}" for _, note in cases]
                     + [f"checkpoint {b64(note)} {other.vkey}" for _, note in cases]
                     + [f"vkey {w.vkey}" for w in witnesses])
    n = len(cases)
    # ...Go checks the log signature and keeps the two cosignatures as unverified (unknown keys).
    for (cp, _), reply in zip(cases, replies[:n]):
        assert reply == f"ok {cp.size} {cp.root.hex()} 1 2 {ORIGIN}"
    # A note without a signature by the trusted key is unverified for Go, as for pactlog.
    for reply in replies[n:2 * n]:
        assert reply.startswith("fail unverified "), reply
    for _, note in cases:
        with pytest.raises(VerificationFailed):
            open_checkpoint(note, [other.verifier])
    # Go's note package has no cosignature/v1 (type 0x04) verifier: it refuses such keys.
    for reply in replies[2 * n:]:
        assert reply == "fail key unknown verifier algorithm"


def _same_for_a_lenient_base64_decoder(original: bytes, altered: bytes) -> bool:
    """True when ``altered`` differs from ``original`` only in base64 bits that Go ignores.

    Go's base64.StdEncoding (not .Strict()) ignores non-zero padding bits in the last
    character; Python's b64decode(validate=True) does the same, so it stands in for Go here.
    """
    try:
        text, _, sigs = altered.decode("utf-8").rpartition("\n\n")
    except UnicodeDecodeError:
        return False
    original_text, _, original_sigs = original.decode("utf-8").rpartition("\n\n")
    lines, original_lines = sigs.split("\n"), original_sigs.split("\n")
    if text != original_text or len(lines) != len(original_lines):
        return False
    for line, original_line in zip(lines, original_lines):
        name, _, sig = line.rpartition(" ")
        original_name, _, original_sig = original_line.rpartition(" ")
        try:
            if name != original_name or unb64(sig) != unb64(original_sig):
                return False
        except (binascii.Error, ValueError):
            return False
    return True


def test_go_and_pactlog_reject_every_flipped_byte(go, tree):
    signer = Signer(ORIGIN, seed(ORIGIN))
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, tree.roots[5]), signer)
    altered = [flip(note, pos, mask) for pos in range(len(note)) for mask in (0x01, 0x80)]
    replies = go.run([f"open {b64(a)} {signer.vkey}" for a in altered])
    lenient = 0
    for data, reply in zip(altered, replies):
        with pytest.raises((MalformedError, VerificationFailed)):
            open_note(data, [signer.verifier])
        if _same_for_a_lenient_base64_decoder(note, data):
            lenient += 1  # Go accepts a re-spelling of the same signature bytes; pactlog does not
            assert reply.startswith("ok "), reply
        else:
            assert reply.startswith("fail "), (data, reply)
    assert lenient <= 2


def test_known_differences_from_go_are_as_documented(go, tree):
    """specs/interop.md section 4: where Go and pactlog knowingly differ."""
    signer = Signer(ORIGIN, seed(ORIGIN))
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, tree.roots[1]), signer)
    # 1. Non-zero base64 padding bits in a signature: Go ignores them, pactlog rejects the note.
    last = note.rindex(b"=")  # 68-byte blob: one '=' and 2 padding bits in the char before it
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    respelled = note[: last - 1] + bytes([alphabet[alphabet.index(note[last - 1]) | 1]]) + note[last:]
    assert respelled != note
    with pytest.raises(MalformedError):
        open_note(respelled, [signer.verifier])
    replies = go.run([
        f"open {b64(respelled)} {signer.vkey}",
        "treehash 0",  # 2. Go's tree hash of the empty tree is 32 zero bytes, pactlog's SHA-256("").
        f"checktree 1 {tree.roots[1].hex()} 0 {EMPTY_ROOT.hex()} -",  # 3. Go has no size-0 proofs.
    ])
    text = note[: note.index(b"\n\n") + 1]
    assert replies[0] == f"ok {b64(text)} 1 0"
    assert replies[1] == "ok " + "00" * 32
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert replies[2].startswith("fail proof tlog: invalid inputs")
    proof.verify_consistency(0, 1, EMPTY_ROOT, tree.roots[1], [])


def test_known_differences_in_keys_and_repeated_signatures(go, tree):
    """specs/interop.md section 4: pactlog is stricter than Go here, never more lenient."""
    signer = Signer(ORIGIN, seed(ORIGIN))
    # 4. A key id in uppercase hex: Go's strconv.ParseUint takes it, pactlog wants lowercase.
    name, key_id, key = signer.vkey.split("+", 2)
    assert key_id != key_id.upper()
    upper = f"{name}+{key_id.upper()}+{key}"
    with pytest.raises(MalformedError):
        parse_vkey(upper)
    # 5. A second, bad signature line by the same key: Go skips repeats, pactlog verifies each.
    note = sign_checkpoint(Checkpoint(ORIGIN, 2, tree.roots[2]), signer)
    line = note[note.index(b"\n\n") + 2:]
    blob = unb64(line.rstrip(b"\n").split(b" ")[-1].decode())
    bad_line = line[: line.rindex(b" ") + 1] + b64(blob[:-1] + bytes([blob[-1] ^ 1])).encode() + b"\n"
    repeated = note + bad_line
    with pytest.raises(VerificationFailed):
        open_note(repeated, [signer.verifier])
    open_note(note + line, [signer.verifier])  # an identical repeat is fine for both
    replies = go.run([f"vkey {upper}", f"open {b64(repeated)} {signer.vkey}",
                      f"open {b64(note + line)} {signer.vkey}"])
    assert replies[0] == f"ok {ORIGIN} {key_id}"
    assert replies[1].startswith("ok ") and replies[1].endswith(" 1 0")
    assert replies[2].startswith("ok ") and replies[2].endswith(" 1 0")


def test_real_sum_golang_org_checkpoint_is_read_alike(go):
    """A production checkpoint signed by Go's own sumdb server (reference §2.2, worked example B)."""
    vkey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    note = ("go.sum database tree\n30055305\nmXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n\n"
            "— sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFc"
            "AAlWFJJYle3EJlDCrQ+y3A8=\n").encode()
    root = "9977e045c2746c6d23dc23dd2b08065ad5330546d7ebbb1a64646616e2461ac3"
    (reply,) = go.run([f"checkpoint {b64(note)} {vkey}"])
    assert reply == f"ok 30055305 {root} 1 0 go.sum database tree"
    cp, _ = open_checkpoint(note, [parse_vkey(vkey)], any_origin=True)
    assert (cp.origin, cp.size, cp.root.hex()) == ("go.sum database tree", 30055305, root)


def test_go_record_and_node_hashes_equal_ours(go, tree):
    datas = [b"", b"\x00", b"\x01", bytes(range(256)), b"x" * 10_000] + tree.records[:64]
    pairs = [(tree.leaves[i], tree.leaves[i + 1]) for i in range(0, 40, 2)] + [(EMPTY_ROOT, bytes(32))]
    replies = go.ok([f"recordhash {hexdata(d)}" for d in datas]
                    + [f"nodehash {left.hex()} {right.hex()}" for left, right in pairs])
    expected = [leaf_hash(d) for d in datas] + [node_hash(left, right) for left, right in pairs]
    assert [bytes.fromhex(h) for (h,) in replies] == expected


def test_go_tree_hashes_equal_our_roots(go, tree):
    replies = go.ok(go_log_requests(tree.records) + [f"treehash {s}" for s in range(1, N + 1)])
    appended, tree_hashes = replies[1: N + 1], replies[N + 1:]
    assert [(bytes.fromhex(h), int(size)) for h, size in appended] == list(zip(tree.leaves, range(1, N + 1)))
    assert [bytes.fromhex(h) for (h,) in tree_hashes] == tree.roots[1:]
    for size in EDGE_SIZES:  # and the roots agree with the literal RFC 9162 recursion too
        assert tree.roots[size] == root_from_leaf_hashes(tree.leaves[:size])


def test_go_checks_our_inclusion_proofs(go, tree):
    """tlog.CheckRecord accepts every proof of ours, rejects altered ones, and agrees with us on the rest."""
    requests, expected = [], []

    def ask(leaf, index, size, hashes, root, must_fail):
        ours = pactlog_accepts_inclusion(leaf, index, size, hashes, root)
        assert not (must_fail and ours), f"pactlog accepted an altered proof {index}/{size}"
        requests.append(f"checkrecord {size} {root.hex()} {index} {leaf.hex()} {hashlist(hashes)}")
        expected.append(ours)

    for case, (index, size) in enumerate(inclusion_cases()):
        hashes = proof.inclusion_proof(index, size, tree.get_node)
        leaf, root = tree.leaves[index], tree.roots[size]
        ask(leaf, index, size, hashes, root, must_fail=False)
        assert expected[-1], f"pactlog rejects its own proof {index}/{size}"
        ask(bitflip(leaf, case), index, size, hashes, root, must_fail=True)
        ask(leaf, index, size, hashes, bitflip(root, case), must_fail=True)
        ask(leaf, index, size, hashes + [leaf], root, must_fail=True)
        if hashes:
            ask(leaf, index, size, with_one_flipped(hashes, case), root, must_fail=True)
            ask(leaf, index, size, hashes[:-1], root, must_fail=True)
            ask(leaf, index, size, hashes[::-1], root, must_fail=len(set(hashes)) > 1)
        # Neighbouring indexes and sizes with the same proof and root: some of these verify
        # (a proof binds the root, not the size); Go and pactlog must give the same verdict.
        for other_index, other_size in ((index - 1, size), (index + 1, size),
                                        (index, size - 1), (index, size + 1)):
            if 0 <= other_index < other_size:
                ask(leaf, other_index, other_size, hashes, root, must_fail=False)

    replies = go.run(requests)
    for request, reply, ours in zip(requests, replies, expected):
        assert reply in ("ok", "fail proof invalid transparency proof"), (request, reply)
        assert (reply == "ok") == ours, f"Go says {reply!r}, pactlog says {ours} for {request[:120]}"
    assert sum(expected) > len(inclusion_cases())  # the size/index variants did exercise acceptance


def test_go_checks_our_consistency_proofs(go, tree):
    """tlog.CheckTree accepts every consistency proof of ours, rejects altered ones, agrees on the rest."""
    requests, expected = [], []

    def ask(old, new, old_root, new_root, hashes, must_fail):
        ours = pactlog_accepts_consistency(old, new, old_root, new_root, hashes)
        assert not (must_fail and ours), f"pactlog accepted an altered proof {old}->{new}"
        requests.append(f"checktree {new} {new_root.hex()} {old} {old_root.hex()} {hashlist(hashes)}")
        expected.append(ours)

    for case, (old, new) in enumerate(consistency_cases()):
        hashes = proof.consistency_proof(old, new, tree.get_node)
        old_root, new_root = tree.roots[old], tree.roots[new]
        ask(old, new, old_root, new_root, hashes, must_fail=False)
        assert expected[-1], f"pactlog rejects its own proof {old}->{new}"
        ask(old, new, bitflip(old_root, case), new_root, hashes, must_fail=True)
        ask(old, new, old_root, bitflip(new_root, case), hashes, must_fail=True)
        ask(old, new, old_root, new_root, hashes + [old_root], must_fail=True)
        if hashes:
            ask(old, new, old_root, new_root, with_one_flipped(hashes, case), must_fail=True)
            ask(old, new, old_root, new_root, hashes[:-1], must_fail=True)
        for other_old, other_new in ((old - 1, new), (old + 1, new), (old, new - 1), (old, new + 1)):
            if 1 <= other_old <= other_new:
                ask(other_old, other_new, old_root, new_root, hashes, must_fail=False)

    replies = go.run(requests)
    for request, reply, ours in zip(requests, replies, expected):
        assert reply in ("ok", "fail proof invalid transparency proof"), (request, reply)
        assert (reply == "ok") == ours, f"Go says {reply!r}, pactlog says {ours} for {request[:120]}"


# === (b) pactlog verifies Go =================================================================


def test_we_accept_go_generated_keys(go):
    requests = [f"keygen {name} {seed(name).hex()}" for name in NAMES] + [f"keygen {name}" for name in NAMES]
    for i, (skey, vkey) in enumerate(go.ok(requests)):
        name = NAMES[i % len(NAMES)]
        verifier = parse_vkey(vkey)
        signer = Signer.from_skey(skey)
        assert (verifier.name, signer.name) == (name, name)
        assert vkey.split("+")[1] == verifier.key_id.hex() == signer.key_id.hex()
        assert (verifier.vkey, signer.vkey, signer.skey) == (vkey, vkey, skey)
        if i < len(NAMES):  # same seed, same key strings
            assert Signer(name, seed(name)).skey == skey


def test_we_open_go_signed_checkpoints_and_sign_identically(go, tree):
    keys = go.ok([f"keygen {name}" for name in NAMES] + ["keygen other.example/key"])
    other_skey, other_vkey = keys.pop()
    requests, cases = [], []
    for name, (skey, vkey) in zip(NAMES, keys):
        for cp in _checkpoints(tree, name):
            requests += [f"sign {b64(cp.body())} {skey}", f"sign {b64(cp.body())} {skey} {other_skey}"]
            cases.append((cp, skey, vkey))
    replies = go.ok(requests)
    other = parse_vkey(other_vkey)
    for (cp, skey, vkey), (single,), (double,) in zip(cases, replies[0::2], replies[1::2]):
        single, double = unb64(single), unb64(double)
        verifier = parse_vkey(vkey)
        opened, note = open_checkpoint(single, [verifier], origin=cp.origin)
        assert opened == cp and note.text.encode() == cp.body()
        assert sign_checkpoint(cp, Signer.from_skey(skey)) == single
        # Two signatures: either key alone verifies, both verify together, and our signer
        # list produces Go's bytes.
        assert open_checkpoint(double, [verifier], origin=cp.origin)[0] == cp
        assert open_note(double, [other])[1] == [other]
        assert open_note(double, [other, verifier])[1] == [verifier, other]
        assert sign_note(cp.body().decode(), [Signer.from_skey(skey), Signer.from_skey(other_skey)]) == double
        assert parse_checkpoint(note.text) == cp
        with pytest.raises(VerificationFailed):
            open_note(flip(single, len(cp.origin) + 1), [verifier])


def test_we_verify_go_inclusion_proofs(go, tree):
    cases = inclusion_cases()
    replies = go.ok(go_log_requests(tree.records) + [f"proverecord {s} {i}" for i, s in cases])
    for (index, size), (hashes,) in zip(cases, replies[N + 1:]):
        go_proof = parse_hashlist(hashes)
        assert go_proof == proof.inclusion_proof(index, size, tree.get_node), (index, size)
        proof.verify_inclusion(tree.leaves[index], index, size, go_proof, tree.roots[size])
        if go_proof:
            with pytest.raises(VerificationFailed):
                proof.verify_inclusion(tree.leaves[index], index, size,
                                       [bitflip(go_proof[0], index)] + go_proof[1:], tree.roots[size])


def test_we_verify_go_consistency_proofs(go, tree):
    cases = consistency_cases()
    replies = go.ok(go_log_requests(tree.records) + [f"provetree {new} {old}" for old, new in cases]
                    + [f"treehash {size}" for size in EDGE_SIZES])
    for (old, new), (hashes,) in zip(cases, replies[N + 1:]):
        go_proof = parse_hashlist(hashes)
        assert go_proof == proof.consistency_proof(old, new, tree.get_node), (old, new)
        proof.verify_consistency(old, new, tree.roots[old], tree.roots[new], go_proof)
        if go_proof:
            with pytest.raises(VerificationFailed):
                proof.verify_consistency(old, new, tree.roots[old], tree.roots[new],
                                         go_proof[:-1] + [bitflip(go_proof[-1], new)])
    go_roots = [bytes.fromhex(h) for (h,) in replies[N + 1 + len(cases):]]
    assert go_roots == [tree.roots[size] for size in EDGE_SIZES]


# === end to end: a pactlog Log's offline artefacts, checked by Go ==========================


def test_go_verifies_a_pactlog_log_bundle_and_consistency_file(go, tmp_path, log_signer, make_entry, alice):
    from ledger.log import Log

    with Log.create(str(tmp_path / "log.db"), log_signer, clock=lambda: make_entry.time + 60) as log:
        datas = [make_entry(alice) for _ in range(13)]
        for data in datas[:5]:
            log.append(data)
        log.sign_checkpoint(log_signer)
        for data in datas[5:]:
            log.append(data)
        log.sign_checkpoint(log_signer)
        bundle = parse_bundle(log.bundle([0, 4, 7, 12]))
        consistency = parse_consistency_file(log.consistency_file(5, 13))
        root = log.root()

    requests = go_log_requests(datas) + ["treehash 13"]
    for p in bundle:
        requests += [f"checkpoint {b64(p.checkpoint_note)} {log_signer.vkey}",
                     f"recordhash {hexdata(p.extra)}"]
    for note in (consistency.old_note, consistency.new_note):
        requests.append(f"checkpoint {b64(note)} {log_signer.vkey}")
    replies = go.ok(requests)
    assert bytes.fromhex(replies[14][0]) == root

    checks = []
    for i, p in enumerate(bundle):
        (size, cp_root, *_), (leaf,) = replies[15 + 2 * i], replies[16 + 2 * i]
        assert (int(size), cp_root) == (13, root.hex()) and p.extra == datas[p.index]
        assert bytes.fromhex(leaf) == leaf_hash(p.extra)
        checks.append(f"checkrecord {size} {cp_root} {p.index} {leaf} {hashlist(p.hashes)}")
    (old_size, old_root, *_), (new_size, new_root, *_) = replies[-2:]
    assert (old_size, new_size, new_root) == ("5", "13", root.hex())
    checks.append(f"checktree {new_size} {new_root} {old_size} {old_root} {hashlist(consistency.hashes)}")
    assert go.run(checks) == ["ok"] * len(checks)
