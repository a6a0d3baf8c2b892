"""C0 genesis: an invalid genesis rejects the whole log; nothing is derived."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInput, MalformedError
from ledger.rules import Engine, Event, require_valid_genesis

from .builder import Log


def base_body():
    return Log().genesis_body


def variant(**changes):
    body = base_body()
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body


BAD = {
    "not an object": [],
    "no governors": variant(governors={}),
    "no actors": variant(actors={}),
    "missing monitors": variant(monitors=...),
    "empty name": variant(actors={"": "k1"}),
    "BUFFER as a name": variant(actors={"BUFFER": "k1"}),
    "VICTIM as a monitor": variant(monitors={"VICTIM": "k1"}),
    "name in two roles": variant(monitors={"G1": "k-other"}),
    "key shared": variant(monitors={"M9": base_body()["actors"]["A"]}),
    "key not a string": variant(monitors={"M9": 5}),
    "epoch not int": variant(epoch="1767225600"),
    "version 2": variant(ruleset={"version": 2, "effective_day": 0, "changes": {}}),
    "effective day 1": variant(ruleset={"version": 1, "effective_day": 1, "changes": {}}),
    "bad change": variant(ruleset={"version": 1, "effective_day": 0, "changes": {"GOV_QUORUM": 4}}),
    "unknown change": variant(ruleset={"version": 1, "effective_day": 0, "changes": {"X": 1}}),
    "ruleset extra field": variant(ruleset={"version": 1, "effective_day": 0, "changes": {}, "x": 1}),
    "extra field": variant(extra=1),
    "charter not a string": variant(charter=5),
}


@pytest.mark.parametrize("label", sorted(BAD))
def test_an_invalid_genesis_rejects_the_log(label):
    log = Log()
    body = BAD[label]
    engine = Engine()
    first = engine.apply(Event(0, log.events[0].time, "GENESIS", (log.keys["G1"],), body))
    later = engine.apply(Event(1, log.events[0].time, "CLAIM", (log.keys["A"],), {"actor": "A", "id": "k", "amount": 5}))
    assert (first.code, later.code) == ("MALFORMED", "LOG_REJECTED")
    assert engine.view() == {"format": "pactlog-rules-state/1", "rejected": {"index": 0, "reason": "MALFORMED"}}
    with pytest.raises(MalformedError):
        require_valid_genesis(body)


def test_the_first_entry_must_be_genesis():
    log = Log()
    engine = Engine()
    assert engine.apply(Event(0, 0, "CLAIM", (log.keys["A"],), {})).code == "MALFORMED"
    assert engine.view()["rejected"]["index"] == 0


def test_valid_genesis_variants():
    require_valid_genesis(base_body())
    require_valid_genesis(variant(monitors={}, charter="Frontier safety coalition"))
    body = variant(ruleset={"version": 1, "effective_day": 0, "changes": {"GOV_QUORUM": 3, "METRICS": {}}})
    log = Log()
    engine = Engine()
    engine.apply(Event(0, log.events[0].time, "GENESIS", (), body))
    params = engine.view()["ruleset"]["versions"][0]["params"]
    assert params["GOV_QUORUM"] == 3 and params["METRICS"] == {} and params["BUFFER_PCT"] == 10


def test_no_state_before_genesis_and_no_past_days():
    engine = Engine()
    with pytest.raises(InvalidInput):
        engine.view()
    log = Log()
    log.commit(5, "A", "c1", 9)
    engine = log.engine()
    with pytest.raises(InvalidInput):
        engine.view(4)
    with pytest.raises(InvalidInput):
        engine.apply(log.events[1])          # the same index again


def test_initial_state_is_empty(log):
    view = log.engine().view(0)
    assert all(a["liquid"] == a["locked"] == a["retired"] == 0 for a in view["actors"].values())
    assert all(not m["accredited"] for m in view["monitors"].values())
    assert view["system"] == {"BUFFER": 0, "VICTIM": 0, "escrow": 0, "issued": 0, "uncovered": 0}
