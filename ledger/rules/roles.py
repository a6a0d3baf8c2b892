"""Role checks (R1, C1): who may sign which entry.

A signer is identified by mapping its vkey to a cast name with the *current* key
map (a key rotated away, or never registered, is "a signer outside the cast").
Only APPROVE and CONFLICT may carry several signers (a repeated signer counts
once); every other type has exactly one signer, listed once.
"""

from __future__ import annotations

from ledger.rules.reasons import WRONG_ROLE, Reject


def sole_signer(st, ev) -> str:
    """The cast name of the entry's only signer."""
    if len(ev.signers) != 1:
        raise Reject(WRONG_ROLE, f"this entry type takes exactly one signature, not {len(ev.signers)}")
    name = st.key_owner.get(ev.signers[0])
    if name is None:
        raise Reject(WRONG_ROLE, "the signer's key belongs to nobody in the cast")
    return name


def require_signer(st, ev, name: str) -> None:
    """The only signer must be ``name`` (an entry that names its actor)."""
    if sole_signer(st, ev) != name:
        raise Reject(WRONG_ROLE, f"only {name} may sign this entry")


def actor_signer(st, ev) -> str:
    name = sole_signer(st, ev)
    if not st.is_actor(name):
        raise Reject(WRONG_ROLE, f"{name} is not an actor")
    return name


def monitor_signer(st, ev) -> str:
    name = sole_signer(st, ev)
    if not st.is_monitor(name):
        raise Reject(WRONG_ROLE, f"{name} is not a monitor")
    return name


def distinct_signers(st, ev) -> list[str]:
    """The distinct cast names of all signers, in signature order (unknown key: WRONG_ROLE)."""
    if not ev.signers:
        raise Reject(WRONG_ROLE, "the entry has no signature")
    names: list[str] = []
    for vkey in ev.signers:
        name = st.key_owner.get(vkey)
        if name is None:
            raise Reject(WRONG_ROLE, "a signer's key belongs to nobody in the cast")
        if name not in names:
            names.append(name)
    return names


def governor_signers(st, ev) -> list[str]:
    names = distinct_signers(st, ev)
    for name in names:
        if st.role[name] != "governor":
            raise Reject(WRONG_ROLE, f"{name} is not a governor")
    return names
