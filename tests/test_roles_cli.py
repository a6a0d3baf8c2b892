"""The role commands end to end: a coalition's story made by separate `pactlog` invocations with
separate key files derives the same state digest as the same story run through `simulate`
(issue 4's CLI end-to-end test), and bad input is refused before anything is logged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.events import events_of
from ledger.log import Log
from ledger.rules import replay
from support import dump_database
from support import CliRunner
from test_simulate_cli import EXAMPLES

STORY = EXAMPLES / "small-coalition.json"
COSIGNED = 2  # this entry is signed by one governor with -o, co-signed with `sign --cosign`, then `submit`ted


@pytest.fixture
def run(tmp_path) -> CliRunner:
    return CliRunner(tmp_path)


def digest_of(db: Path, as_of: int) -> str:
    """The canonical state digest of a log (library replay: the derived-state command is another module's)."""
    with Log.open(str(db)) as log:
        return replay(events_of(log.entries()), track=False).digest(as_of)


def command_for(item: dict, keys: Path) -> list[str]:
    """The role command that makes this scenario entry (options exactly the body's fields); the
    actor options are left out where the signer is that actor, so the defaults are used too."""
    body, by = item["body"], item["by"] if isinstance(item["by"], list) else [item["by"]]
    me = by[0].split("#")[0]
    own = lambda option, name: [] if name == me else [option, name]  # noqa: E731
    kind = item["type"]
    if kind == "APPROVE":
        proposal = body["proposal"]
        if proposal["action"] == "ACCREDIT":
            argv = ["govern", "approve", "accredit", proposal["monitor"]]
        elif proposal["action"] == "DECIDE":
            argv = ["govern", "approve", "decide", proposal["commitment"], proposal["decision"].lower()]
        elif proposal["action"] == "ADOPT":
            argv = ["govern", "approve", "adopt", "--version", str(proposal["version"]),
                    "--effective-day", str(proposal["effective_day"])]
            argv += [arg for key, value in proposal["changes"].items() for arg in ("--change", f"{key}={json.dumps(value)}")]
        elif proposal["action"] == "ADMIT":
            argv = ["govern", "approve", "admit", proposal["role"], proposal["name"],
                    str(keys / f"{proposal['key']['$vkey']}.key.pub")]
        elif proposal["action"] == "OMBUD":
            argv = ["govern", "approve", "ombud", proposal["monitor"]]
        else:
            argv = ["govern", "approve", "proposal", json.dumps(proposal)]
    elif kind == "CONFLICT":
        argv = ["conflict", "--actor", body["actor"], *own("--monitor", body["monitor"])]
    elif kind == "CLAIM":
        argv = ["claim", "--id", body["id"], "--amount", str(body["amount"]), *own("--actor", body["actor"])]
    elif kind == "VERIFY":
        argv = ["verify-claim", body["claim"], "--amount", str(body["amount"])]
    elif kind == "TRANSFER":
        argv = ["transfer", "--to", body["to"], f"--amount={body['amount']}", *own("--from", body["from"])]
    elif kind == "RETIRE":
        argv = ["retire", "--amount", str(body["amount"]), *own("--actor", body["actor"])]
    elif kind == "COMMIT":
        argv = ["commit", "--id", body["id"], "--deadline", str(body["deadline"]), *own("--actor", body["actor"])]
    elif kind == "ATTEST":
        argv = ["attest", body["commitment"], body["verdict"].lower()]
    elif kind == "APPEAL":
        argv = ["appeal", body["commitment"]]
    elif kind == "PACT":
        argv = ["pact", "create", "--id", body["id"], "--min-count", str(body["min_count"]),
                "--min-weight-pct", str(body["min_weight_pct"]), "--stake", str(body["stake"]),
                "--bonus", str(body["bonus"]), "--open-until", str(body["open_until"]), "--delay", str(body["delay"]),
                "--retention", str(body["retention"]), *own("--sponsor", body["sponsor"])]
        argv += [arg for name, weight in body["members"].items() for arg in ("--member", f"{name}={weight}")]
    elif kind in ("JOIN", "WITHDRAW"):
        argv = ["pact", kind.lower(), body["pact"], *own("--actor", body["actor"])]
    elif kind == "SELF_REPORT":
        argv = ["report", "--metric", body["metric"], "--value", str(body["value"]), *own("--actor", body["actor"])]
    elif kind == "AUDIT":
        argv = ["audit-metric", body["actor"], "--metric", body["metric"], "--value", str(body["value"])]
    elif kind == "INCIDENT":
        argv = ["incident", "--pact", body["pact"], "--id", body["id"], "--actor", body["actor"],
                "--damages", str(body["damages"])]
    elif kind == "ROTATE_KEY":
        argv = ["rotate-key", "--new-key", str(keys / f"{body['new_key']['$vkey']}.key.pub")]
    elif kind == "EVIDENCE":  # the evidence stays in a file; only its hash is logged
        path = keys.parent / f"evidence-{body['id']}.txt"
        path.write_text(body["digest"]["$sha256"])
        argv = ["evidence", "commit", "--id", body["id"], "--file", str(path), "--label", body["label"],
                *own("--actor", body["actor"])]
    elif kind == "EVIDENCE_CHECK":
        argv = ["evidence", "check", body["evidence"]]
    elif kind == "REVEAL":
        argv = ["evidence", "reveal", body["evidence"], "--content", body["content"]]
    elif kind == "WHISTLE":
        path = keys.parent / f"whistle-{body['id']}.txt"
        path.write_text(body["evidence"]["$sha256"])
        reporter, salt = body["reporter"]["$sha256"].split("\n")
        argv = ["whistle", "relay", "--id", body["id"], "--about", body["about"], "--evidence-file", str(path),
                "--reporter-name", reporter, "--salt", salt]
    elif kind == "WHISTLE_REVEAL":
        argv = ["whistle", "reveal", body["whistle"], "--reporter", body["reporter"], "--salt", body["salt"],
                "--content", body["content"]]
    elif kind == "EXIT":
        argv = ["exit", *own("--name", body["name"])]
    else:
        raise AssertionError(f"no command for {kind}")
    return [*argv, *[arg for ref in by for arg in ("--key", str(keys / f"{ref}.key"))], "--day", str(item["day"])]


def start_coalition(run: CliRunner, tmp_path: Path, story_path: Path = STORY) -> tuple[dict, Path]:
    """Keys from the story's seed (via simulate --keep), a fresh log with its own key, the genesis."""
    simulated = run.json("simulate", str(story_path), "--keep", "sim")
    keys = tmp_path / "sim" / "keys"
    run("key", "generate", "cli.pactlog.example/log", "-o", "log.key")
    run("init", "--key", "log.key")
    story = json.loads(story_path.read_text())
    cast = story["cast"]
    charter = {"epoch": story.get("epoch", 1767225600),
               **{role: {name: f"sim/keys/{name}.key.pub" for name in cast[role]}
                  for role in ("governors", "actors", "monitors")}}
    if "ruleset" in story:
        charter["ruleset"] = {"version": 1, "effective_day": 0, "changes": story["ruleset"].get("changes", {}),
                              **({"extensions": story["ruleset"]["extensions"]} if "extensions" in story["ruleset"] else {})}
    (tmp_path / "charter.json").write_text(json.dumps(charter))
    governors = [arg for name in cast["governors"] for arg in ("--key", str(keys / f"{name}.key"))]
    genesis = run.json("genesis", "charter.json", *governors, "--day", "0")
    assert genesis["index"] == 0 and genesis["effective"] and genesis["signers"] == cast["governors"]
    return simulated, keys


def test_the_story_by_hand_gives_the_digest_of_the_story_simulated(run, tmp_path):
    simulated, keys = start_coalition(run, tmp_path)
    story = json.loads(STORY.read_text())
    for number, item in enumerate(story["entries"], start=1):
        argv = command_for(item, keys)
        if number == COSIGNED:
            first, second = argv.index("--key"), argv.index("--key", argv.index("--key") + 1)
            cosigner = argv[second + 1]
            argv = argv[:second] + argv[second + 2:]
            signed = run.json(*argv, "-o", "approval.json")
            assert signed["appended"] is False and signed["index"] is None
            run("sign", "--cosign", "approval.json", "--key", cosigner, "-o", "approval2.json")
            result = run.json("submit", "approval2.json")["entries"][0]
            assert first < second
        else:
            result = run.json(*argv)
        expected = simulated["outcomes"][number]
        assert (result["index"], result["effective"], result["code"], result["sub"]) == \
               (number, expected["effective"], expected["code"], expected["sub"]), (item, result)
    for answer in simulated["digests"]:
        assert digest_of(tmp_path / "log.db", answer["as_of"]) == answer["digest"]
    final = simulated["final"]
    assert digest_of(tmp_path / "log.db", final["as_of"]) == final["digest"]
    assert digest_of(tmp_path / "log.db", 40) == simulated["states"][1]["digest"]  # a projection, too
    again = run.json("submit", "approval2.json")["entries"][0]    # already logged: judged as its prefix did
    expected = simulated["outcomes"][COSIGNED]
    assert again["appended"] is False
    assert (again["index"], again["effective"], again["code"]) == (COSIGNED, expected["effective"], expected["code"])
    assert digest_of(tmp_path / "log.db", final["as_of"]) == final["digest"]


def test_the_extension_commands_by_hand_give_the_digest_of_the_extensions_example(run, tmp_path):
    story_path = EXAMPLES / "extensions.json"
    simulated, keys = start_coalition(run, tmp_path, story_path)
    story = json.loads(story_path.read_text())
    for number, item in enumerate(story["entries"], start=1):
        expected = simulated["outcomes"][number]
        if expected["code"] == "MALFORMED":  # role commands refuse these: log it the raw way, as it is
            body = json.dumps(item["body"])
            run("sign", "--key", str(keys / f"{item['by']}.key"), "--type", item["type"], "--body", body,
                "--time", str(story.get("epoch", 1767225600) + item["day"] * 86400 + 43200), "-o", "raw.json")
            result = run.json("submit", "raw.json")["entries"][0]
        else:
            result = run.json(*command_for(item, keys))
        assert (result["index"], result["code"]) == (number, expected["code"]), (item, result)
    final = simulated["final"]
    assert digest_of(tmp_path / "log.db", final["as_of"]) == final["digest"]


def test_outcomes_are_reported_with_names_and_ineffective_entries_are_logged(run, tmp_path):
    _, keys = start_coalition(run, tmp_path)
    key = lambda name: str(keys / f"{name}.key")  # noqa: E731
    negative = run.json("claim", "--id", "c1", "--amount", "-5", "--key", key("A"), "--day", "1")
    assert negative["index"] == 1 and not negative["effective"] and negative["code"] == "INVALID_AMOUNT"
    assert negative["body"] == {"actor": "A", "id": "c1", "amount": -5} and negative["signers"] == ["A"]
    text = run("claim", "--id", "c2", "--amount", "0", "--key", key("A"), "--day", "1").stdout.decode()
    assert text.startswith("#2 CLAIM by A (day 1): logged, ineffective: INVALID_AMOUNT")
    assert "stays in the log with no effect" in text
    wrong = run.json("verify-claim", "c1", "--amount", "5", "--key", key("B"), "--day", "1")
    assert wrong["code"] == "WRONG_ROLE" and wrong["index"] == 3
    unknown = run.json("attest", "nothing", "fulfilled", "--key", key("M1"), "--day", "1")
    assert unknown["code"] == "UNKNOWN_SUBJECT" and unknown["body"] == {"commitment": "nothing", "verdict": "FULFILLED"}
    cosigned = run.json("govern", "approve", "accredit", "M1", "--key", key("G1"), "--key", key("G2"), "--day", "2")
    assert cosigned["effective"] and cosigned["signers"] == ["G1", "G2"]
    again = run.json("govern", "approve", "accredit", "M1", "--key", key("G3"), "--day", "2")
    assert again["code"] == "CLOSED"
    stranger = run.json("key", "generate", "stranger", "-o", "stranger.key")
    assert stranger["vkey"]
    outside = run.json("transfer", "--from", "A", "--to", "B", "--amount", "1", "--key", "stranger.key", "--day", "2")
    assert outside["code"] == "WRONG_ROLE" and outside["signers"] == ["stranger (not in the cast)"]
    dry = run.json("commit", "--id", "x", "--deadline", "9", "--key", key("A"), "--day", "3", "--dry-run")
    assert dry["effective"] and dry["index"] is None and not dry["appended"]
    with Log.open(str(tmp_path / "log.db")) as log:
        assert log.size == 8


def test_bad_input_is_refused_before_anything_is_logged(run, tmp_path):
    _, keys = start_coalition(run, tmp_path)
    key = lambda name: str(keys / f"{name}.key")  # noqa: E731
    db = tmp_path / "log.db"
    before = dump_database(db, derived=False)
    refusals = [
        (["transfer", "--to", "Z", "--amount", "1", "--key", key("A")], "ineffective_entry", "declared actor"),
        (["report", "--metric", "bio_uplift", "--value", "-1", "--key", key("A")], "ineffective_entry", "value"),
        (["govern", "approve", "decide", "c", "uphold", "--key", key("G1"), "--nonce", "x", "--day", "-1"],
         "ineffective_entry", "before the coalition's epoch"),
        (["evidence", "commit", "--id", "e", "--digest", "00" * 32, "--key", key("A")], "ineffective_entry",
         "EVIDENCE"),
        (["govern", "approve", "adopt", "--version", "2", "--effective-day", "5", "--change", "NO_SUCH=1",
          "--key", key("G1")], "ineffective_entry", "MALFORMED"),
        (["govern", "approve", "adopt", "--version", "2", "--effective-day", "5", "--change", "BUFFER_PCT=1.5",
          "--key", key("G1")], "usage", "integer"),
        (["claim", "--id", "c", "--amount", "ten", "--key", key("A")], "usage", "ten"),
        (["claim", "--id", "c", "--amount", "1", "--key", key("M1")], "usage", "--actor is needed"),
        (["claim", "--id", "c", "--amount", "1", "--key", key("A"), "--day", "1", "--time", "5"], "usage", "not both"),
        (["pact", "create", "--id", "p", "--member", "A", "--min-count", "1", "--min-weight-pct", "1", "--stake", "1",
          "--bonus", "0", "--open-until", "9", "--key", key("A")], "usage", "NAME=VALUE"),
        (["govern", "approve", "accredit", "M1", "--key", key("G1"), "--key", key("G1")], "usage", "twice"),
        (["genesis", "charter.json", "--key", key("G1")], "usage", "already has"),
    ]
    for argv, reason, words in refusals:
        refused = run.json(*argv, code=2)
        assert refused["reason"] == reason and words in refused["message"] + (refused.get("hint") or ""), (argv, refused)
    assert run.json("claim", "--id", "c", "--amount", "1", "--key", "missing.key", code=3)["reason"] == "key_not_found"
    assert dump_database(db, derived=False) == before


def test_a_coalition_starts_with_a_valid_genesis(run, tmp_path):
    run("key", "generate", "g.example/log", "-o", "log.key")
    run("init", "--key", "log.key")
    run("key", "generate", "G1", "-o", "g1.key")
    run("key", "generate", "A", "-o", "a.key")
    before = dump_database(tmp_path / "log.db", derived=False)
    first = run.json("claim", "--id", "c", "--amount", "1", "--actor", "A", "--key", "a.key", code=2)
    assert first["reason"] == "ineffective_entry" and "genesis" in first["hint"]
    (tmp_path / "bad.json").write_text(json.dumps({"governors": {"G1": "g1.key.pub"}, "actors": {}, "monitors": {}}))
    assert "actors" in run.json("genesis", "bad.json", "--key", "g1.key", code=2)["message"]
    (tmp_path / "float.json").write_text('{"epoch": 1.5}')
    assert run.json("genesis", "float.json", "--key", "g1.key", code=2)["reason"] == "usage"
    assert dump_database(tmp_path / "log.db", derived=False) == before
    (tmp_path / "ok.json").write_text(json.dumps({"governors": {"G1": "g1.key.pub"}, "actors": {"A": "a.key.pub"},
                                                  "monitors": {}, "charter": "two of us"}))
    made = run.json("genesis", "ok.json", "--key", "g1.key", "--time", "1735732800")
    assert made["body"]["epoch"] == 1735689600 and made["day"] == 0  # 00:00 UTC of the entry's day
    own = run.json("claim", "--id", "c", "--amount", "3", "--key", "a.key", "--time", "1735732900")
    assert own["effective"] and own["body"]["actor"] == "A"


def test_a_log_that_is_no_coalition_refuses_role_entries_as_rejected_at_entry_0(run, tmp_path):
    run("key", "generate", "g.example/log", "-o", "log.key")
    run("init", "--key", "log.key")
    run("key", "generate", "A", "-o", "a.key")
    for name, body in (("e0.json", '{"id": "x"}'), ("e1.json", '{"id": "y"}'), ("e2.json", '{"id": "z"}')):
        run("sign", "--key", "a.key", "--type", "COMMIT", "--body", body, "-o", name)
    run("append", "e0.json", "e1.json", "e2.json")
    before = dump_database(tmp_path / "log.db", derived=False)
    refused = run.json("claim", "--id", "c", "--amount", "1", "--actor", "A", "--key", "a.key", code=2)
    assert refused["reason"] == "ineffective_entry" and "LOG_REJECTED" in refused["message"]
    again = run.json("submit", "e2.json", "e0.json")["entries"]        # both logged already
    assert [(e["index"], e["appended"], e["code"]) for e in again] == [(2, False, "LOG_REJECTED"), (0, False, "MALFORMED")]
    assert dump_database(tmp_path / "log.db", derived=False) == before
