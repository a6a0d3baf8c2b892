"""Running a scenario (specs/scenario.md): sign the story, judge it, write it to a fresh log.

:func:`evaluate` runs the rules engine over the signed entries in memory and answers the
scenario's requests (states, digests, explanations as of given days) in one pass: every request
for day T is answered after the last entry dated <= T and before the first one dated later, so
it sees exactly the entries dated <= T (RS-1's "state as of T", I2).

:func:`simulate` evaluates first — so that every error surfaces before a single byte is written
— then creates a fresh log whose clock is the scenario's, appends every entry, signs a
checkpoint, and checks that a replay of what the log now holds gives the same final digest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import CorruptionError, InvalidInput
from .events import events_of
from .keys import write_key_files
from .log import Log
from .policy import Policy, format_policy
from .rules import Engine, day_of, replay
from .rules.explain import explain
from .scenario import Scenario


@dataclass
class Evaluation:
    """What the engine derived from a scenario's entries (all JSON-shaped)."""

    outcomes: list[dict]  # per entry: index, day, type, by, effective, code, sub, detail
    states: list[dict] = field(default_factory=list)  # {as_of, projected, digest, state}
    digests: list[dict] = field(default_factory=list)  # {as_of, projected, digest}
    explanations: list[dict] = field(default_factory=list)  # {fact, as_of, explanation}
    final: dict = field(default_factory=dict)  # {as_of, digest}: after the last entry
    engine: Engine | None = None


@dataclass
class Simulation:
    """A scenario written to a log: the evaluation, the log's path, size and checkpoint."""

    evaluation: Evaluation
    db_path: str
    origin: str
    log_vkey: str
    size: int
    checkpoint: bytes


def evaluate(scenario: Scenario, raws: list[bytes]) -> Evaluation:
    """Judge the signed entries (``scenario.signed_entries()``) and answer the requests."""
    last_day = scenario.entries[-1].day if scenario.entries else 0
    wanted = sorted({day for request in scenario.requests for day in request.days})
    result = Evaluation(outcomes=[])
    answers: dict[tuple[int, int], dict] = {}
    engine = Engine()
    for event in events_of(enumerate(raws)):
        if event.index:
            day = day_of(event.time, scenario.epoch)
            while wanted and wanted[0] < day:
                _answer_day(engine, wanted.pop(0), last_day, scenario, answers)
        outcome = engine.apply(event)
        result.outcomes.append(_outcome_json(scenario, event.index, event.type, outcome))
    while wanted:
        _answer_day(engine, wanted.pop(0), last_day, scenario, answers)
    for number, request in enumerate(scenario.requests):
        for day in request.days:
            answer = answers[(number, day)]
            {"state_as_of": result.states, "digest_as_of": result.digests,
             "explain": result.explanations}[request.kind].append(answer)
    result.final = {"as_of": last_day, "digest": engine.digest(last_day)}
    result.engine = engine
    return result


def _answer_day(engine: Engine, day: int, last_day: int, scenario: Scenario, answers: dict) -> None:
    projected = day > last_day  # beyond the story: start-of-day effects applied through ``day``
    for number, request in enumerate(scenario.requests):
        if day not in request.days:
            continue
        if request.kind == "state_as_of":
            answer = {"as_of": day, "projected": projected, "digest": engine.digest(day), "state": engine.view(day)}
        elif request.kind == "digest_as_of":
            answer = {"as_of": day, "projected": projected, "digest": engine.digest(day)}
        else:
            try:
                explanation = explain(engine, request.fact[0], *request.fact[1:], as_of=day)
            except InvalidInput as exc:
                raise InvalidInput(f"scenario.requests[{number}]: cannot explain {list(request.fact)}: {exc.message}",
                                   hint=exc.hint or "check the fact's arguments (specs/rules-rs1.md §11)",
                                   reason="bad_scenario") from None
            answer = {"fact": list(request.fact), "as_of": day, "projected": projected, "explanation": explanation}
        answers[(number, day)] = answer


def _outcome_json(scenario: Scenario, index: int, type_: str, outcome) -> dict:
    by = list(scenario.cast["governors"]) if index == 0 else list(scenario.entries[index - 1].by)
    return {"index": index, "day": outcome.day, "type": type_, "by": by, "effective": outcome.code is None,
            "code": outcome.code, "sub": outcome.sub, "detail": outcome.detail}


def simulate(scenario: Scenario, db_path: str) -> Simulation:
    """Write the scenario to a fresh log at ``db_path`` (which must not exist) and evaluate it."""
    raws, evaluation = prepare(scenario)
    return write_log(scenario, raws, evaluation, db_path)


def prepare(scenario: Scenario) -> tuple[list[bytes], Evaluation]:
    """Sign and judge the story in memory: every problem surfaces here, before anything is written."""
    raws = scenario.signed_entries()
    return raws, evaluate(scenario, raws)


def write_log(scenario: Scenario, raws: list[bytes], evaluation: Evaluation, db_path: str) -> Simulation:
    """Append the prepared entries to a fresh log at ``db_path``, on the scenario's clock, and sign
    a checkpoint; then check the log replays to the evaluated final state."""
    if os.path.lexists(db_path):
        raise InvalidInput(f"{db_path} already exists", hint="simulate writes a fresh log; choose a new path",
                           reason="file_exists")
    signer = scenario.log_signer()
    last_time = scenario.last_time
    with Log.create(db_path, signer, clock=lambda: last_time) as log:
        log.append_many(raws)
        note = log.sign_checkpoint(signer)
        replayed = replay(events_of(log.entries()), track=False)
        if replayed.digest(evaluation.final["as_of"]) != evaluation.final["digest"]:
            raise CorruptionError("the logged scenario does not replay to the state it was judged to have",
                                  hint="a bug in pactlog; please report it", reason="replay_mismatch")
        return Simulation(evaluation, db_path, log.origin, log.store.log_vkey, log.size, note)


def write_cast_keys(scenario: Scenario, directory: str) -> dict[str, str]:
    """Store the log key (``log.key``), every cast key (``keys/<ref>.key``, unencrypted: these are
    simulation keys) and a trust policy (``trust.policy``) in ``directory``; return ref -> path."""
    os.makedirs(os.path.join(directory, "keys"), exist_ok=True)
    write_key_files(os.path.join(directory, "log.key"), scenario.log_signer())
    paths = {}
    for ref in scenario.key_refs():
        paths[ref] = os.path.join(directory, "keys", f"{ref}.key")
        write_key_files(paths[ref], scenario.signer(ref))
    policy = format_policy(Policy.for_log(scenario.log_signer().vkey))
    with open(os.path.join(directory, "trust.policy"), "x", encoding="utf-8") as f:
        f.write(policy)
    return paths
