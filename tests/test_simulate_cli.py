"""`pactlog simulate` and `pactlog demo` end to end, through subprocesses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support import CliRunner, dump_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "vectors" / "scenarios"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


@pytest.fixture
def run(tmp_path) -> CliRunner:
    return CliRunner(tmp_path)


def test_simulate_json_gives_the_scenario_known_answers(run):
    result = run.json("simulate", str(EXAMPLES / "small-coalition.json"))
    expected = EXPECTED["scenarios"]["small-coalition.json"]
    assert result["db"] is None and result["size"] == expected["size"] == len(result["outcomes"])
    assert result["final"] == expected["final"]
    ineffective = {str(o["index"]): [o["code"], o["sub"]] for o in result["outcomes"] if not o["effective"]}
    assert ineffective == expected["ineffective"]
    assert {str(d["as_of"]): d["digest"] for d in [*result["states"], *result["digests"]]} == expected["digests"]
    assert result["checkpoint"].startswith(f"small.pactlog.example/log\n{expected['size']}\n")
    assert result["cast"]["A#1"] == {"name": "A", "role": "actor", "generation": 1,
                                     "vkey": EXPECTED["keys"][1]["vkey"]}
    assert [e["fact"] for e in result["explanations"]] == [["balance", "B"], ["incident", "p1", "i1", "B"]]
    assert result["states"][1]["projected"] and not result["states"][0]["projected"]


def test_simulate_text_lists_outcomes_states_and_explanations(run):
    text = run("simulate", str(EXAMPLES / "small-coalition.json")).stdout.decode()
    assert "#12   day 3    TRANSFER" in text and "INVALID_AMOUNT" in text and "WRONG_ROLE" in text
    assert "state as of day 40 (projected)" in text and "balance B as of day 25" in text
    assert f"final digest (day 25): {EXPECTED['scenarios']['small-coalition.json']['final']['digest']}" in text


def test_simulate_keep_writes_a_log_that_proves_offline_and_keys_to_continue(run, tmp_path):
    result = run.json("simulate", str(EXAMPLES / "small-coalition.json"), "--keep", "kept")
    kept = tmp_path / "kept"
    assert result["db"] == str(Path("kept") / "pactlog.db") and result["kept"] == "kept"
    assert (kept / "keys" / "A#1.key").stat().st_mode & 0o777 == 0o600
    assert (kept / "keys" / "G1.key.pub").read_text() == result["cast"]["G1"]["vkey"] + "\n"
    run("prove", "5", "12", "--db", "kept/pactlog.db", "-o", "claim.tlog-proof")
    verified = run.json("verify", "claim.tlog-proof", "--policy", "kept/trust.policy")
    assert [e["index"] for e in verified["entries"]] == [5, 12] and verified["checkpoint_size"] == result["size"]
    # the story goes on by hand with the kept keys
    more = run.json("claim", "--id", "a9", "--amount", "7", "--key", "kept/keys/A#1.key", "--day", "26",
                    "--db", "kept/pactlog.db")
    assert more["index"] == result["size"] and more["effective"] and more["signers"] == ["A"]


def test_simulate_never_touches_an_existing_database_or_directory(run, tmp_path):
    scenario = str(EXAMPLES / "rule-change.json")
    run("simulate", scenario, "--db", "sim.db")
    before = dump_database(tmp_path / "sim.db")
    refused = run.json("simulate", scenario, "--db", "sim.db", code=2)
    assert refused["reason"] == "file_exists"
    assert dump_database(tmp_path / "sim.db") == before
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert run.json("simulate", scenario, "--keep", "full", code=2)["reason"] == "file_exists"
    assert os.listdir(tmp_path / "full") == ["notes.txt"]
    assert run.json("simulate", scenario, "--keep", "k", "--db", "x.db", code=2)["reason"] == "usage"


@pytest.mark.parametrize("edit, words", [
    (lambda s: s["entries"][1].update(day=0.5), "entries[1].day"),
    (lambda s: s["entries"][1].update(by="Z"), "unknown signer 'Z'"),
    (lambda s: s["entries"][7].update(day=1), "comes before the previous entry's day"),
    (lambda s: s.update(requests=[{"explain": [["level", "nobody"], 3]}]), "cannot explain"),
])
def test_bad_scenarios_exit_2_and_write_nothing(run, tmp_path, edit, words):
    scenario = json.loads((EXAMPLES / "rule-change.json").read_text())
    edit(scenario)
    (tmp_path / "bad.json").write_text(json.dumps(scenario))
    refused = run.json("simulate", "bad.json", "--keep", "out", code=2)
    assert refused["reason"] == "bad_scenario" and words in refused["message"]
    assert not (tmp_path / "out").exists()
    text = run("simulate", "bad.json", code=2).stderr.decode()
    assert text.startswith("error: ") and "hint: " in text


def test_demo_shows_a_leaderboard_a_standing_and_verifies_its_explanation_offline(run, tmp_path):
    result = run.json("demo", "--dir", "demo")
    assert [line["actor"] for line in result["leaderboard"]] == ["aurora", "borealis", "cygnus", "deneb"]
    assert result["standing"]["actor"] == "deneb" and result["standing"]["level"] == 2
    assert not result["standing"]["access"] and result["standing"]["fines_outstanding"] == 56
    assert result["final_digest"] == EXPECTED["scenarios"]["demo-coalition.json"]["final"]["digest"]
    verified = result["verified"]
    assert [e["index"] for e in verified["entries"]] == result["cited"] and len(result["cited"]) >= 3
    assert verified["checkpoint_size"] == result["size"]
    assert ["pactlog", "verify", result["bundle"], "--policy", result["policy"]] in result["commands"]
    # the files the demo leaves are the ones its commands name, and they verify again by hand
    again = run.json("verify", result["bundle"], "--policy", result["policy"])
    assert again["entries"] == verified["entries"]
    rerun = run.json("simulate", result["scenario"])
    assert rerun["final"]["digest"] == result["final_digest"]


def test_demo_text_prints_the_commands_and_refuses_a_used_directory(run, tmp_path):
    text = run("demo", "--dir", "d").stdout.decode()
    for command in ("$ pactlog simulate", "$ pactlog leaderboard", "$ pactlog standing deneb",
                    "$ pactlog explain level deneb", "$ pactlog verify"):
        assert command in text
    assert "verified: " in text and "demo complete" in text
    assert run.json("demo", "--dir", "d", code=2)["reason"] == "usage"
