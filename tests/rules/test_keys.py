"""Key rotation: by the old key, or by a governor quorum when a key is lost."""

from __future__ import annotations

from .builder import codes, fake_vkey


def test_rotation_by_the_old_key(accredited_log):
    log = accredited_log
    new = fake_vkey("A", 1)
    rotate = log.add(1, "ROTATE_KEY", "A", {"name": "A", "new_key": new})
    old = log.claim(1, "A", "k1", 5)
    fresh = log.add(1, "CLAIM", new, {"actor": "A", "id": "k1", "amount": 5})
    engine = log.engine()
    assert codes(log.outcomes, [rotate, old, fresh]) == [None, "WRONG_ROLE", None]
    assert engine.view()["cast"]["actors"]["A"] == new


def test_rotation_needs_the_named_key_and_an_unused_key(accredited_log):
    log = accredited_log
    by_other = log.add(1, "ROTATE_KEY", "B", {"name": "A", "new_key": fake_vkey("A", 1)})
    taken = log.add(1, "ROTATE_KEY", "A", {"name": "A", "new_key": log.keys["B"]})
    log.add(1, "ROTATE_KEY", "A", {"name": "A", "new_key": fake_vkey("A", 1)})
    back = log.add(1, "ROTATE_KEY", fake_vkey("A", 1), {"name": "A", "new_key": log.keys["A"]})
    log.engine()
    assert codes(log.outcomes, [by_other, taken, back]) == ["WRONG_ROLE", "KEY_IN_USE", "KEY_IN_USE"]


def test_a_lost_key_is_replaced_by_governor_quorum(accredited_log):
    log = accredited_log
    new = fake_vkey("M1", 7)
    log.approve(2, "G1", action="ROTATE_KEY", name="M1", new_key=new)
    log.approve(2, "G3", action="ROTATE_KEY", name="M1", new_key=new)
    log.commit(2, "A", "c1", 9)
    attest = log.add(3, "ATTEST", new, {"commitment": "c1", "verdict": "FULFILLED"})
    engine = log.engine()
    assert log.outcome(attest).code is None
    assert engine.view()["commitments"]["c1"]["attestations"]["FULFILLED"]["M1"]["index"] == attest


def test_a_rotated_governor_keeps_its_approvals(log):
    log.approve(1, "G1", action="ACCREDIT", monitor="M1")
    new = fake_vkey("G1", 1)
    log.add(1, "ROTATE_KEY", "G1", {"name": "G1", "new_key": new})
    again = log.add(2, "APPROVE", new, {"proposal": {"action": "ACCREDIT", "monitor": "M1"}})
    log.approve(2, "G2", action="ACCREDIT", monitor="M1")
    engine = log.engine()
    assert log.outcome(again).code == "DUPLICATE_APPROVAL"
    assert engine.view()["monitors"]["M1"]["accredited"] is True
