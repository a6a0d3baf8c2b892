"""C2SP transparency-log trust policies (c2sp.org/tlog-policy).

A policy file says which logs to trust, which witnesses exist, and how many
of them (the *quorum*, possibly through nested k-of-n groups) must have
cosigned a checkpoint before it is believed::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> <k|any|all> <member>...
    quorum <name|none>

pactlog restricts key types: log keys are Ed25519 (0x01) and witness keys are
cosignature/v1 (0x04).  ``specs/policy.md`` describes the syntax byte by byte
and every decision taken here.

Pure module: standard library, PyNaCl via ledger.note; no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.checkpoint import Checkpoint, check_origin, parse_checkpoint, parse_decimal
from ledger.errors import MalformedError, VerificationFailed
from ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    CosignatureVerifier,
    Verifier,
    open_note,
    parse_note,
    parse_vkey,
)

NONE = "none"
"""The predefined quorum name meaning "no cosignatures required"."""

MAX_LOGS = MAX_WITNESSES = MAX_GROUPS = 256
"""Limits on policy size (tlog-policy: support at least 32 of each)."""

_WHITESPACE = " \t"  # tlog-policy: only ASCII space and tab separate items


def _malformed(line_number: int, message: str, hint: str | None = None) -> MalformedError:
    return MalformedError(
        f"policy line {line_number}: {message}",
        hint=hint or "see c2sp.org/tlog-policy: log, witness, group and quorum lines",
        reason="malformed_policy",
    )


@dataclass(frozen=True)
class Group:
    """``group <name> <k|any|all> <members...>``: satisfied when >= k members are."""

    name: str
    threshold: int
    members: tuple[str, ...]
    keyword: str | None = None  # "any" or "all" when the file used a keyword; kept for formatting

    def threshold_text(self) -> str:
        return self.keyword or str(self.threshold)


@dataclass
class Policy:
    """A parsed policy: trusted logs, named witnesses, groups and the quorum name.

    Build one with :func:`parse_policy` or :meth:`for_log`; both check every
    rule of tlog-policy, which :meth:`verify_checkpoint` relies on.
    """

    logs: list[Verifier]
    witnesses: dict[str, CosignatureVerifier] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = NONE
    log_urls: dict[str, str] = field(default_factory=dict)  # log vkey -> URL
    witness_urls: dict[str, str] = field(default_factory=dict)  # witness name -> URL

    @classmethod
    def for_log(cls, vkey: str) -> "Policy":
        """The policy "trust this one log, require no witnesses"."""
        return parse_policy(f"log {vkey}\nquorum {NONE}\n")

    # -- quorum evaluation -------------------------------------------------------------------

    def _satisfied(self, name: str, cosigned: frozenset[str]) -> bool:
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._satisfied(member, cosigned) for member in group.members) >= group.threshold

    def _shortfall(self, name: str, cosigned: frozenset[str]) -> str:
        """Say which group fell short, descending to the innermost failing groups."""
        if name in self.witnesses:
            return f"witness {name} did not cosign"
        group = self.groups[name]
        met = [m for m in group.members if self._satisfied(m, cosigned)]
        missing = [m for m in group.members if m not in met]
        text = (
            f"group {name} needs {group.threshold} of {len(group.members)}, has {len(met)}"
            f" (missing: {', '.join(missing)})"
        )
        inner = [self._shortfall(m, cosigned) for m in missing if m in self.groups]
        return "; ".join([text, *inner])

    def quorum_met(self, cosigners: set[str] | frozenset[str]) -> bool:
        """Whether cosignatures from the named witnesses satisfy the quorum."""
        return self._satisfied(self.quorum, frozenset(cosigners))

    # -- verification ------------------------------------------------------------------------

    def verify_checkpoint(self, note_bytes: bytes) -> Checkpoint:
        """Check a signed checkpoint against this policy and return its body.

        The note must carry a valid signature by one of the policy's logs whose
        key name equals the checkpoint origin; every signature by any key of
        the policy must verify (one failure rejects the note); and the witnesses
        whose cosignatures verified must satisfy the quorum.  Signatures by
        keys the policy does not name are ignored.
        """
        return self._verify_parsed(note_bytes, parse_checkpoint(parse_note(note_bytes).text))

    def _verify_parsed(self, note_bytes: bytes, cp: Checkpoint) -> Checkpoint:
        """:meth:`verify_checkpoint` of a note whose body ``cp`` the caller has parsed already
        (ledger.verify, from the bundle parser). ``cp`` must be the parse of this very note's
        text: only the note's signatures are checked here."""
        check_origin(cp.origin)  # pactlog's origin rule, in case cp was parsed with any origin
        log_keys = [log for log in self.logs if log.name == cp.origin]
        if not log_keys:
            raise VerificationFailed(
                f"checkpoint is for log {cp.origin!r}, which this policy does not trust",
                hint="use the policy of that log, or add its key with a 'log' line",
                reason="unknown_log",
            )
        try:
            _note, verified = open_note(note_bytes, [*self.logs, *self.witnesses.values()])
        except VerificationFailed as exc:
            if exc.reason != "no_trusted_signature":
                raise
            verified = []
        if not any(map(log_keys.__contains__, verified)):  # a key of this log verified
            raise VerificationFailed(
                f"checkpoint of {cp.origin!r} carries no valid signature by the log's trusted key",
                hint="check that the policy has the log's current key",
                reason="no_log_signature",
            )
        if self.quorum != NONE:  # quorum "none" holds whoever cosigned
            self._check_quorum(verified)
        return cp

    def _check_quorum(self, verified: list[Verifier]) -> None:
        """Raise unless the witnesses among the ``verified`` keys satisfy the quorum."""
        by_key = {(w.name, w.key_id): name for name, w in self.witnesses.items()}
        cosigned = frozenset(
            by_key[(v.name, v.key_id)] for v in verified if isinstance(v, CosignatureVerifier)
        )
        if not self.quorum_met(cosigned):
            raise VerificationFailed(
                f"witness quorum {self.quorum} not met: {self._shortfall(self.quorum, cosigned)}",
                hint="collect cosignatures from more witnesses (pactlog witness / add-checkpoint)",
                reason="quorum_not_met",
            )


# --- parsing ----------------------------------------------------------------------------------


def _decode(text: bytes | str) -> str:
    """Policy bytes -> str.  High-bit bytes are opaque to tlog-policy, so undecodable
    UTF-8 is carried through with surrogateescape rather than rejected: names
    stay distinct exactly when their bytes differ."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", "surrogateescape")
    raise TypeError("parse_policy takes bytes or str")


def _check_characters(line: str, number: int) -> None:
    for ch in line:
        if ch != "\t" and (ch < " " or ch == "\x7f"):
            raise _malformed(
                number,
                f"control character U+{ord(ch):04X} is not allowed",
                "only tab and newline are allowed",
            )


class _PolicyBuilder:
    """Accumulates definitions line by line and enforces define-before-use."""

    def __init__(self) -> None:
        self.policy = Policy(logs=[])
        self.quorum_seen = False
        self.key_owner: dict[bytes, str] = {}  # public key -> description, to reject duplicates

    def _claim_key(self, verifier: Verifier, owner: str, number: int) -> None:
        previous = self.key_owner.get(verifier.public_key)
        if previous is not None:
            raise _malformed(
                number,
                f"{owner} uses the same public key as {previous}",
                "each log and witness needs its own key",
            )
        self.key_owner[verifier.public_key] = owner

    def _vkey(self, text: str, alg: int, what: str, number: int) -> Verifier:
        try:
            verifier = parse_vkey(text)
        except MalformedError as exc:
            raise _malformed(number, f"{what} key: {exc.message}") from None
        if verifier.alg != alg:
            kind = "Ed25519 (type 0x01)" if alg == ALG_ED25519 else "cosignature/v1 (type 0x04)"
            raise _malformed(
                number,
                f"{what} key {verifier.name!r} has type 0x{verifier.alg:02x}; pactlog requires {kind}",
            )
        return verifier

    def _defined(self, name: str) -> bool:
        return name == NONE or name in self.policy.witnesses or name in self.policy.groups

    def _new_name(self, name: str, number: int) -> None:
        if self._defined(name):
            raise _malformed(
                number,
                f"name {name!r} is already defined",
                "witnesses and groups share one namespace; 'none' is predefined",
            )

    def log(self, args: list[str], number: int) -> None:
        if len(args) not in (1, 2):
            raise _malformed(number, "expected 'log <vkey> [<url>]'")
        verifier = self._vkey(args[0], ALG_ED25519, "log", number)
        self._claim_key(verifier, f"log {verifier.name}", number)
        if len(self.policy.logs) >= MAX_LOGS:
            raise _malformed(number, f"more than {MAX_LOGS} logs")
        self.policy.logs.append(verifier)
        if len(args) == 2:
            self.policy.log_urls[verifier.vkey] = args[1]

    def witness(self, args: list[str], number: int) -> None:
        if len(args) not in (2, 3):
            raise _malformed(number, "expected 'witness <name> <vkey> [<url>]'")
        name = args[0]
        self._new_name(name, number)
        verifier = self._vkey(args[1], ALG_COSIGNATURE_V1, f"witness {name}", number)
        self._claim_key(verifier, f"witness {name}", number)
        if len(self.policy.witnesses) >= MAX_WITNESSES:
            raise _malformed(number, f"more than {MAX_WITNESSES} witnesses")
        self.policy.witnesses[name] = verifier  # type: ignore[assignment]
        if len(args) == 3:
            self.policy.witness_urls[name] = args[2]

    def group(self, args: list[str], number: int) -> None:
        if len(args) < 3:
            raise _malformed(
                number, "expected 'group <name> <k|any|all> <member>...' with at least one member"
            )
        name, threshold_text, members = args[0], args[1], tuple(args[2:])
        self._new_name(name, number)
        seen: set[str] = set()
        for member in members:
            if member == NONE:
                raise _malformed(number, "'none' cannot be a group member")
            if not self._defined(member):
                raise _malformed(
                    number, f"group member {member!r} is not defined on an earlier line"
                )
            if member in seen:
                raise _malformed(number, f"group member {member!r} is listed twice")
            seen.add(member)
        keyword = threshold_text if threshold_text in ("any", "all") else None
        if threshold_text == "any":
            threshold = 1
        elif threshold_text == "all":
            threshold = len(members)
        else:
            try:
                threshold = parse_decimal(
                    threshold_text,
                    "group threshold",
                    maximum=len(members),
                    reason="malformed_policy",
                )
            except MalformedError as exc:
                raise _malformed(
                    number, f"{exc.message}; it must be 'any', 'all' or a number 1..{len(members)}"
                ) from None
            if threshold < 1:
                raise _malformed(number, "group threshold must be at least 1")
        if len(self.policy.groups) >= MAX_GROUPS:
            raise _malformed(number, f"more than {MAX_GROUPS} groups")
        self.policy.groups[name] = Group(name, threshold, members, keyword)

    def quorum(self, args: list[str], number: int) -> None:
        if len(args) != 1:
            raise _malformed(number, "expected 'quorum <name>'")
        if self.quorum_seen:
            raise _malformed(number, "a policy has exactly one quorum line")
        if not self._defined(args[0]):
            raise _malformed(number, f"quorum {args[0]!r} is not defined on an earlier line")
        self.quorum_seen = True
        self.policy.quorum = args[0]


def parse_policy(text: bytes | str) -> Policy:
    """Parse a tlog-policy file strictly; MalformedError names the offending line."""
    source = _decode(text)
    if source and not source.endswith("\n"):
        raise MalformedError(
            "policy does not end with a newline",
            hint="every policy line ends with '\\n'",
            reason="malformed_policy",
        )
    builder = _PolicyBuilder()
    handlers = {
        "log": builder.log,
        "witness": builder.witness,
        "group": builder.group,
        "quorum": builder.quorum,
    }
    for number, line in enumerate(source[:-1].split("\n") if source else [], 1):
        _check_characters(line, number)
        # Split on runs of space/tab only (str.split() would also split on other whitespace).
        items = line.replace("\t", " ").split(" ")
        items = [item for item in items if item]
        if not items or items[0].startswith("#"):
            continue
        handler = handlers.get(items[0])
        if handler is None:
            raise _malformed(number, f"unknown keyword {items[0]!r}")
        handler(items[1:], number)
    if not builder.quorum_seen:
        raise MalformedError(
            "policy has no quorum line",
            hint="add 'quorum none' to require no witnesses",
            reason="malformed_policy",
        )
    return builder.policy


def format_policy(policy: Policy) -> str:
    """Write a policy in canonical order: logs, witnesses, groups, quorum.

    Groups keep their definition order, so members are always defined first.
    """
    lines = []
    for log in policy.logs:
        url = policy.log_urls.get(log.vkey)
        lines.append(f"log {log.vkey}" + (f" {url}" if url else ""))
    for name, witness in policy.witnesses.items():
        url = policy.witness_urls.get(name)
        lines.append(f"witness {name} {witness.vkey}" + (f" {url}" if url else ""))
    for group in policy.groups.values():
        lines.append(f"group {group.name} {group.threshold_text()} {' '.join(group.members)}")
    lines.append(f"quorum {policy.quorum}")
    return "".join(line + "\n" for line in lines)
