"""The `pactlog` command end to end, through subprocesses, as a user on a fresh machine runs it."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import time

import pytest

from ledger.keys import load_signer
from support import CliRunner, EntryFactory, dump_database, make_signer, pactlog_command

ORIGIN = "example.org/clilog"


@pytest.fixture
def run(tmp_path) -> CliRunner:
    return CliRunner(tmp_path)


def setup_log(run: CliRunner) -> None:
    run("key", "generate", ORIGIN, "-o", "log.key")
    run("init", "--key", "log.key")
    run("policy", "-o", "trust.policy")


def test_keys_init_sign_append_checkpoint_prove_verify_then_10000_more(run, tmp_path):
    setup_log(run)
    assert (tmp_path / "log.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "trust.policy").read_text().startswith("log " + ORIGIN + "+")

    passphrase = {"PACTLOG_PASSPHRASE": "correct horse"}
    key = run.json("key", "generate", "lab-a.example", "-o", "lab-a.key", "--encrypt", env=passphrase)
    assert key["encrypted"] and key["vkey"].startswith("lab-a.example+")

    signed = run("sign", "--key", "lab-a.key", "--type", "COMMIT",
                 "--body", '{"id": "c1", "deadline": 30, "text": "red-team before release"}', env=passphrase).stdout
    second = run("sign", "--key", "lab-a.key", "--type", "COMMIT", "--body", '{"id": "c2"}', env=passphrase).stdout
    appended = run.json("append", input=signed + second)
    assert [e["index"] for e in appended["entries"]] == [0, 1] and appended["appended"] == 2
    again = run.json("append", input=signed)  # idempotent
    assert again["entries"] == [{"index": 0, "hash": appended["entries"][0]["hash"], "new": False}]

    cp = run.json("checkpoint", "--key", "log.key")
    assert cp["size"] == 2 and cp["note"].startswith(ORIGIN + "\n2\n")
    run("prove", "0", "-o", "entry0.tlog-proof")
    bundle = (tmp_path / "entry0.tlog-proof").read_bytes()
    assert bundle.startswith(b"c2sp.org/tlog-proof@v1\nextra ")

    verified = run.json("verify", "entry0.tlog-proof", "--policy", "trust.policy")
    assert verified["entries"][0]["index"] == 0 and verified["checkpoint_size"] == 2
    shown = run.json("show", appended["entries"][0]["hash"])
    assert shown["index"] == 0 and shown["entry"]["statement"]["body"]["id"] == "c1"

    # 10,000 more entries from another actor, signed offline in one go and appended from a file
    factory, actor = EntryFactory(ORIGIN), make_signer("lab-b.example")
    factory.time = int(time.time())
    (tmp_path / "more.jsonl").write_bytes(b"".join(factory(actor) + b"\n" for _ in range(10_000)))
    more = run.json("append", "more.jsonl", "--quiet")
    assert more["appended"] == 10_000 and more["size"] == 10_002
    run("checkpoint", "--key", "log.key")
    run("consistency", "2", "-o", "grown.proof")
    extended = run.json("verify", "entry0.tlog-proof", "--policy", "trust.policy", "--consistency", "grown.proof")
    assert extended["extended_to"]["size"] == 10_002
    run.json("verify", "grown.proof", "--policy", "trust.policy")
    run("prove", "5000", "-o", "e5000.tlog-proof")
    assert run.json("verify", "e5000.tlog-proof", "--policy", "trust.policy")["checkpoint_size"] == 10_002

    audit = run.json("audit", "--quiet")
    assert audit["size"] == 10_002 and audit["checkpoints"] == 2
    assert run.json("info")["size"] == 10_002
    assert len(run.json("tail", "-n", "3")["entries"]) == 3
    assert len(run.json("checkpoint", "--list")["checkpoints"]) == 2


def test_every_command_speaks_json(run):
    setup_log(run)
    run.json("key", "show", "log.key.pub")
    run.json("info")
    run.json("policy")
    run.json("checkpoint", "--key", "log.key")
    run.json("checkpoint")
    run.json("tail")
    run.json("audit")
    # errors too: machine-readable reason and the documented exit code
    err = run.json("show", "7", code=2)
    assert err["reason"] == "index_out_of_range"
    err = run.json("info", "--db", "missing.db", code=3)
    assert err["reason"] == "not_found"


# -- bad input: a clear message, a non-zero exit, the database unchanged ------------------------


@pytest.fixture
def populated(run, tmp_path):
    setup_log(run)
    run("key", "generate", "lab-a.example", "-o", "lab-a.key")
    for i in range(3):
        run("sign", "--key", "lab-a.key", "--type", "NOTE", "--body", f'{{"n": {i}}}', "-o", f"e{i}.json")
    run("append", "e0.json", "e1.json", "e2.json")
    run("checkpoint", "--key", "log.key")
    run("prove", "1", "-o", "b.tlog-proof")
    return tmp_path


def _signed_entry(tmp_path, **changes) -> bytes:
    """An entry signed with the CLI-made key of lab-a (so sequence numbers are shared)."""
    factory = EntryFactory(ORIGIN)
    factory.time = int(time.time())
    return factory(load_signer(str(tmp_path / "lab-a.key")), **changes)


BAD_APPENDS = {
    "malformed": (b"{not json\n", "not valid json"),
    "non_canonical": (b'{"statement": {}, "signatures": []}\n', "canonical"),
    "replay_lower_seq": (None, "sequence number"),
    "oversized": (None, "the limit is"),
    "bad_signature": (None, "signature"),
}


@pytest.mark.parametrize("case", sorted(BAD_APPENDS))
def test_bad_entries_are_rejected_and_nothing_changes(run, populated, case):
    data, words = BAD_APPENDS[case]
    if case == "replay_lower_seq":
        data = _signed_entry(populated, seq=2, body={"other": True}) + b"\n"
    elif case == "oversized":
        big = _signed_entry(populated, seq=9, body={"pad": "x" * 60_000})
        data = big.replace(b'"pad":"', b'"pad":"' + b"y" * 6_000) + b"\n"
    elif case == "bad_signature":
        good = _signed_entry(populated, seq=9)
        at = good.index(b'"sig":"') + 8
        data = good[:at] + (b"A" if good[at:at + 1] != b"A" else b"B") + good[at + 1:] + b"\n"
    before = dump_database(populated / "log.db")
    done = run("append", input=data, code=2)
    assert words in done.stderr.decode().lower()
    assert "error:" in done.stderr.decode()
    assert dump_database(populated / "log.db") == before


def test_proof_for_index_beyond_size_is_bad_input(run, populated):
    assert "not in the log" in run("prove", "3", code=2).stderr.decode()


def test_truncated_and_altered_bundles_fail(run, populated):
    bundle = (populated / "b.tlog-proof").read_bytes()
    (populated / "cut.tlog-proof").write_bytes(bundle[: len(bundle) // 2])
    assert run("verify", "cut.tlog-proof", "--policy", "trust.policy", code=2).returncode == 2
    lines = bundle.split(b"\n")
    hash_line = 3  # header, extra, index, then the first proof hash
    flipped = bytearray(lines[hash_line])
    flipped[0] = ord("A") if flipped[0] != ord("A") else ord("B")
    lines[hash_line] = bytes(flipped)
    (populated / "alt.tlog-proof").write_bytes(b"\n".join(lines))
    done = run.json("verify", "alt.tlog-proof", "--policy", "trust.policy", code=1)
    assert done["reason"]


def test_checkpoint_from_another_log_or_key_fails(run, populated, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    run2 = CliRunner(other)
    run2("key", "generate", "example.org/otherlog", "-o", "log.key")
    run2("init", "--key", "log.key")
    run2("checkpoint", "--key", "log.key")
    cp = run2("checkpoint").stdout
    (populated / "other.cp").write_bytes(cp)
    assert run("verify", "other.cp", "--policy", "trust.policy", code=1).returncode == 1
    # same origin name, impostor key
    run2b = CliRunner(tmp_path / "imp")
    (tmp_path / "imp").mkdir()
    run2b("key", "generate", ORIGIN, "-o", "log.key")
    run2b("init", "--key", "log.key")
    run2b("checkpoint", "--key", "log.key")
    (populated / "imp.cp").write_bytes(run2b("checkpoint").stdout)
    assert run.json("verify", "imp.cp", "--policy", "trust.policy", code=1)["reason"]


def test_signing_a_checkpoint_with_a_wrong_key_is_refused(run, populated):
    before = dump_database(populated / "log.db")
    run("checkpoint", "--key", "lab-a.key", code=2)
    assert dump_database(populated / "log.db") == before


def test_wrong_passphrase_is_bad_input(run, tmp_path):
    run("key", "generate", "k.example", "-o", "k.key", "--encrypt", env={"PACTLOG_PASSPHRASE": "right"})
    done = run("sign", "--key", "k.key", "--type", "NOTE", "--log", ORIGIN, "--seq", "1",
               env={"PACTLOG_PASSPHRASE": "wrong"}, code=2)
    assert "passphrase" in done.stderr.decode()
    done = run("sign", "--key", "k.key", "--type", "NOTE", "--log", ORIGIN, "--seq", "1", code=2)
    assert "PACTLOG_PASSPHRASE" in done.stderr.decode()


def test_missing_and_unreadable_databases_are_environment_errors(run, tmp_path):
    assert "pactlog init" in run("info", code=3).stderr.decode()
    (tmp_path / "garbage.db").write_bytes(b"this is not a database" * 100)
    assert "not a database" in run("info", "--db", "garbage.db", code=3).stderr.decode()


def test_second_concurrent_writer_is_refused(run, populated):
    import fcntl

    with open(populated / "log.db.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = run("append", "e0.json", code=3)
    assert "another process" in done.stderr.decode()


def test_flipped_byte_in_database_is_found_by_audit(run, populated):
    run("audit")
    db = populated / "log.db"
    # find the stored bytes of entry 1's signature (unique to it) and flip one inside them
    conn = sqlite3.connect(db)
    data = conn.execute("SELECT data FROM entries WHERE idx = 1").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = bytearray(db.read_bytes())
    signature = data[data.index(b'"sig":"') + 7:][:40]
    at = raw.find(signature)
    assert at > 0 and raw.find(signature, at + 1) == -1
    raw[at + 5] ^= 0x01
    db.write_bytes(bytes(raw))
    done = run.json("audit", code=1)
    assert done["first_bad_index"] == 1


def test_usage_errors_exit_2(run):
    assert run("prove", code=2).returncode == 2
    assert run("no-such-command", code=2).returncode == 2


def test_demo_runs_every_step(run, tmp_path):
    result = run.json("demo", "--core", "--dir", str(tmp_path / "demo"))
    steps = result["steps"]
    assert [s["exit_code"] for s in steps] == [0] * len(steps)
    verified = [s for s in steps if s["command"][1] == "verify"]
    assert verified[-1]["result"]["extended_to"]["size"] == 1002
    assert steps[-1]["result"]["ok"] and steps[-1]["result"]["size"] == 1002


def _stderr_on_a_terminal(run: CliRunner, *args: str) -> str:
    """Run `pactlog` with its stderr on a pseudo-terminal (stdout piped); what the terminal showed."""
    master, slave = pty.openpty()
    try:
        done = subprocess.run([*pactlog_command(), *args], cwd=run.workdir, env=run.env, stdout=subprocess.PIPE,
                              stderr=slave, stdin=subprocess.DEVNULL, timeout=300)
        os.close(slave)
        slave = -1
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:        # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert done.returncode == 0, (args, done.returncode, shown[-2000:])
    return shown.decode()


def test_long_work_shows_progress_on_a_terminal_only(run, tmp_path):
    setup_log(run)
    factory, actor = EntryFactory(ORIGIN), make_signer("lab-b.example")
    factory.time = int(time.time())
    (tmp_path / "many.jsonl").write_bytes(b"".join(factory(actor) + b"\n" for _ in range(3000)))
    shown = _stderr_on_a_terminal(run, "append", "many.jsonl")
    assert "appended: 3,000" in shown and "/s)" in shown
    shown = _stderr_on_a_terminal(run, "audit")
    assert "audited: 3,000/3,000" in shown
    assert "audited" not in _stderr_on_a_terminal(run, "audit", "--quiet")
    assert "audited" not in run("audit").stderr.decode()          # piped: no progress either
