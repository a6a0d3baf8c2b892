"""The log over SQLite: admission, tree maintenance, checkpoints, proofs and offline artefacts."""

from __future__ import annotations

import sqlite3

import pytest

from support import ORIGIN, T0, EntryFactory, dump_database, make_signer
from ledger import merkle, proof
from ledger.checkpoint import open_checkpoint
from ledger.errors import (BadKey, CorruptionError, EntryRejected, InvalidInput, LogLocked, MalformedError,
                           NotFound)
from ledger.log import Log
from ledger.policy import Policy
from ledger.verify import verify_bundle, verify_consistency_file


def fill(log: Log, make_entry: EntryFactory, signer, count: int, batch: int = 1000) -> list[bytes]:
    datas = [make_entry(signer) for _ in range(count)]
    log.append_many(datas, batch_size=batch)
    return datas


def test_append_assigns_consecutive_indexes_and_tree_matches_reference(log, make_entry, alice):
    datas = [make_entry(alice) for _ in range(5)]
    results = [log.append(d) for d in datas]
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert all(r.new for r in results)
    leaves = [merkle.leaf_hash(d) for d in datas]
    assert [r.leaf_hash for r in results] == leaves
    assert log.size == 5
    assert log.root() == merkle.root_from_leaf_hashes(leaves)


@pytest.mark.parametrize("batch", [1, 7, 64, 1000])
def test_every_historical_root_and_proof_matches_reference(tmp_path, log_signer, clock, alice, batch):
    make_entry = EntryFactory()
    with Log.create(str(tmp_path / "l.db"), log_signer, clock=clock) as log:
        datas = fill(log, make_entry, alice, 300, batch=batch)
    leaves = [merkle.leaf_hash(d) for d in datas]
    with Log.open(str(tmp_path / "l.db")) as log:
        for size in (0, 1, 2, 63, 64, 65, 127, 128, 129, 255, 256, 299, 300):
            root = merkle.root_from_leaf_hashes(leaves[:size])
            assert log.root(size) == root
            for index in {0, size // 2, size - 1} if size else ():
                p = log.inclusion_proof(index, size)
                proof.verify_inclusion(leaves[index], index, size, p, root)
        for old, new in [(0, 300), (1, 300), (64, 65), (100, 257), (128, 256), (299, 300), (300, 300)]:
            p = log.consistency_proof(old, new)
            proof.verify_consistency(old, new, merkle.root_from_leaf_hashes(leaves[:old]),
                                     merkle.root_from_leaf_hashes(leaves[:new]), p)


def test_reopened_log_continues_the_same_tree(tmp_path, log_signer, clock, alice):
    path = str(tmp_path / "l.db")
    make_entry = EntryFactory()
    datas = []
    for round_size in (1, 63, 2, 130, 1, 70):
        with (Log.create(path, log_signer, clock=clock) if not datas else Log.open(path, write=True, clock=clock)) as log:
            new = [make_entry(alice) for _ in range(round_size)]
            for d in new:
                log.append(d)
            datas += new
            assert log.root() == merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in datas])
    with Log.open(path) as log:
        assert log.size == len(datas)
        for i in range(0, len(datas), 17):
            assert log.entry_bytes(i) == datas[i]


def test_duplicate_submission_returns_existing_index(log, make_entry, alice):
    first = make_entry(alice)
    second = make_entry(alice)
    assert log.append(first).index == 0
    again = log.append(first)
    assert (again.index, again.new) == (0, False)
    results = log.append_many([second, second, first])
    assert [(r.index, r.new) for r in results] == [(1, True), (1, False), (0, False)]
    assert log.size == 2
    assert log.find(merkle.leaf_hash(second)) == 1
    assert log.find(b"\x00" * 32) is None


def test_cosigned_entry_is_admitted(log, make_entry, alice, bob):
    data = make_entry(alice, type="APPROVE", cosigners=[bob])
    assert log.append(data).new
    assert len(log.entry(0).signatures) == 2


# -- rejections: each with a reason and nothing stored changed -----------------------------------


def _tamper_signature(data: bytes) -> bytes:
    marker = b'"sig":"'
    at = data.index(marker) + len(marker)
    flipped = b"B" if data[at:at + 1] != b"B" else b"C"
    return data[:at] + flipped + data[at + 1:]


REJECTIONS = {
    "wrong_log": lambda f, a: EntryFactory("example.org/otherlog")(a),
    "bad_signature": lambda f, a: _tamper_signature(f(a)),
    "seq_not_increasing": lambda f, a: f(a, seq=1, body={"replayed": True}),
    "time_regression": lambda f, a: f(a, time=T0 - 1),
    "time_in_future": lambda f, a: f(a, time=T0 + 60 + 301),
    "too_large": lambda f, a: f(a, body={"pad": "x" * 60_000}).replace(b'"pad":"', b'"pad":"' + b"y" * 6_000),
    "non_canonical_json": lambda f, a: f(a).replace(b'{"signatures"', b'{ "signatures"'),
}


@pytest.mark.parametrize("reason", sorted(REJECTIONS))
def test_rejected_entries_leave_the_database_unchanged(tmp_path, log_signer, clock, alice, reason):
    path = str(tmp_path / "l.db")
    make_entry = EntryFactory()
    with Log.create(path, log_signer, clock=clock) as log:
        fill(log, make_entry, alice, 3)
        log.sign_checkpoint(log_signer)
    before = dump_database(path)
    bad = REJECTIONS[reason](make_entry, alice)
    with Log.open(path, write=True, clock=clock) as log:
        with pytest.raises((EntryRejected, MalformedError)) as info:
            log.append(bad)
        assert info.value.reason == reason
        assert info.value.exit_code == 2
        assert log.size == 3
    assert dump_database(path) == before


def test_future_time_within_skew_is_accepted(log, make_entry, alice):
    assert log.append(make_entry(alice, time=T0 + 60 + 300)).new


def test_failed_batch_rolls_back_only_its_own_batch(log, make_entry, alice):
    good = [make_entry(alice) for _ in range(5)]
    bad = make_entry(alice, seq=2, body={"replayed": True})
    with pytest.raises(EntryRejected) as info:
        log.append_many([*good, bad], batch_size=2)
    assert "entry #6" in info.value.message
    assert [r.index for r in info.value.appended] == [0, 1, 2, 3]
    assert log.size == 4
    # the in-memory tree was rolled back with the batch: appending continues consistently
    log.append(good[4])
    assert log.root() == merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in good])


# -- checkpoints ---------------------------------------------------------------------------------


def test_checkpoints_are_signed_stored_and_reused(log, make_entry, alice, log_signer):
    empty = log.sign_checkpoint(log_signer)
    cp, _ = open_checkpoint(empty, [log_signer.verifier], origin=ORIGIN)
    assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)
    fill(log, make_entry, alice, 10)
    note = log.sign_checkpoint(log_signer)
    assert log.sign_checkpoint(log_signer) == note
    cp, _ = open_checkpoint(note, [log_signer.verifier], origin=ORIGIN)
    assert (cp.size, cp.root) == (10, log.root())
    assert [size for size, _ in log.store.checkpoints()] == [0, 10]


def test_checkpoint_with_another_key_is_refused(log, make_entry, alice):
    with pytest.raises(BadKey):
        log.sign_checkpoint(make_signer(ORIGIN + "-impostor"))
    with pytest.raises(BadKey):
        log.sign_checkpoint(make_signer("example.org/other"))


def test_log_refuses_to_sign_over_an_altered_tree(tmp_path, log_signer, clock, alice):
    path = str(tmp_path / "l.db")
    make_entry = EntryFactory()
    with Log.create(path, log_signer, clock=clock) as log:
        fill(log, make_entry, alice, 10)
        log.sign_checkpoint(log_signer)
    # the node over leaves 0..7 (level 3), which every later root and consistency proof uses
    # (with 10 entries it sits in level 3's growing stripe)
    conn = sqlite3.connect(path)
    blob = conn.execute("SELECT hashes FROM edge WHERE level = 3").fetchone()[0]
    conn.execute("UPDATE edge SET hashes = ? WHERE level = 3", (bytes([blob[0] ^ 1]) + blob[1:],))
    conn.commit()
    conn.close()
    with Log.open(path, write=True, clock=clock) as log:
        log.append(make_entry(alice))
        with pytest.raises(CorruptionError):
            log.sign_checkpoint(log_signer)


# -- offline artefacts ---------------------------------------------------------------------------


def test_bundle_verifies_offline_and_old_bundle_extends_to_new_checkpoint(log, make_entry, alice, log_signer):
    fill(log, make_entry, alice, 20)
    log.sign_checkpoint(log_signer)
    policy = Policy.for_log(log_signer.vkey)
    bundle = log.bundle([3, 7])
    verified = verify_bundle(bundle, policy)
    assert [v.index for v in verified] == [3, 7]
    assert verified[0].entry.raw == log.entry_bytes(3)
    fill(log, make_entry, alice, 50)
    log.sign_checkpoint(log_signer)
    old, new = verify_consistency_file(log.consistency_file(20), policy)
    assert (old.size, new.size) == (20, 70)
    assert old.root == verified[0].checkpoint.root


def test_bundle_for_entry_not_yet_checkpointed_says_what_to_do(log, make_entry, alice, log_signer):
    fill(log, make_entry, alice, 2)
    log.sign_checkpoint(log_signer)
    fill(log, make_entry, alice, 1)
    with pytest.raises(InvalidInput) as info:
        log.bundle([2])
    assert "pactlog checkpoint" in info.value.hint


def test_proof_requests_out_of_range_are_bad_input(log, make_entry, alice):
    fill(log, make_entry, alice, 4)
    for call in (lambda: log.inclusion_proof(4, 4), lambda: log.inclusion_proof(0, 5),
                 lambda: log.consistency_proof(3, 2), lambda: log.root(5), lambda: log.entry(9)):
        with pytest.raises(InvalidInput):
            call()


# -- environment -----------------------------------------------------------------------------------


def test_second_writer_is_refused_and_readers_are_not(tmp_path, log_signer, clock, alice):
    path = str(tmp_path / "l.db")
    make_entry = EntryFactory()
    with Log.create(path, log_signer, clock=clock) as log:
        fill(log, make_entry, alice, 3)
        with pytest.raises(LogLocked) as info:
            Log.open(path, write=True)
        assert info.value.exit_code == 3
        with Log.open(path) as reader:
            assert reader.size == 3
    with Log.open(path, write=True) as log:  # released on close
        assert log.size == 3


def test_missing_database_is_reported(tmp_path):
    with pytest.raises(NotFound) as info:
        Log.open(str(tmp_path / "nope.db"))
    assert info.value.exit_code == 3
    assert "pactlog init" in info.value.hint


def test_creating_over_an_existing_database_is_refused(tmp_path, log_signer):
    path = str(tmp_path / "l.db")
    Log.create(path, log_signer).close()
    with pytest.raises(Exception) as info:
        Log.create(path, log_signer)
    assert getattr(info.value, "exit_code", None) == 3


# -- bulk submissions checked in worker processes ---------------------------------------------------


def test_parallel_admission_gives_the_sequential_outcome(tmp_path, log_signer, clock, alice, bob):
    from ledger.admission import PARALLEL_MIN_ENTRIES

    make_entry = EntryFactory()
    datas = [make_entry(alice if i % 3 else bob) for i in range(PARALLEL_MIN_ENTRIES + 700)]
    datas[1500] = datas[1499]  # a duplicate inside the submission
    bad_at = PARALLEL_MIN_ENTRIES + 300
    datas[bad_at] = _tamper_signature(datas[bad_at])
    outcomes = {}
    for workers in (1, 2):
        path = str(tmp_path / f"w{workers}.db")
        with Log.create(path, log_signer, clock=clock) as log:
            with pytest.raises(EntryRejected) as info:
                log.append_many(datas, batch_size=250, workers=workers)
            outcomes[workers] = (info.value.reason, info.value.message, log.size, log.root(),
                                 [(a.index, a.new) for a in info.value.appended])
    assert outcomes[1] == outcomes[2]
    reason, message, size, _, appended = outcomes[2]
    assert reason == "bad_signature" and f"entry #{bad_at + 1}" in message
    assert size == 2250  # 2,299 new entries before the bad one: the nine full batches of 250 are kept
    assert appended[1500] == (1499, False)
