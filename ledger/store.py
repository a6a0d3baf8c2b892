"""SQLite storage of a log: the only module that touches SQLite.

What is stored (see specs/storage.md for the invariants):

* ``entries(idx, hash_prefix, data)``: the entry bytes exactly as logged. ``hash_prefix`` is the first
  8 bytes of the leaf hash as a signed integer; its index finds duplicates in O(log n) without storing a
  second 32-byte copy of every leaf hash.
* ``nodes(id, hashes)`` and ``edge(level, stripe, hashes)``: every *complete* perfect-subtree hash,
  level by level, packed in stripes of ``STRIPE`` consecutive hashes of one level. A full stripe is
  written once into ``nodes`` and never changes; the one growing stripe of each level lives in
  ``edge`` (at most one row per level). A proof or a historical root needs O(log n) nodes, which two
  small queries fetch; appending touches amortised O(1) rows.
* ``signers(key, last_seq)``: the last sequence number admitted per signer key.
* ``checkpoints(size, note)``: every signed checkpoint the log has issued, verbatim.
* ``meta(key, value)``: format version, origin and the log's verifier key.

One writer at a time: a writer holds an exclusive ``flock`` on ``<db>.lock`` for as long as it is open,
so a second writer gets ``LogLocked`` at once instead of interleaving its batches. Readers take no
lock (SQLite's WAL mode gives them a consistent snapshot).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import sqlite_utils

from .canonical import utf16_key
from .errors import CorruptionError, LogLocked, NotFound, StorageError

FORMAT_VERSION = "pactlog-sqlite/1"
# Hashes per stored stripe. Two rows of 63 hashes (2,016 bytes plus about 13 bytes of cell overhead
# each) fill a 4 KiB page to 99%; 64 hashes would leave every page half empty.
STRIPE = 63
HASH_SIZE = 32
STRIPE_BYTES = STRIPE * HASH_SIZE
MAX_LEVELS = 64


def stripe_key(level: int, stripe: int) -> int:
    """The row id of a full stripe: ordered by when the stripe fills up, so that every insert lands
    at the end of the table (SQLite then packs its pages full instead of splitting them in half).

    Stripe ``(level, s)`` fills when its last node completes, i.e. when leaf
    ``((s + 1) * STRIPE << level) - 1`` is appended; stripes of several levels that fill at the same
    leaf are ordered by level."""
    return ((((stripe + 1) * STRIPE) << level) - 1) * MAX_LEVELS + level


def hash_prefix(leaf_hash: bytes) -> int:
    return int.from_bytes(leaf_hash[:8], "big", signed=True)


def node_from_stripes(blobs: Mapping[tuple[int, int], bytes], node: tuple[int, int]) -> bytes:
    """Node (level, index) cut from its stripe, or CorruptionError if the stripe lacks it."""
    level, index = node
    stripe, slot = divmod(index, STRIPE)
    blob = blobs.get((level, stripe))
    offset = slot * HASH_SIZE
    if blob is None or len(blob) < offset + HASH_SIZE:
        raise CorruptionError(
            f"the hash of tree node (level {level}, index {index}) is missing",
            hint="the database is damaged or was altered; run `pactlog audit`",
            reason="missing_node",
        )
    return blob[offset : offset + HASH_SIZE]


class Store:
    """An open log database. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, path: str, conn: sqlite3.Connection, lock_fd: int | None):
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self.writable = lock_fd is not None
        meta = dict(self._query("SELECT key, value FROM meta"))
        if meta.get("format") != FORMAT_VERSION:
            raise StorageError(
                f"{path} is not a pactlog log database (format {meta.get('format')!r})",
                hint=f"expected format {FORMAT_VERSION}; check the --db path",
                reason="wrong_format",
            )
        self.origin: str = meta["origin"]
        self.log_vkey: str = meta["log_vkey"]

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str, *, origin: str, log_vkey: str) -> "Store":
        if os.path.exists(path):
            raise StorageError(
                f"{path} already exists", hint="choose another --db path or remove the old log first",
                reason="exists",
            )
        lock_fd = _acquire_writer_lock(path)
        try:
            conn = _connect(path, readonly=False)
            db = sqlite_utils.Database(conn)
            db.enable_wal()
            conn.execute("BEGIN IMMEDIATE")
            db["meta"].create({"key": str, "value": str}, pk="key")
            db["entries"].create({"idx": int, "hash_prefix": int, "data": bytes}, pk="idx", not_null={"hash_prefix", "data"})
            db["entries"].create_index(["hash_prefix"], index_name="entries_by_hash_prefix")
            db["nodes"].create({"id": int, "hashes": bytes}, pk="id", not_null={"hashes"})
            db["edge"].create({"level": int, "stripe": int, "hashes": bytes}, pk="level",
                              not_null={"stripe", "hashes"})
            # WITHOUT ROWID: one b-tree instead of a table plus its key index (one page less per append)
            conn.execute("CREATE TABLE signers (key TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID")
            db["checkpoints"].create({"size": int, "note": bytes}, pk="size", not_null={"note"})
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [("format", FORMAT_VERSION), ("origin", origin), ("log_vkey", log_vkey)],
            )
            conn.execute("COMMIT")
        except BaseException:
            _release_writer_lock(lock_fd)
            raise
        return cls(path, conn, lock_fd)

    @classmethod
    def open(cls, path: str, *, write: bool = False) -> "Store":
        if not os.path.exists(path):
            raise NotFound(
                f"no log database at {path}",
                hint="run `pactlog init` to create one, or pass the right --db / PACTLOG_DB",
            )
        lock_fd = _acquire_writer_lock(path) if write else None
        try:
            conn = _connect(path, readonly=not write)
            return cls(path, conn, lock_fd)
        except sqlite3.DatabaseError as exc:
            if lock_fd is not None:
                _release_writer_lock(lock_fd)
            raise _storage_error(path, exc) from exc
        except BaseException:
            if lock_fd is not None:
                _release_writer_lock(lock_fd)
            raise

    def close(self) -> None:
        lock_fd, self._lock_fd = self._lock_fd, None
        _close(self._conn, lock_fd)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable = ()) -> list:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc

    def size(self) -> int:
        """Number of entries: one more than the highest index (O(log n) on the rowid)."""
        (top,) = self._query("SELECT max(idx) FROM entries")[0]
        return 0 if top is None else top + 1

    def entry(self, idx: int) -> bytes:
        rows = self._query("SELECT data FROM entries WHERE idx = ?", (idx,))
        if not rows:
            raise NotFound(f"no entry at index {idx}", hint="indexes run from 0 to size-1")
        return bytes(rows[0][0])

    def entries(self, start: int = 0, end: int | None = None, batch: int = 2048) -> Iterator[tuple[int, bytes]]:
        """Entries with start <= idx < end, in order, fetched in batches (constant memory)."""
        idx = start
        while end is None or idx < end:
            limit = batch if end is None else min(batch, end - idx)
            rows = self._query(
                "SELECT idx, data FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?", (idx, limit)
            )
            if not rows:
                return
            for row_idx, data in rows:
                if row_idx != idx:
                    raise CorruptionError(
                        f"entry index {idx} is missing from the database (found {row_idx} next)",
                        hint="the database was altered; restore it from a copy and run `pactlog audit`",
                        reason="missing_entry",
                    )
                yield row_idx, bytes(data)
                idx += 1

    def indexes_with_hash_prefix(self, prefix: int) -> list[int]:
        return [r[0] for r in self._query("SELECT idx FROM entries WHERE hash_prefix = ?", (prefix,))]

    def edge(self) -> dict[int, tuple[int, bytes]]:
        """The growing stripe of each level: level -> (stripe number, hashes so far)."""
        return {level: (stripe, bytes(hashes))
                for level, stripe, hashes in self._query("SELECT level, stripe, hashes FROM edge")}

    def stripe(self, level: int, stripe: int) -> bytes:
        """The stored hashes of one stripe (full or growing); b"" if it holds none yet."""
        rows = self._query("SELECT hashes FROM nodes WHERE id = ?", (stripe_key(level, stripe),))
        if rows:
            return bytes(rows[0][0])
        rows = self._query("SELECT hashes FROM edge WHERE level = ? AND stripe = ?", (level, stripe))
        return bytes(rows[0][0]) if rows else b""

    def stripes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the given stripes (level, stripe): full ones with one query, the
        right edge's growing ones with at most one more. Stripes holding nothing are left out."""
        wanted = set(wanted)
        if not wanted:
            return {}
        keys = {stripe_key(level, stripe): (level, stripe) for level, stripe in wanted}
        marks = ",".join("?" * len(keys))
        blobs = {keys[row_id]: bytes(blob) for row_id, blob in
                 self._query(f"SELECT id, hashes FROM nodes WHERE id IN ({marks})", keys)}
        growing = {level for level, stripe in wanted if (level, stripe) not in blobs}
        if growing:
            marks = ",".join("?" * len(growing))
            for level, stripe, blob in self._query(
                f"SELECT level, stripe, hashes FROM edge WHERE level IN ({marks})", growing
            ):
                if (level, stripe) in wanted:
                    blobs.setdefault((level, stripe), bytes(blob))
        return blobs

    def nodes(self, ids: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The hashes of the given complete nodes (level, index)."""
        ids = set(ids)
        blobs = self.stripes((level, index // STRIPE) for level, index in ids)
        return {node: node_from_stripes(blobs, node) for node in ids}

    def last_seq(self, signer: str) -> int | None:
        rows = self._query("SELECT last_seq FROM signers WHERE key = ?", (signer,))
        return rows[0][0] if rows else None

    def checkpoint(self, size: int) -> bytes | None:
        rows = self._query("SELECT note FROM checkpoints WHERE size = ?", (size,))
        return bytes(rows[0][0]) if rows else None

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        rows = self._query("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def checkpoints(self) -> Iterator[tuple[int, bytes]]:
        for size, note in self._query("SELECT size, note FROM checkpoints ORDER BY size"):
            yield size, bytes(note)

    def count_checkpoints(self) -> int:
        return self._query("SELECT count(*) FROM checkpoints")[0][0]

    def count_full_stripes(self) -> int:
        return self._query("SELECT count(*) FROM nodes")[0][0]

    def integrity_check(self) -> list[str]:
        """SQLite's own structural check; [] when the file is sound."""
        rows = self._query("PRAGMA integrity_check")
        problems = [r[0] for r in rows]
        return [] if problems == ["ok"] else problems

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def _write(self):
        if not self.writable:
            raise StorageError("this log was opened read-only", hint="open it for writing", reason="read_only")
        with _transaction(self._conn, self.path) as conn:
            yield conn

    def write_batch(
        self,
        entries: list[tuple[int, int, bytes]],
        full_stripes: Mapping[tuple[int, int], bytes],
        edge: Mapping[int, tuple[int, bytes]],
        last_seqs: Mapping[str, int],
    ) -> None:
        """Store appended entries (idx, hash prefix, bytes), the stripes they filled, the new state of
        the growing stripes and the signers' new sequence numbers, all in one transaction: either the
        whole batch is durable or none of it is."""
        try:
            with self._write() as conn:
                conn.executemany("INSERT INTO entries(idx, hash_prefix, data) VALUES (?, ?, ?)", entries)
                if full_stripes:
                    conn.executemany(
                        "INSERT INTO nodes(id, hashes) VALUES (?, ?)",
                        sorted((stripe_key(level, stripe), blob) for (level, stripe), blob in full_stripes.items()),
                    )
                conn.executemany(
                    "INSERT OR REPLACE INTO edge(level, stripe, hashes) VALUES (?, ?, ?)",
                    [(level, stripe, blob) for level, (stripe, blob) in edge.items()],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO signers(key, last_seq) VALUES (?, ?)", list(last_seqs.items())
                )
        except sqlite3.IntegrityError as exc:
            raise CorruptionError(
                f"the database refused the batch: {exc}",
                hint="the stored log disagrees with its own size; run `pactlog audit`",
                reason="integrity",
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc

    def add_checkpoint(self, size: int, note: bytes) -> None:
        try:
            with self._write() as conn:
                conn.execute("INSERT INTO checkpoints(size, note) VALUES (?, ?)", (size, note))
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _transaction(conn: sqlite3.Connection, path: str):
    """One write transaction: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK if anything raised."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise _storage_error(path, exc) from exc
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise _storage_error(path, exc) from exc


def _connect(path: str, *, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # FULL: an acknowledged append survives power loss, not only a crash of this process.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn
    except sqlite3.DatabaseError as exc:
        raise _storage_error(path, exc) from exc


def _storage_error(path: str, exc: sqlite3.DatabaseError) -> Exception:
    text = str(exc)
    if "not a database" in text:
        return StorageError(
            f"{path} is not a database: {text}", hint="check the --db path", reason="not_a_database",
        )
    if "malformed" in text or "corrupt" in text:
        return CorruptionError(
            f"the database {path} is damaged: {text}",
            hint="restore it from a copy; `pactlog audit` reports what it can still read",
            reason="corrupted",
        )
    if "locked" in text or "busy" in text:
        return LogLocked(f"the database {path} is locked: {text}", hint="retry when the other process is done")
    return StorageError(f"cannot use the database {path}: {text}", hint="check the path and its permissions")


def _acquire_writer_lock(path: str) -> int:
    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"cannot create the lock file {lock_path}: {exc.strerror}",
                           hint="check that the directory is writable") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise LogLocked(
            f"another process is writing to the log {path}",
            hint="wait for it to finish; pactlog allows one writer at a time",
        ) from exc
    return fd


def _close(conn: sqlite3.Connection, lock_fd: int | None) -> None:
    """Close a connection, then release the lock its writer held (even if closing failed)."""
    try:
        conn.close()
    finally:
        if lock_fd is not None:
            _release_writer_lock(lock_fd)


def _release_writer_lock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# =============================================================================================
# Derived state: the rules engine's cache beside the log (ledger/derived.py, specs/derived-state.md)
#
# Everything below is a cache that ``ledger.derived`` rebuilds from the log whenever it is missing
# or out of date; nothing above this line reads it, and the log's own tables are never written
# here. The tables are created lazily (CREATE TABLE IF NOT EXISTS) by the first process that may
# write them, so databases made before they existed keep working unchanged.
#
# Writers of the cache take their own lock, ``<db>.derived.lock`` (not the log's writer lock), so
# deriving state never blocks an append and an append never waits for a rebuild. A process that
# cannot take it (another process is updating the cache) or cannot write the file gets a read-only
# ``DerivedTables`` and computes what the cache lacks in memory.
# =============================================================================================

DERIVED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS derived_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # One row per (kind, owner, name) and day on which its small view changed; a query as of day T
    # reads the row with the greatest day <= T: one b-tree seek.
    "CREATE TABLE IF NOT EXISTS derived_views (kind TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL, "
    "day INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, owner, name, day)) WITHOUT ROWID",
    # Engine snapshots (zlib-compressed Engine.snapshot()) after the first ``size`` entries, whose
    # engine day is ``day``; ``tip`` = 1 for the one snapshot at the end of the last sync.
    "CREATE TABLE IF NOT EXISTS derived_snapshots (size INTEGER PRIMARY KEY, day INTEGER NOT NULL, "
    "tip INTEGER NOT NULL, data BLOB NOT NULL)",
    # The rules engine's journal (ledger/disk_state.py): ineffective entries, balance movements
    # and rejections by subject, each at its position in the fold (2i: start of the day of entry i;
    # 2i + 1: entry i), in the order the engine made them (seq).
    "CREATE TABLE IF NOT EXISTS derived_journal (kind TEXT NOT NULL, subject TEXT NOT NULL, pos INTEGER NOT NULL, "
    "seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, subject, pos, seq)) WITHOUT ROWID",
    # Claims, commitments, pacts and incidents moved out of the engine's memory (ledger/disk_state.py):
    # the version of record ``key`` of ``kind`` as of position ``pos``. ``sort`` is the key in UTF-16
    # (big-endian), so that the table's order is RFC 8785's key order (a digest streams it).
    "CREATE TABLE IF NOT EXISTS derived_records (kind TEXT NOT NULL, sort BLOB NOT NULL, pos INTEGER NOT NULL, "
    "key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, sort, pos)) WITHOUT ROWID",
    # The older items of long per-actor lists (breaches, self-reports) moved out of the engine's memory
    # (ledger/rules/records.py, TailList): item ``ordinal`` of list (kind, owner).
    "CREATE TABLE IF NOT EXISTS derived_sequences (kind TEXT NOT NULL, owner TEXT NOT NULL, ordinal INTEGER NOT NULL, "
    "data TEXT NOT NULL, PRIMARY KEY (kind, owner, ordinal)) WITHOUT ROWID",
    # Memoised state digests: the digest as of ``day`` computed from the first ``size`` entries.
    "CREATE TABLE IF NOT EXISTS derived_digests (day INTEGER PRIMARY KEY, size INTEGER NOT NULL, "
    "digest TEXT NOT NULL)",
)
CACHE_AUTOCHECKPOINT_PAGES = 10_000   # 40 MB of WAL: ten times the log writer's threshold
DERIVED_TABLES = ("derived_meta", "derived_views", "derived_snapshots", "derived_journal", "derived_records",
                  "derived_sequences", "derived_digests")

ViewRow = tuple[str, str, str, int, str]  # kind, owner, name, day, data


class DerivedTables:
    """The derived-state tables of one log database, with their own connection and lock.

    Open with :meth:`open`; ``writable`` says whether this process may update them (it holds
    ``<db>.derived.lock`` and the file is writable); ``read_only_reason`` says why not."""

    def __init__(self, path: str, conn: sqlite3.Connection, lock_fd: int | None, reason: str | None):
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self.writable = lock_fd is not None
        self.read_only_reason = reason

    @classmethod
    def open(cls, path: str, *, write: bool = True, durable: bool = True) -> "DerivedTables":
        """Open for writing when possible (the derived lock is free and the file writable), else
        read-only. Never raises because another process is busy. ``durable=False`` is for a
        throwaway database (a scratch replay's): no fsync, the rollback journal in memory."""
        if not os.path.exists(path):
            raise NotFound(f"no log database at {path}", hint="run `pactlog init` or pass the right --db")
        reason = "not requested" if not write else None
        lock_fd = None
        if write:
            lock_fd, reason = _try_derived_lock(path)
        if lock_fd is not None:
            conn = None
            try:
                conn = _connect(path, readonly=False)
                if durable:
                    conn.execute("PRAGMA synchronous=NORMAL")  # a cache: consistent after a crash, may lose the last sync
                    # The log's writer checkpoints the shared WAL (at SQLite's default 1,000 pages),
                    # so that a sync after an append does not pay for copying the append's pages;
                    # this connection checkpoints only when it writes much alone (a cold build).
                    conn.execute(f"PRAGMA wal_autocheckpoint={CACHE_AUTOCHECKPOINT_PAGES}")
                else:
                    conn.execute("PRAGMA synchronous=OFF")
                    conn.execute("PRAGMA journal_mode=MEMORY")
                if not _derived_schema_current(conn):
                    # Some table is missing or made by other code: what is there is no cache.
                    conn.execute("BEGIN IMMEDIATE")
                    for table in DERIVED_TABLES:
                        conn.execute(f"DROP TABLE IF EXISTS {table}")
                    for statement in DERIVED_SCHEMA:
                        conn.execute(statement)
                    conn.execute("COMMIT")
                return cls(path, conn, lock_fd, None)
            except (sqlite3.DatabaseError, StorageError) as exc:
                if conn is not None:
                    conn.close()
                _release_writer_lock(lock_fd)
                reason = f"the database cannot be written ({exc})"
        return cls(path, _connect(path, readonly=True), None, reason)

    def close(self) -> None:
        lock_fd, self._lock_fd = self._lock_fd, None
        _close(self._conn, lock_fd)

    # -- reads (each consistent on its own; group several with ``reading()``) ------------------

    @contextmanager
    def reading(self):
        """One read transaction: every query inside sees the same committed state. Nested, or
        inside this process's own write transaction, it adds nothing."""
        if self._conn.in_transaction:
            yield self
            return
        try:
            self._conn.execute("BEGIN")
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc
        try:
            yield self
        finally:
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Iterable = ()) -> list:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # never created: an empty cache
                return []
            raise _storage_error(self.path, exc) from exc
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc

    def meta(self) -> dict[str, str]:
        """The cache's meta rows; {} when any derived table is missing or has another layout (a
        cache with a table dropped or made by other code is no cache)."""
        try:
            if not _derived_schema_current(self._conn):
                return {}
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc
        return dict(self._read("SELECT key, value FROM derived_meta"))

    def view(self, kind: str, owner: str, name: str, day: int) -> tuple[int, str] | None:
        """The latest row of (kind, owner, name) dated <= day: (day, data), or None."""
        rows = self._read(
            "SELECT day, data FROM derived_views WHERE kind = ? AND owner = ? AND name = ? AND day <= ? "
            "ORDER BY day DESC LIMIT 1", (kind, owner, name, day))
        return (rows[0][0], rows[0][1]) if rows else None

    def views(self, kind: str, day: int, owner: str | None = None) -> list[tuple[str, str, int, str]]:
        """For every (owner, name) of ``kind`` (optionally one owner) with a row dated <= day, its
        latest such row: (owner, name, day, data), ordered by owner and name."""
        # SQLite takes the bare columns of a max() aggregate from the row holding the maximum.
        if owner is None:
            sql = ("SELECT owner, name, max(day), data FROM derived_views WHERE kind = ? AND day <= ? "
                   "GROUP BY owner, name ORDER BY owner, name")
            params: tuple = (kind, day)
        else:
            sql = ("SELECT owner, name, max(day), data FROM derived_views WHERE kind = ? AND owner = ? "
                   "AND day <= ? GROUP BY name ORDER BY name")
            params = (kind, owner, day)
        return [(o, n, d, data) for o, n, d, data in self._read(sql, params)]

    def snapshot(self, max_day: int | None = None, max_size: int | None = None) -> tuple[int, int, bytes] | None:
        """The snapshot with the greatest size whose day <= max_day and size <= max_size: (size, day, data)."""
        rows = self._read(
            "SELECT size, day, data FROM derived_snapshots WHERE day <= ? AND size <= ? ORDER BY size DESC LIMIT 1",
            (_BIG if max_day is None else max_day, _BIG if max_size is None else max_size))
        return (rows[0][0], rows[0][1], bytes(rows[0][2])) if rows else None

    def snapshot_sizes(self) -> list[tuple[int, int, bool]]:
        """(size, day, tip) of every stored snapshot, by size."""
        return [(s, d, bool(t)) for s, d, t in self._read("SELECT size, day, tip FROM derived_snapshots ORDER BY size")]

    def journal(self, kind: str, subject: str, through: int, pos: int | None = None) -> list[str]:
        """The data of the journal records of (kind, subject) at positions <= ``through`` (only at
        ``pos`` if given), in the order they were made."""
        if pos is None:
            return list(self.journal_stream(kind, subject, through))
        if pos > through:
            return []
        return [data for (data,) in self._read(
            "SELECT data FROM derived_journal WHERE kind = ? AND subject = ? AND pos = ? ORDER BY seq",
            (kind, subject, pos))]

    def record(self, kind: str, key: str, through: int) -> str | None:
        """The data of the latest stored version of a record at a position <= ``through``."""
        rows = self._read("SELECT data FROM derived_records WHERE kind = ? AND sort = ? AND pos <= ? "
                          "ORDER BY pos DESC LIMIT 1", (kind, utf16_key(key), through))
        return rows[0][0] if rows else None

    def records(self, kind: str, through: int, batch: int = 1024) -> Iterator[tuple[str, str]]:
        """(key, data) of the latest stored version at a position <= ``through`` of every record of
        ``kind``, in RFC 8785 key order (UTF-16 code units), read ``batch`` at a time."""
        after = b""
        while True:
            # SQLite takes the bare columns of a max() aggregate from the row holding the maximum.
            rows = self._read("SELECT sort, key, max(pos), data FROM derived_records WHERE kind = ? AND sort > ? "
                              "AND pos <= ? GROUP BY sort ORDER BY sort LIMIT ?", (kind, after, through, batch))
            for _, key, _, data in rows:
                yield key, data
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def records_among(self, kind: str, keys: list[str], through: int) -> list[tuple[str, str]]:
        """(key, data) of the latest stored version at a position <= ``through`` of each of ``keys``
        that has one, with one query per 500 keys."""
        found = []
        for start in range(0, len(keys), 500):
            part = [utf16_key(key) for key in keys[start:start + 500]]
            marks = ",".join("?" * len(part))
            found += [(key, data) for key, _, data in self._read(
                f"SELECT key, max(pos), data FROM derived_records WHERE kind = ? AND pos <= ? AND sort IN ({marks}) "
                "GROUP BY sort", (kind, through, *part))]
        return found

    def sequence(self, kind: str, owner: str, start: int, end: int) -> list[str]:
        """The data of items ``start``..``end - 1`` of the stored list (kind, owner), in order."""
        return [data for (data,) in self._read(
            "SELECT data FROM derived_sequences WHERE kind = ? AND owner = ? AND ordinal >= ? AND ordinal < ? "
            "ORDER BY ordinal", (kind, owner, start, end))]

    def journal_stream(self, kind: str, subject: str, through: int, batch: int = 2048) -> Iterator[str]:
        """The data of the journal records of (kind, subject) at positions <= ``through``, in order,
        read ``batch`` at a time."""
        after = (-1, -1)
        while True:
            rows = self._read("SELECT pos, seq, data FROM derived_journal WHERE kind = ? AND subject = ? "
                              "AND (pos, seq) > (?, ?) AND pos <= ? ORDER BY pos, seq LIMIT ?",
                              (kind, subject, *after, through, batch))
            for _, _, data in rows:
                yield data
            if len(rows) < batch:
                return
            after = (rows[-1][0], rows[-1][1])

    def digest(self, day: int) -> tuple[int, str] | None:
        rows = self._read("SELECT size, digest FROM derived_digests WHERE day = ?", (day,))
        return (rows[0][0], rows[0][1]) if rows else None

    # -- writes (each one transaction) ----------------------------------------------------------

    @contextmanager
    def _write(self):
        if not self.writable:
            raise StorageError(f"the derived state of {self.path} is open read-only ({self.read_only_reason})",
                               reason="read_only")
        with _transaction(self._conn, self.path) as conn:
            yield conn

    def save(self, *, views: Iterable[ViewRow] = (), snapshots: Iterable[tuple[int, int, bool, bytes]] = (),
             drop_snapshots: Iterable[int] = (), drop_tips: bool = False, meta: Mapping[str, str] | None = None,
             journal: Iterable[tuple[str, str, int, int, str]] = (),
             records: Iterable[tuple[str, str, int, str]] = (),
             sequences: Iterable[tuple[str, str, int, str]] = ()) -> None:
        """Store view rows (replacing a row of the same key and day), snapshots (size, day, tip, data),
        journal records (kind, subject, pos, seq, data), evicted records (kind, key, pos, data) and
        spilled list items (kind, owner, ordinal, data), drop snapshots by size (and every tip first
        when ``drop_tips``) and update meta, atomically."""
        try:
            with self._write() as conn:
                conn.executemany("INSERT OR REPLACE INTO derived_journal(kind, subject, pos, seq, data) "
                                 "VALUES (?, ?, ?, ?, ?)", list(journal))
                conn.executemany("INSERT OR REPLACE INTO derived_records(kind, sort, pos, key, data) VALUES (?, ?, ?, ?, ?)",
                                 [(kind, utf16_key(key), pos, key, data) for kind, key, pos, data in records])
                conn.executemany("INSERT OR REPLACE INTO derived_sequences(kind, owner, ordinal, data) "
                                 "VALUES (?, ?, ?, ?)", list(sequences))
                conn.executemany("INSERT OR REPLACE INTO derived_views(kind, owner, name, day, data) VALUES (?, ?, ?, ?, ?)",
                                 list(views))
                if drop_tips:
                    conn.execute("DELETE FROM derived_snapshots WHERE tip = 1")
                conn.executemany("DELETE FROM derived_snapshots WHERE size = ?", [(s,) for s in drop_snapshots])
                conn.executemany("INSERT OR REPLACE INTO derived_snapshots(size, day, tip, data) VALUES (?, ?, ?, ?)",
                                 [(s, d, int(t), data) for s, d, t, data in snapshots])
                if meta:
                    conn.executemany("INSERT OR REPLACE INTO derived_meta(key, value) VALUES (?, ?)", list(meta.items()))
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc

    def save_digest(self, day: int, size: int, digest: str) -> None:
        try:
            with self._write() as conn:
                conn.execute("INSERT OR REPLACE INTO derived_digests(day, size, digest) VALUES (?, ?, ?)",
                             (day, size, digest))
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc

    def clear(self, meta: Mapping[str, str]) -> None:
        """Forget the whole cache (a rebuild starts) and set meta."""
        try:
            with self._write() as conn:
                for table in DERIVED_TABLES:
                    conn.execute(f"DELETE FROM {table}")
                conn.executemany("INSERT INTO derived_meta(key, value) VALUES (?, ?)", list(meta.items()))
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self.path, exc) from exc


_BIG = 2**62


def _derived_schema_current(conn: sqlite3.Connection) -> bool:
    """Whether every derived table exists with exactly the layout DERIVED_SCHEMA creates."""
    marks = ",".join("?" * len(DERIVED_TABLES))
    found = dict(conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",
                              DERIVED_TABLES).fetchall())
    return found == _EXPECTED_DERIVED_SQL


# sqlite_master keeps each CREATE TABLE as written, less "IF NOT EXISTS".
_EXPECTED_DERIVED_SQL = {
    statement.split()[5]: statement.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE") for statement in DERIVED_SCHEMA
}


def _try_derived_lock(path: str) -> tuple[int | None, str | None]:
    """The derived-state lock without waiting: (fd, None), or (None, why not)."""
    lock_path = path + ".derived.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        return None, f"cannot create {lock_path}: {exc.strerror}"
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None, "another process is updating the derived state"
    return fd, None
