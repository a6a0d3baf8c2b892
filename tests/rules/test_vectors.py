"""The worked examples in specs/vectors/rules/*.json: outcomes, state excerpts and digests."""

from __future__ import annotations

import json

import pytest

from ledger.rules import Engine, Event

from .vectors import SCENARIOS, VECTOR_DIR, to_json

FILES = sorted(VECTOR_DIR.glob("*.json"))


def load(path):
    return json.loads(path.read_text())


def events_of(vector):
    return [Event(e["index"], e["time"], e["type"], tuple(e["signers"]), e["body"]) for e in vector["entries"]]


def excerpt_value(state, path):
    value = state
    for part in path.split("/"):
        value = value[part]
    return value


def test_every_scenario_has_a_vector_file():
    assert sorted(p.stem for p in FILES) == sorted(SCENARIOS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path):
    vector = load(path)
    events = events_of(vector)
    engine = Engine()
    outcomes = [engine.apply(ev) for ev in events]
    found = {str(o.index): {"code": o.code, "sub": o.sub} for o in outcomes if o.code is not None}
    assert found == vector["ineffective"]
    assert engine.digest() == vector["final_digest"]
    for state in vector["states"]:
        day = state["as_of"]
        as_of = Engine()
        for ev in events:
            if ev.index and vector["entries"][ev.index]["day"] > day:
                break
            as_of.apply(ev)
        view = as_of.view(day)
        for key, expected in state["excerpt"].items():
            assert excerpt_value(view, key) == expected, (day, key)
        assert as_of.digest(day) == state["digest"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_vector_files_match_their_scenarios(name):
    build, description = SCENARIOS[name]
    assert to_json(*build(), description) == load(VECTOR_DIR / f"{name}.json")
