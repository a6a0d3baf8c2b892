"""The one exception hierarchy of pactlog.

Every error names what was wrong (``message``) and what to do about it
(``hint``), carries a stable machine-readable ``reason`` (snake_case, used in
``--json`` output) and maps to one process exit code:

    0  ok
    1  VerificationFailed  evidence that something is wrong: a bad proof or
                           signature, inconsistent checkpoints, a corrupted database
    2  InvalidInput        usage error or bad input, rejected before anything is stored
    3  StorageError        environment: database missing or locked, unreadable key file

Pure modules raise these too; only the CLI turns them into exit codes.
"""

from __future__ import annotations


class PactlogError(Exception):
    """Base of every error pactlog raises on purpose."""

    exit_code = 2
    default_reason = "error"

    def __init__(self, message: str, *, hint: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.reason = reason or self.default_reason

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def to_json(self) -> dict:
        """The machine-readable form used by ``--json`` output."""
        return {
            "ok": False,
            "exit_code": self.exit_code,
            "error": type(self).__name__,
            "reason": self.reason,
            "message": self.message,
            "hint": self.hint,
        }


# --- exit code 2: bad input, nothing stored -------------------------------------------------


class InvalidInput(PactlogError):
    """Input that is malformed or not acceptable; rejected before anything is stored."""

    exit_code = 2
    default_reason = "invalid_input"


class MalformedError(InvalidInput):
    """Bytes that do not parse under a pactlog or C2SP format (strict parsers)."""

    default_reason = "malformed"


class EntryRejected(InvalidInput):
    """A well-formed entry that the log refuses to admit (bad signature, replay, too big, ...)."""

    default_reason = "entry_rejected"


class BadKey(InvalidInput):
    """A key that cannot be used: wrong passphrase, wrong kind, name mismatch."""

    default_reason = "bad_key"


# --- exit code 1: verification failed ------------------------------------------------------


class VerificationFailed(PactlogError):
    """Evidence that something is wrong: a proof, signature or checkpoint does not verify."""

    exit_code = 1
    default_reason = "verification_failed"


class CorruptionError(VerificationFailed):
    """Stored data that contradicts itself: a changed byte, a hash that does not recompute."""

    default_reason = "corrupted"


# --- exit code 3: storage or environment ---------------------------------------------------


class StorageError(PactlogError):
    """The environment is not usable: a database or key file is missing, locked or unreadable."""

    exit_code = 3
    default_reason = "storage_error"


class LogLocked(StorageError):
    """Another process is writing to this log."""

    default_reason = "locked"


class NotFound(StorageError):
    """A database, key file or stored item that should exist does not."""

    default_reason = "not_found"
