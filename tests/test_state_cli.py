"""The query commands end to end, through subprocesses: state, balance, standing, access, pacts,
commitments, leaderboard and explain (with an offline bundle checked by `pactlog verify`)."""

from __future__ import annotations

import dataclasses
import fcntl
import time

import pytest

from support import CliRunner

from ledger.derived import Coalition
from ledger.log import Log
from test_derived import Signing, replay_as_of, story

ORIGIN = "example.org/coalition"


def shifted_story(epoch: int):
    """The story of test_derived, re-dated so that its day 0 starts at ``epoch`` (the log's clock
    is the wall clock: every entry must lie in the past)."""
    events = []
    for ev in story().events:
        moved = ev.time - story().genesis_body["epoch"] + epoch
        body = {**ev.body, "epoch": epoch} if ev.index == 0 else ev.body
        events.append(dataclasses.replace(ev, time=moved, body=body))
    return events


def make_log(run: CliRunner, *, checkpoint: bool = True) -> None:
    run("key", "generate", ORIGIN, "-o", "log.key")
    run("init", "--key", "log.key")
    run("policy", "-o", "trust.policy")
    today = int(time.time()) // 86_400 * 86_400
    signing = Signing(ORIGIN)
    (run.workdir / "story.jsonl").write_bytes(b"".join(signing.entry(ev) + b"\n"
                                                       for ev in shifted_story(today - 100 * 86_400)))
    run("append", "story.jsonl", "--quiet")
    if checkpoint:
        run("checkpoint", "--key", "log.key")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> CliRunner:
    runner = CliRunner(tmp_path_factory.mktemp("state"))
    make_log(runner)
    return runner


def in_process(run: CliRunner, method: str, *args, **kwargs):
    with Log.open(str(run.workdir / "log.db")) as log, Coalition.open(log, write=False) as coalition:
        return getattr(coalition, method)(*args, **kwargs)


def test_state_all_actors_and_one(run):
    data = run.json("state", "--as-of", "5")
    assert data["as_of"] == 5 and not data["projected"]
    assert data["actors"]["A"] == {**in_process(run, "actors", 5)["A"]}
    assert data["actors"]["A"]["level"] == 1 and data["actors"]["C"]["fines_outstanding"] == 10
    assert data["system"]["issued"] == 500 and data["monitors"]["M1"] == {"accredited": True}
    text = run("state", "--as-of", "5").stdout.decode()
    assert text.startswith("coalition as of day 5") and "\nA " in text and "system: BUFFER 70" in text
    one = run.json("state", "--actor", "B", "--as-of", "8")
    assert one["actor"] == "B" and one["breaches"][0]["stayed"] and one["liquid"] == 165
    assert run.json("state", "--as-of", "200")["projected"]


def test_state_digest_is_reproducible_and_equals_a_replay(run):
    first = run("state", "--digest", "--as-of", "9").stdout.decode().strip()
    with Log.open(str(run.workdir / "log.db")) as log:
        assert first == replay_as_of(log, 9).digest(9)
    assert run.json("state", "--digest", "--as-of", "9")["digest"] == first
    assert run("state", "--rebuild", "--digest", "--as-of", "9", "--quiet").stdout.decode().strip() == first
    latest = run.json("state", "--digest")
    assert latest["as_of"] == 41 and len(latest["digest"]) == 64


def test_balance_standing_access(run):
    balance = run.json("balance", "A", "--as-of", "5")
    assert (balance["liquid"], balance["locked"], balance["retired"], balance["fines_outstanding"]) == (248, 10, 0, 0)
    assert "A as of day 5" in run("balance", "A", "--as-of", "5").stdout.decode()
    standing = run.json("standing", "A", "--as-of", "10")
    assert standing["level"] == 1 and standing["sanction_window"] == 20
    assert standing["breaches"] == [{"commitment": "c1", "breach_day": 5, "status": "BREACHED", "stayed": False,
                                     "appeal": None, "counted": True}]
    assert "c1: breached on day 5, counts" in run("standing", "A", "--as-of", "10").stdout.decode()
    stayed = run("standing", "B", "--as-of", "8").stdout.decode()
    assert "stayed by an appeal, appeal PENDING" in stayed
    access = run.json("access", "C")
    assert access == {**access, "access": False, "holdings": 0, "access_min": 50}
    assert "access denied" in run("access", "C").stdout.decode()


def test_pacts_commitments_leaderboard(run):
    pacts = run.json("pacts", "--as-of", "8")["pacts"]
    assert pacts["p1"]["status"] == "OPEN" and pacts["p2"]["status"] == "ACTIVE"
    assert run.json("pacts", "--as-of", "9")["pacts"]["p1"]["status"] == "FAILED"
    assert "p2    B        ACTIVE" in run("pacts", "--as-of", "8").stdout.decode()
    mine = run.json("commitments", "--actor", "C", "--as-of", "6")
    assert list(mine["commitments"]) == ["c3"] and mine["commitments"]["c3"]["status"] == "VOIDED"
    everything = run.json("commitments", "--as-of", "4")["commitments"]
    assert {cid: c["status"] for cid, c in everything.items()} == {"c1": "OPEN", "c2": "BREACHED", "c3": "BREACHED"}
    board = run.json("leaderboard")["leaderboard"]
    assert [(line["rank"], line["actor"], line["kept"]) for line in board] == [
        (1, "A", 0), (2, "B", 0), (3, "C", None), (4, "D", None)]
    table = run("leaderboard").stdout.decode().splitlines()
    assert table[1].split() == ["rank", "actor", "fulfilled", "breached", "voided", "kept"]
    assert table[4].split() == ["3", "C", "0", "0", "1", "n/a"]


def test_explain_with_a_bundle_that_pactlog_verify_accepts(run):
    data = run.json("explain", "access", "B", "--as-of", "9", "--bundle", "access-b.tlog-proof")
    assert data["explanation"]["value"] is True and data["cited"] == [0, 9, 13, 14, 22]
    verified = run.json("verify", "access-b.tlog-proof", "--policy", "trust.policy")
    assert [e["index"] for e in verified["entries"]] == data["cited"]
    text = run("explain", "level", "A", "--as-of", "10", "--bundle", "level-a.tlog-proof").stdout.decode()
    assert "breached by default" in text and "wrote level-a.tlog-proof" in text
    run("verify", "level-a.tlog-proof", "--policy", "trust.policy")
    assert run.json("explain", "entry", "3")["explanation"]["value"]["effective"] is not None


def test_a_busy_cache_still_answers(run):
    with open(run.workdir / "log.db.derived.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run.json("balance", "B", "--as-of", "8")["liquid"] == 165


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("args,reason", [
    (("balance", "Nobody"), "unknown_actor"),
    (("standing", "M1"), "unknown_actor"),
    (("commitments", "--actor", "Nobody"), "unknown_actor"),
    (("state", "--actor", "Nobody"), "unknown_actor"),
    (("balance", "A", "--as-of", "yesterday"), "bad_day"),
    (("state", "--as-of", "2026-02-30"), "bad_day"),
    (("leaderboard", "--as-of", "007"), "bad_day"),
    (("pacts", "--as-of", "-1"), "before_start"),
    (("explain", "nonsense", "A"), "unknown_fact"),
    (("explain", "entry", "x"), "unknown_fact"),
    (("explain", "commitment", "nope"), "unknown_fact"),
])
def test_bad_input_exits_2(run, args, reason):
    assert run.json(*args, code=2)["reason"] == reason


def test_explain_bundle_before_a_checkpoint_says_to_sign_one(tmp_path):
    run = CliRunner(tmp_path)
    make_log(run, checkpoint=False)
    done = run("explain", "balance", "A", "--bundle", "b.tlog-proof", code=2)
    assert "pactlog checkpoint" in done.stderr.decode()
    assert not (tmp_path / "b.tlog-proof").exists()


def test_logs_that_are_not_coalition_logs(tmp_path):
    run = CliRunner(tmp_path)
    run("key", "generate", ORIGIN, "-o", "log.key")
    run("init", "--key", "log.key")
    assert run.json("state", code=2)["reason"] == "no_genesis"          # empty
    run("key", "generate", "lab.example", "-o", "lab.key")
    note = run("sign", "--key", "lab.key", "--type", "NOTE", "--body", "{}").stdout
    (tmp_path / "note.json").write_bytes(note)
    run("append", "note.json")
    failed = run.json("leaderboard", code=2)
    assert failed["reason"] == "no_genesis" and "GENESIS" in failed["message"]
    assert run.json("state", "--db", "missing.db", code=3)["reason"] == "not_found"
