"""Scenario files (specs/scenario.md): the examples' known answers, strict validation of every
form error, what is left to the engine, and the demo coalition's story rule by rule.

`python tests/test_scenario.py` rewrites specs/vectors/scenarios/expected.json from the code
(only after a deliberate change of the format, the keys or the rules; review the diff).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import nacl.signing
import pytest

from ledger.errors import InvalidInput, MalformedError
from ledger.events import events_of
from ledger.log import Log
from ledger.rules import Engine, day_of
from ledger.scenario import parse_scenario, scenario_signer
from ledger.simulate import prepare, simulate, write_log
from support import dump_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "vectors" / "scenarios"
DEMO = ROOT / "cli" / "scenarios" / "demo-coalition.json"
EXPECTED = EXAMPLES / "expected.json"
SCENARIO_FILES = {path.name: path for path in [*sorted(EXAMPLES.glob("*.json")), DEMO] if path.name != "expected.json"}


def load(name: str):
    return parse_scenario(SCENARIO_FILES[name].read_bytes(), source=name)


def known_answers(name: str, tmp_dir: Path) -> dict:
    """What expected.json pins for one scenario: log size and root, every ineffective entry,
    every requested digest and the final digest."""
    scenario = load(name)
    result = simulate(scenario, str(tmp_dir / f"{name}.db"))
    with Log.open(result.db_path) as log:
        root = log.root().hex()
    evaluation = result.evaluation
    return {
        "size": result.size,
        "root": root,
        "ineffective": {str(o["index"]): [o["code"], o["sub"]] for o in evaluation.outcomes if not o["effective"]},
        "digests": {str(d["as_of"]): d["digest"] for d in [*evaluation.states, *evaluation.digests]},
        "final": evaluation.final,
    }


def key_answers() -> list[dict]:
    rows = [{"seed": seed, "ref": ref, "vkey": scenario_signer(seed, ref).vkey}
            for seed, ref in [("small coalition", "A"), ("small coalition", "A#1"), ("", "G1")]]
    small = load("small-coalition.json")
    rows.append({"seed": small.seed, "log": small.origin, "vkey": small.log_signer().vkey})
    return rows


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads(EXPECTED.read_text())


# --- known answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIO_FILES))
def test_examples_give_their_known_answers(name, expected, tmp_path):
    assert known_answers(name, tmp_path) == expected["scenarios"][name]


def test_key_derivation_matches_the_spec_formula(expected):
    assert key_answers() == expected["keys"]
    for row in expected["keys"]:
        if "ref" in row:
            seed = hashlib.sha256(b"pactlog-scenario-key/v1\x00" + row["seed"].encode() + b"\x00"
                                  + row["ref"].encode()).digest()
            name = row["ref"].split("#")[0]
        else:
            seed = hashlib.sha256(b"pactlog-scenario-log-key/v1\x00" + row["seed"].encode()).digest()
            name = row["log"]
        public = bytes(nacl.signing.SigningKey(seed).verify_key)
        vname, _keyid, key64 = row["vkey"].split("+", 2)
        assert vname == name and base64.b64decode(key64) == b"\x01" + public


def test_a_scenario_always_gives_the_same_bytes():
    first, second = load("small-coalition.json"), load("small-coalition.json")
    assert first.signed_entries() == second.signed_entries()


def test_every_requested_day_sees_exactly_the_entries_dated_up_to_it():
    """I2 through the scenario machinery: an as-of answer equals a fresh replay of the prefix."""
    scenario = load("small-coalition.json")
    raws = scenario.signed_entries()
    text = json.loads(SCENARIO_FILES["small-coalition.json"].read_text())
    text["requests"] = [{"digest_as_of": list(range(0, 45))}]
    scenario = parse_scenario(json.dumps(text))
    _, evaluation = prepare(scenario)
    events = list(events_of(enumerate(raws)))
    for answer in evaluation.digests:
        engine = Engine()
        for event in events:
            if event.index and day_of(event.time, scenario.epoch) > answer["as_of"]:
                break
            engine.apply(event)
        assert engine.digest(answer["as_of"]) == answer["digest"], answer["as_of"]
        assert answer["projected"] == (answer["as_of"] > 25)


# --- what the scenario leaves to the engine ---------------------------------------------------------


def base(**changes) -> dict:
    scenario = {"format": "pactlog-scenario/1", "seed": "s", "epoch": 1735689600,
                "cast": {"governors": ["G1", "G2"], "actors": ["A", "B"], "monitors": ["M1"]}, "entries": []}
    scenario.update(changes)
    return scenario


def entry(day, by, type_, body, **extra) -> dict:
    return {"day": day, "by": by, "type": type_, "body": body, **extra}


def test_negative_amount_wrong_role_unknown_type_and_unknown_name_are_logged_with_reason_codes(tmp_path):
    scenario = parse_scenario(json.dumps(base(entries=[
        entry(1, "A", "CLAIM", {"actor": "A", "id": "c", "amount": -5}),
        entry(1, "M1", "CLAIM", {"actor": "A", "id": "d", "amount": 5}),
        entry(2, "A", "NO_SUCH_TYPE", {}),
        entry(2, "A", "TRANSFER", {"from": "A", "to": "Z", "amount": 1}),
        entry(3, ["G1", "A"], "CLAIM", {"actor": "A", "id": "e", "amount": 5}),
    ])))
    result = simulate(scenario, str(tmp_path / "s.db"))
    codes = [(o["code"], o["detail"]) for o in result.evaluation.outcomes[1:]]
    assert [c for c, _ in codes] == ["INVALID_AMOUNT", "WRONG_ROLE", "MALFORMED", "MALFORMED", "WRONG_ROLE"]
    assert result.size == 6  # every one of them is in the log


def test_substitutions_name_keys_and_hash_texts():
    scenario = parse_scenario(json.dumps(base(cast={"governors": ["G1"], "actors": ["A"], "monitors": [],
                                                    "others": ["N"]}, entries=[
        entry(0, "A", "ROTATE_KEY", {"name": "A", "new_key": {"$vkey": "A#2"}}),
        entry(0, "A#2", "NOTE", {"list": [{"$sha256": "hello"}], "key": {"$vkey": "N"}, "keep": {"$vkey": "N", "x": 1}}),
    ])))
    first, second = scenario.entries
    assert first.body["new_key"] == scenario_signer("s", "A#2").vkey and first.key_refs == ("A#2",)
    assert second.body["list"] == [hashlib.sha256(b"hello").hexdigest()]
    assert second.body["key"] == scenario_signer("s", "N").vkey
    assert second.body["keep"] == {"$vkey": "N", "x": 1}  # not exactly one field: an ordinary object
    assert scenario.key_refs() == ["G1", "A", "N", "A#2"]


def test_an_explanation_naming_nothing_is_an_error_before_anything_is_written(tmp_path):
    scenario = parse_scenario(json.dumps(base(requests=[{"explain": [["balance", "Z"], 0]}])))
    with pytest.raises(InvalidInput) as caught:
        simulate(scenario, str(tmp_path / "s.db"))
    assert caught.value.reason == "bad_scenario" and "requests[0]" in caught.value.message
    assert not (tmp_path / "s.db").exists()


def test_simulate_never_writes_into_an_existing_log(tmp_path):
    db = tmp_path / "s.db"
    scenario = load("small-coalition.json")
    simulate(scenario, str(db))
    before = dump_database(db)
    with pytest.raises(InvalidInput) as caught:
        simulate(scenario, str(db))
    assert caught.value.reason == "file_exists"
    assert dump_database(db) == before
    raws, evaluation = prepare(scenario)
    with pytest.raises(InvalidInput):
        write_log(scenario, raws, evaluation, str(db))
    assert dump_database(db) == before


# --- form errors ---------------------------------------------------------------------------------------


def mutate(path: str, value, *, delete: bool = False) -> dict:
    """base() with one entry, then the field at ``path`` (dotted, ints index lists) set or deleted."""
    scenario = base(entries=[entry(0, "A", "CLAIM", {"actor": "A", "id": "c", "amount": 1}),
                             entry(1, "A", "CLAIM", {"actor": "A", "id": "d", "amount": 1})],
                    requests=[{"state_as_of": [1]}])
    *parents, last = path.split(".")
    target = scenario
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if delete:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return scenario


BAD = [
    # (what, scenario or raw text, words the message must contain)
    ("not JSON", "{", "not JSON"),
    ("not UTF-8", b"\xff", "UTF-8"),
    ("trailing data", json.dumps(base()) + " []", "not JSON"),
    ("a fraction", json.dumps(base()).replace('"epoch": 1735689600', '"epoch": 1735689600.5'), "scenario.epoch: must be an integer, not 1735689600.5"),
    ("an exponent", json.dumps(base()).replace('"epoch": 1735689600', '"epoch": 1e9'), "scenario.epoch: must be an integer, not 1e9"),
    ("NaN", json.dumps(base()).replace('"epoch": 1735689600', '"epoch": NaN'), "scenario.epoch: must be an integer, not NaN"),
    ("a field twice", json.dumps(base())[:-1] + ', "seed": "t"}', "twice"),
    ("not an object", "[]", "must be a JSON object"),
    ("wrong format", mutate("format", "pactlog-scenario/2"), "format"),
    ("no seed", mutate("seed", None, delete=True), "'seed'"),
    ("no cast", mutate("cast", None, delete=True), "'cast'"),
    ("unknown field", mutate("extra", 1), "unknown field 'extra'"),
    ("seed not a string", mutate("seed", 5), "seed: must be a string"),
    ("bad origin", mutate("origin", "has space"), "origin"),
    ("negative epoch", mutate("epoch", -1), "epoch"),
    ("boolean epoch", mutate("epoch", True), "not a boolean"),
    ("cast role unknown", mutate("cast.owners", ["X"]), "unknown field 'owners'"),
    ("cast role not a list", mutate("cast.actors", "A"), "list of names"),
    ("cast name with a space", mutate("cast.actors", ["A B"]), "not a cast name"),
    ("cast name with #", mutate("cast.actors", ["A#1"]), "not a cast name"),
    ("cast name twice", mutate("cast.monitors", ["A"]), "listed twice"),
    ("invalid genesis", mutate("cast.governors", []), "its genesis"),
    ("reserved name", mutate("cast.monitors", ["BUFFER"]), "its genesis"),
    ("bad ruleset change", mutate("ruleset", {"changes": {"NO_SUCH": 1}}), "its genesis"),
    ("unknown extension", mutate("ruleset", {"extensions": ["teleport"]}), "its genesis"),
    ("ruleset field", mutate("ruleset", {"version": 2}), "unknown field 'version'"),
    ("entries not a list", mutate("entries", {}), "list of entries"),
    ("entry unknown field", mutate("entries.0.signer", "A"), "unknown field 'signer'"),
    ("entry without body", mutate("entries.0.body", None, delete=True), "'body'"),
    ("non-integer day", mutate("entries.0.day", 1.5), "scenario.entries[0].day: must be an integer, not 1.5"),
    ("day as a string", mutate("entries.0.day", "1"), "entries[0].day: must be an integer, not a string"),
    ("negative day", mutate("entries.0.day", -1), "entries[0].day"),
    ("days that decrease", mutate("entries.0.day", 2), "comes before the previous entry's day"),
    ("seconds that decrease", mutate("entries.1", entry(0, "A", "NOTE", {}, second=100)), "comes before"),
    ("second out of range", mutate("entries.0.second", 86400), "second"),
    ("unknown signer", mutate("entries.0.by", "Z"), "unknown signer 'Z'"),
    ("unknown key generation name", mutate("entries.0.by", "Z#1"), "unknown signer"),
    ("bad generation", mutate("entries.0.by", "A#0"), "unknown signer"),
    ("empty signer list", mutate("entries.0.by", []), "non-empty list"),
    ("signer twice", mutate("entries.0.by", ["A", "A"]), "same signer twice"),
    ("signer not a string", mutate("entries.0.by", [1]), "not a signer name"),
    ("bad type", mutate("entries.0.type", "no spaces allowed"), "entries[0].type"),
    ("body not an object", mutate("entries.0.body", []), "must be a JSON object"),
    ("unknown $vkey", mutate("entries.0.body", {"k": {"$vkey": "Z"}}), "entries[0].body.k.$vkey"),
    ("bad $sha256", mutate("entries.0.body", {"k": {"$sha256": 1}}), "$sha256"),
    ("integer too large", mutate("entries.0.body", {"amount": 2**60}), "entries[0].body"),
    ("a fraction in a body", mutate("entries.1.body.amount", 2.5), "entries[1].body.amount: must be an integer"),
    ("note not a string", mutate("entries.0.note", 1), "note"),
    ("requests not a list", mutate("requests", {}), "list of requests"),
    ("unknown request", mutate("requests.0", {"balance_as_of": [1]}), "exactly one of the fields"),
    ("two requests in one", mutate("requests.0", {"state_as_of": [1], "digest_as_of": [1]}), "exactly one"),
    ("empty day list", mutate("requests.0", {"state_as_of": []}), "non-empty list of days"),
    ("non-integer request day", mutate("requests.0", {"digest_as_of": [1.5]}), "digest_as_of[0]: must be an integer"),
    ("negative request day", mutate("requests.0", {"digest_as_of": [-1]}), "digest_as_of[0]"),
    ("explain shape", mutate("requests.0", {"explain": ["balance", 1]}), "[[kind, args...], day]"),
    ("explain unknown kind", mutate("requests.0", {"explain": [["wealth", "A"], 1]}), "unknown fact kind"),
    ("explain non-string arg", mutate("requests.0", {"explain": [["balance", 1], 1]}), "list of strings"),
]


@pytest.mark.parametrize("what, scenario, words", BAD, ids=[b[0] for b in BAD])
def test_form_errors_are_malformed_scenarios_naming_the_place(what, scenario, words):
    data = scenario if isinstance(scenario, (str, bytes)) else json.dumps(scenario)
    with pytest.raises(MalformedError) as caught:
        parse_scenario(data, source="scenario")
    assert caught.value.reason == "bad_scenario"
    assert words in caught.value.message, caught.value.message
    assert caught.value.hint


def test_the_mutations_are_valid_without_the_mutation():
    parse_scenario(json.dumps(mutate("description", "fine")))


# --- the demo coalition: every rule's effect ----------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    scenario = load("demo-coalition.json")
    _, evaluation = prepare(scenario)
    states = {s["as_of"]: s["state"] for s in evaluation.states}
    return scenario, evaluation, states


def test_demo_cast_is_three_governors_four_labs_five_monitors(demo):
    scenario, evaluation, _ = demo
    assert [len(scenario.cast[r]) for r in ("governors", "actors", "monitors")] == [3, 4, 5]
    assert evaluation.final["as_of"] >= 360  # about a year


def test_demo_ineffective_entries_carry_the_reason_codes_the_story_intends(demo):
    scenario, evaluation, _ = demo
    for outcome in evaluation.outcomes[1:]:
        note = scenario.entries[outcome["index"] - 1]
        # an entry whose note names a reason code is ineffective with exactly that code (or sub-cause)
        named = [code for code in REASONS if code in (SCENARIO_NOTES.get(outcome["index"]) or "")]
        if outcome["effective"]:
            assert not named, (outcome, note)
        else:
            assert outcome["code"] in named or outcome["sub"] in named, (outcome, note)
    codes = {o["code"] for o in evaluation.outcomes if o["code"]} | {o["sub"] for o in evaluation.outcomes if o["sub"]}
    assert codes == {
        "DUPLICATE_APPROVAL", "CLOSED", "MONITOR_NOT_COUNTING", "NOT_ACCREDITED", "CONFLICT", "REVOKED", "EXPIRED",
        "INVALID_AMOUNT", "WRONG_ROLE", "DUPLICATE_MONITOR", "DUPLICATE_ID", "INVALID_DEADLINE", "INSUFFICIENT_FUNDS",
        "NOT_BREACHED", "APPEAL_WINDOW_CLOSED", "SUSPENDED", "UNKNOWN_METRIC", "PACT_BINDING", "ALREADY_JOINED",
        "NOT_MEMBER", "VERSION_GAP", "RETROACTIVE", "PACT_CLOSED", "PACT_NOT_ACTIVE"}


REASONS = ("DUPLICATE_APPROVAL", "CLOSED", "NOT_ACCREDITED", "CONFLICT", "REVOKED", "EXPIRED", "INVALID_AMOUNT",
           "WRONG_ROLE", "DUPLICATE_MONITOR", "DUPLICATE_ID", "INVALID_DEADLINE", "INSUFFICIENT_FUNDS",
           "NOT_BREACHED", "APPEAL_WINDOW_CLOSED", "SUSPENDED", "UNKNOWN_METRIC", "PACT_BINDING", "ALREADY_JOINED",
           "NOT_MEMBER", "VERSION_GAP", "RETROACTIVE", "PACT_CLOSED", "PACT_NOT_ACTIVE")
SCENARIO_NOTES = {i + 1: item.get("note") for i, item in
                  enumerate(json.loads(DEMO.read_text(encoding="utf-8"))["entries"])}


def test_demo_r2_governance_and_r3_monitors(demo):
    _, _, states = demo
    final = states[370]
    versions = final["ruleset"]["versions"]
    assert [(v["version"], v["effective_day"]) for v in versions] == [(1, 0), (2, 180)]
    assert states[171]["ruleset"]["in_force"] == 1 and states[200]["ruleset"]["in_force"] == 2
    actions = [(p["proposal"]["action"], p["status"]) for p in final["proposals"]]
    assert actions.count(("ACCREDIT", "ADOPTED")) == 6  # four at day 0, one at day 30, one renewal
    assert {("REVOKE", "ADOPTED"), ("DECIDE", "ADOPTED"), ("ADOPT", "ADOPTED"), ("ADOPT", "CLOSED")} <= set(actions)
    monitors = final["monitors"]
    assert monitors["redteamco"]["terms"][0]["revoked"] and not monitors["redteamco"]["accredited"]
    assert len(monitors["evalcorp"]["terms"]) == 2 and monitors["evalcorp"]["accredited"]  # renewed with a nonce
    assert "cygnus" in monitors["auditnet"]["conflicts"]


def test_demo_r4_credits(demo):
    _, _, states = demo
    claims = states[370]["claims"]
    assert claims["a-credit-1"]["issued"]["amount"] == 180 and claims["a-credit-1"]["issued"]["buffer"] == 18
    assert claims["a-credit-3"]["issued"]["buffer"] == 5  # version 2: BUFFER_PCT 5
    aurora = states[370]["actors"]["aurora"]
    assert aurora["retired"] == 20
    assert states[370]["system"]["issued"] == 610


def test_demo_r5_to_r8_commitments_levels_fines_appeals(demo):
    _, _, states = demo
    commitments = states[370]["commitments"]
    assert commitments["a-evals"]["status"] == "FULFILLED" and commitments["a-evals"]["resolved_day"] == 120  # on the deadline
    assert commitments["b-evals"]["status"] == "BREACHED" and commitments["b-evals"]["resolved_index"] is not None
    assert commitments["d-1"]["status"] == "BREACHED" and commitments["d-1"]["resolved_index"] is None  # a default
    assert commitments["d-1"]["resolved_day"] == 41
    assert [commitments[c]["fine"]["amount"] for c in ("d-1", "d-2", "d-3", "d-4")] == [10, 20, 20, 30]
    assert commitments["d-4"]["fine"]["unpaid"] == 26
    appeals = {c: commitments[c]["appeal"]["status"] for c in ("c-safety-case", "c-incident-plan", "d-2")}
    assert appeals == {"c-safety-case": "OVERTURNED", "c-incident-plan": "UPHELD", "d-2": "LAPSED"}
    assert commitments["c-safety-case"]["status"] == "VOIDED"
    assert states[76]["actors"]["deneb"]["level"] == 3 and states[76]["actors"]["deneb"]["suspended"]
    assert states[370]["actors"]["deneb"]["level"] == 2
    assert states[370]["actors"]["deneb"]["fines_outstanding"] == 56


def test_demo_r9_pacts_r10_access_r11_flags(demo):
    _, _, states = demo
    pause, disclose = states[145]["pacts"]["p-pause"], states[145]["pacts"]["p-disclose"]
    assert pause["status"] == "ACTIVE" and pause["trigger_day"] == 135 and pause["active_from"] == 145
    assert disclose["status"] == "OPEN" and len(disclose["joined"]) >= disclose["min_count"]  # count, not weight
    assert states[171]["pacts"]["p-disclose"]["status"] == "FAILED"
    assert states[171]["pacts"]["p-disclose"]["failed_day"] == 171
    access = {name: actor["access"] for name, actor in states[370]["actors"].items()}
    assert access == {"aurora": True, "borealis": True, "cygnus": True, "deneb": False}
    assert states[171]["actors"]["deneb"]["flags"]["divergence"]
    assert states[200]["actors"]["borealis"]["flags"]["hugging"] == ["bio_uplift"]


def test_demo_r12_incident_shares_capped_by_stakes_and_r13_leaderboard(demo):
    _, evaluation, states = demo
    settlement = states[200]["incidents"]["p-pause"]["i-1"]["cygnus"]["settlement"]
    assert settlement["damages"] == 100 and settlement["share"] == 30
    assert settlement["paid"] == {"aurora": 20, "borealis": 20, "cygnus": 20} and settlement["uncovered"] == 30
    assert states[370]["incidents"]["p-disclose"]["i-2"]["cygnus"]["status"] == "CLOSED"
    board = {name: actor["leaderboard"] for name, actor in states[370]["actors"].items()}
    assert board["aurora"] == {"fulfilled": 3, "breached": 0, "voided": 0, "kept": 100}
    assert board["cygnus"] == {"fulfilled": 1, "breached": 1, "voided": 1, "kept": 50}
    assert board["deneb"]["kept"] == 0 and board["deneb"]["breached"] == 6


def test_demo_key_rotation_and_conservation(demo):
    scenario, evaluation, states = demo
    rotation = next(o for o in evaluation.outcomes if o["type"] == "ROTATE_KEY")
    assert rotation["effective"]
    assert states[370]["cast"]["actors"]["aurora"] == scenario.signer("aurora#1").vkey
    for state in states.values():  # I1
        actors, system = state["actors"].values(), state["system"]
        total = sum(a["liquid"] + a["locked"] + a["retired"] for a in actors)
        assert total + system["BUFFER"] + system["VICTIM"] + system["escrow"] == system["issued"]


def test_demo_explanation_of_the_shown_standing_cites_entries_of_the_log(demo):
    _, evaluation, _ = demo
    explanation = next(e for e in evaluation.explanations if e["fact"] == ["level", "deneb"])["explanation"]
    assert explanation["value"] == 2
    assert {c["code"] for c in explanation["not_counted"]} == {"OUTSIDE_WINDOW"}
    cited = [c["index"] for c in explanation["determining"]] + [c["created_by"] for c in explanation["start_of_day"]]
    assert cited and all(0 < i < len(evaluation.outcomes) for i in cited)


# --- regeneration -------------------------------------------------------------------------------------


def _regenerate() -> None:  # pragma: no cover - a maintenance tool
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = {"comment": "known answers for the scenarios of specs/scenario.md; "
                           "regenerate with `python tests/test_scenario.py` after a deliberate change",
                "keys": key_answers(),
                "scenarios": {name: known_answers(name, Path(tmp)) for name in sorted(SCENARIO_FILES)}}
    EXPECTED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _regenerate()
