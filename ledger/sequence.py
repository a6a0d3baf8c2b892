"""Per-key sequence numbers for signers who sign before (or without) seeing the log.

Every entry carries its signer's sequence number, which must strictly increase within a log. A signer
that signs several entries before any of them is appended cannot learn the next number from the log,
so the last number used with a key file is kept beside it in ``<key file>.seq`` (one decimal line).
The next number is one more than the larger of that file and what the log has already admitted.
"""

from __future__ import annotations

import os

from .errors import MalformedError, StorageError


def _state_path(key_path: str) -> str:
    return key_path + ".seq"


def last_used(key_path: str) -> int:
    """The last sequence number signed with this key file (0 if none)."""
    try:
        with open(_state_path(key_path), "rb") as f:
            text = f.read().decode("ascii", "replace").strip()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise StorageError(f"cannot read {_state_path(key_path)}: {exc.strerror}",
                           hint="check its permissions") from exc
    if not text.isdigit():
        raise MalformedError(f"{_state_path(key_path)} does not hold a sequence number",
                             hint="fix or delete it and pass --seq explicitly", reason="bad_seq_file")
    return int(text)


def record(key_path: str, seq: int) -> None:
    """Remember that ``seq`` was used (atomically: write a temporary file, then rename)."""
    path = _state_path(key_path)
    temp = path + ".tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{seq}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}", hint="check the directory") from exc


def next_seq(key_path: str, admitted: int | None) -> int:
    """The number to sign with next, given the log's last admitted one for this key (or None)."""
    return max(last_used(key_path), admitted or 0) + 1
