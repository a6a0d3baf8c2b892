"""Coalition formation and power balance (extension "coalition").

* ADMIT (a proposal): a new actor or monitor joins with its key, by governor quorum.
* EXIT (an entry signed by the member): an actor or monitor leaves.  Its name stays
  declared and its record (balances, commitments, pacts) stays visible and keeps
  following the rules (open commitments still default), but its key signs nothing
  any more; an exiting monitor's current accreditation ends as by REVOKE.
* SET_GOVERNORS (a proposal): the governor set is replaced only with a quorum of the
  *current* governors AND an approval by every new governor, signed with the key the
  proposal names for it, so that no party captures the rules alone.
"""

from __future__ import annotations

from ledger.rules import forms, monitors
from ledger.rules.events import EXIT
from ledger.rules.genesis import SYSTEM_ACCOUNTS
from ledger.rules.reasons import DUPLICATE_ID, KEY_IN_USE, QUORUM_UNREACHABLE, WRONG_ROLE, Reject, malformed
from ledger.rules.roles import require_signer


def check_proposal_terms(proposal: dict, st) -> None:
    """Form of ADMIT and SET_GOVERNORS proposals (MALFORMED at every approval)."""
    if proposal["action"] == "ADMIT":
        if proposal["role"] not in ("actor", "monitor"):
            raise malformed("role must be actor or monitor")
        if not isinstance(proposal["name"], str) or not proposal["name"] or proposal["name"] in SYSTEM_ACCOUNTS:
            raise malformed("name must be a non-empty string other than BUFFER and VICTIM")
        if not isinstance(proposal["key"], str) or not proposal["key"]:
            raise malformed("key must be a non-empty string")
        return
    governors = proposal["governors"]
    if not isinstance(governors, dict) or not governors:
        raise malformed("governors must be a non-empty map name -> key")
    keys = list(governors.values())
    if any(not isinstance(k, str) or not k for k in keys) or len(set(keys)) != len(keys):
        raise malformed("governor keys must be distinct non-empty strings")
    for name, key in governors.items():
        if not name or name in SYSTEM_ACCOUNTS or st.role.get(name) in ("actor", "monitor"):
            raise malformed(f"{name!r} cannot be a governor name")
        current = st.cast["governors"].get(name)
        if current is not None and current != key:
            raise malformed(f"governor {name} keeps its key here; rotate it with ROTATE_KEY")


def approvers_of_governor_set(st, ev, proposal: dict) -> list[str]:
    """Signers of an APPROVE of SET_GOVERNORS: current governors, or proposed ones with their key."""
    names = []
    proposed = {key: name for name, key in proposal["governors"].items()}
    for vkey in ev.signers:
        name = st.key_owner.get(vkey)
        if name is not None and st.role[name] == "governor":
            pass
        elif vkey in proposed and proposed[vkey] not in st.cast["governors"]:
            name = proposed[vkey]
        else:
            raise Reject(WRONG_ROLE, "a signer is neither a governor nor a proposed governor")
        if name not in names:
            names.append(name)
    if not names:
        raise Reject(WRONG_ROLE, "the entry has no signature")
    return names


def governor_set_ready(st, proposal: dict, approvals: dict, day: int) -> bool:
    current = sum(1 for name in approvals if name in st.cast["governors"])
    newcomers = [name for name in proposal["governors"] if name not in st.cast["governors"]]
    return current >= st.params(day)["GOV_QUORUM"] and all(name in approvals for name in newcomers)


def set_governors(st, proposal: dict, day: int, index: int) -> None:
    governors = proposal["governors"]
    if st.params(day)["GOV_QUORUM"] > len(governors):
        raise Reject(QUORUM_UNREACHABLE, f"GOV_QUORUM {st.params(day)['GOV_QUORUM']} exceeds {len(governors)} governors")
    for name, key in governors.items():
        if name not in st.cast["governors"]:
            if name in st.role:
                raise Reject(DUPLICATE_ID, f"{name} is already a member")
            if key in st.keys_used:
                raise Reject(KEY_IN_USE, f"the key of {name} was already registered")
    st.cast["governors"] = dict(governors)
    for name, key in governors.items():
        st.keys_used[key] = name
    st.rebuild_caches()


def admit(st, proposal: dict, day: int, index: int) -> None:
    name, key = proposal["name"], proposal["key"]
    if name in st.role:
        raise Reject(DUPLICATE_ID, f"{name} is already a member of the cast")
    if key in st.keys_used:
        raise Reject(KEY_IN_USE, f"the key was already registered to {st.keys_used[key]}")
    st.cast[proposal["role"] + "s"][name] = key
    st.keys_used[key] = name
    if proposal["role"] == "actor":
        st.acct[name] = {"liquid": 0, "locked": 0, "retired": 0, "fines": 0}
    st.rebuild_caches()


def on_exit(st, ev, day: int) -> None:
    body = ev.body
    forms.check_body(EXIT, body, st)
    name = body["name"]
    if st.role[name] == "governor":
        raise malformed("governors leave through SET_GOVERNORS")
    require_signer(st, ev, name)
    st.exited[name] = ev.index
    if st.role[name] == "monitor":
        monitors.revoke(st, name, day, ev.index)
    st.rebuild_caches()
