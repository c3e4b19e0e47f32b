"""The SQLite file of the embedded store: opening (refusing foreign files untouched), the schema, one
connection per thread, write transactions retried while SQLite answers locked/busy, read snapshots, and the
stream/component row ids. :class:`channels.stores.sqlite_store.SQLiteStore` owns one :class:`SQLiteDatabase`
and so do its parts (level of detail, change log, columnar reads); they reach the file only through it.

Several processes on one file: every connection waits up to ``busy_timeout_ms`` for the write lock, and where
SQLite still refuses ("database is locked" / "busy": a lock it cannot wait for, e.g. while another connection
recovers the WAL or changes the journal mode) the whole transaction is rolled back and run again, up to
``WRITE_ATTEMPTS`` times with a growing pause; only then is the error raised (a StoreError naming the file and
what was being written).
"""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from ..errors import ChannelsError, StoreError
from ..stream import StreamId
from .sqlite_blocks import SCHEMA as _BLOCKS_SCHEMA

#: the newest schema this code reads: 2 = a file holding array blocks (set by the first block written), 3 = one
#: holding encoded blocks (see :mod:`channels.stores.sqlite_blocks`); a new file starts at 1, which older
#: versions still open
SCHEMA_VERSION = 3
_NEW_FILE_VERSION = 1
APPLICATION = "hyperstream-studio"
SQLITE_HEADER = b"SQLite format 3\x00"

#: a write transaction SQLite refuses as locked/busy is run again up to this many times in all
WRITE_ATTEMPTS = 12
#: the WAL grows to this many pages (64 MB) before a commit copies them into the file (SQLite's default: 1,000).
#: Each copy ends with an fsync of both files, and a page changed by many commits meanwhile is copied once: a
#: local worker committing a batch of workflow steps (~200 pages) made a copy every 5 commits, and its commits
#: spent 3-5x their CPU time waiting for those fsyncs (30 homes: 0.15-0.44 ms of wall time per step, against
#: 0.04-0.19 ms with this value, same run)
WAL_CHECKPOINT_PAGES = 16_384
#: pause before the first repeat (seconds); doubled each time, with jitter, at most _RETRY_MAX_S
_RETRY_FIRST_S = 0.005
_RETRY_MAX_S = 0.5


def _is_busy(e: BaseException) -> bool:
    """Whether SQLite refused for a lock it could not get (worth running the transaction again)."""
    if not isinstance(e, sqlite3.OperationalError):
        return False
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _retry_pause(attempt: int) -> None:
    time.sleep(min(_RETRY_MAX_S, _RETRY_FIRST_S * (2 ** attempt)) * (0.5 + random.random()))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hsgui_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (sid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, lod_level INTEGER);
CREATE TABLE IF NOT EXISTS definitions (
    sid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, meta TEXT NOT NULL,
    channel_id TEXT NOT NULL, stream_type TEXT, sandbox TEXT, last_updated INTEGER, last_accessed INTEGER,
    calculated_intervals TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS definitions_channel ON definitions (channel_id, key);
CREATE INDEX IF NOT EXISTS definitions_updated ON definitions (channel_id, last_updated);
CREATE TABLE IF NOT EXISTS instances (
    sid INTEGER NOT NULL, ts INTEGER NOT NULL, v, num REAL, PRIMARY KEY (sid, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS components (
    cid INTEGER PRIMARY KEY, sid INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (sid, name));
CREATE TABLE IF NOT EXISTS component_values (
    cid INTEGER NOT NULL, ts INTEGER NOT NULL, num REAL NOT NULL, k INTEGER, PRIMARY KEY (cid, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lod (
    sid INTEGER NOT NULL, comp INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL,
    n INTEGER NOT NULL, nn INTEGER NOT NULL, s REAL, mn REAL, mx REAL, f INTEGER NOT NULL, l INTEGER NOT NULL,
    PRIMARY KEY (sid, comp, level, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_ms INTEGER NOT NULL,
    record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (id INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_collection ON documents (collection, id);
CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY AUTOINCREMENT, sid INTEGER NOT NULL, channel_id TEXT,
    lo INTEGER NOT NULL, hi INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_stream ON changes (sid, at);
CREATE INDEX IF NOT EXISTS changes_at ON changes (at);
""" + _BLOCKS_SCHEMA + ";\n"



class SQLiteDatabase:
    """One SQLite file (created if missing) in the store's schema; see the module docstring."""

    def __init__(self, path, busy_timeout_ms: int = 30_000):
        self.path = str(Path(path).expanduser())
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._local = threading.local()
        self._sids: dict[str, int] = {}          # stream key -> committed row id (see sid)
        self._all_connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._probe()
        con = self.con()
        try:
            self.retrying(lambda: con.execute("PRAGMA journal_mode=WAL").fetchall())
            with self.write(con):
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                if "k" not in {r[1] for r in con.execute("PRAGMA table_info(component_values)")}:
                    con.execute("ALTER TABLE component_values ADD COLUMN k INTEGER")  # files of earlier versions
                row = con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()
                if row is None:
                    con.execute("INSERT INTO hsgui_meta VALUES ('schema_version', ?), ('application', ?)",
                                (str(_NEW_FILE_VERSION), APPLICATION))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise self._newer(int(row[0]))
        except sqlite3.Error as e:
            self.close()
            raise StoreError(f"cannot open SQLite store {self.path}: {e}") from e
        except ChannelsError:
            self.close()
            raise

    # -- opening ---------------------------------------------------------------------------------------------
    def _newer(self, version: int) -> StoreError:
        return StoreError(f"SQLite store {self.path} was written by a newer version of HyperStream Studio "
                          f"(schema version {version}; this version reads up to {SCHEMA_VERSION}): "
                          f"upgrade HyperStream Studio to open it")

    def _probe(self) -> None:
        """Refuse a file that is not our store before writing anything to it."""
        p = Path(self.path)
        if p.is_dir():
            raise StoreError(f"cannot open SQLite store {self.path}: it is a folder")
        if not p.exists():
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"cannot create the folder of SQLite store {self.path}: {e}") from e
            return
        try:
            size = p.stat().st_size
            with open(p, "rb") as f:
                head = f.read(100)
        except OSError as e:
            raise StoreError(f"cannot read SQLite store {self.path}: {e}") from e
        if size == 0:
            return
        if len(head) < 100 or not head.startswith(SQLITE_HEADER):
            raise StoreError(f"{self.path} is not an SQLite database (wrong file header); "
                             f"it was left unchanged")
        # a read-only open of a WAL-mode file may create its -wal/-shm side files; remove the ones this
        # probe created if the file turns out to be unusable, so a rejected file's folder is left as it was
        side = [self.path + "-wal", self.path + "-shm"]
        created_by_probe = [f for f in side if not os.path.exists(f)]
        try:
            con = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self.busy_timeout_ms / 1000)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path}: {e}") from e
        try:
            self._check_probe(con, created_by_probe)
        finally:
            con.close()

    def _check_probe(self, con, created_by_probe):
        def reject(error: StoreError):
            con.close()
            for f in created_by_probe:
                try:
                    os.remove(f)
                except OSError:
                    pass
            raise error

        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = None
            if "hsgui_meta" in tables:
                row = con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()
                version = int(row[0]) if row else None
                for t in ("instances", "blocks", "definitions", "lod"):
                    if t in tables:
                        con.execute(f"SELECT * FROM {t} LIMIT 1").fetchall()
        except (sqlite3.Error, ValueError) as e:
            reject(StoreError(f"{self.path} is corrupt or not a HyperStream Studio store ({e}); "
                              f"it was left unchanged"))
        user_tables = {t for t in tables if not t.startswith("sqlite_")}
        if user_tables and "hsgui_meta" not in user_tables:
            names = ", ".join(sorted(user_tables)[:5])
            reject(StoreError(f"{self.path} is an SQLite database of another application (tables: {names}); "
                              f"it was left unchanged"))
        if version is not None and version > SCHEMA_VERSION:
            reject(self._newer(version))

    def con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        if self._closed:
            raise StoreError(f"SQLite store {self.path} is closed")
        try:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  timeout=self.busy_timeout_ms / 1000)
            con.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms:d}")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES:d}")
            con.execute("PRAGMA cache_size=-65536")
            con.execute("PRAGMA temp_store=MEMORY")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path}: {e}") from e
        self._local.con = con
        with self._lock:
            self._all_connections.append(con)
        return con

    @staticmethod
    def retrying(step):
        """``step()``, run again (bounded, with pauses) while SQLite refuses it as locked/busy."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return step()
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or attempt == WRITE_ATTEMPTS - 1:
                    raise
            _retry_pause(attempt)

    def _begin(self, con) -> None:
        # the write lock is polled in short pauses, not left to SQLite's busy handler: its sleeps (1, 2, 5,
        # 10 ms ...) are many times a write transaction here, so writers in several processes would spend
        # their time asleep while the lock is free, and the one that just committed would take it again
        con.execute("PRAGMA busy_timeout=0")
        try:
            pause, deadline = 20e-6, time.monotonic() + self.busy_timeout_ms / 1000
            while True:
                try:
                    con.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    if not _is_busy(e) or time.monotonic() > deadline:
                        raise
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 1.5, 1e-3)
        finally:
            con.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms:d}")

    def _commit(self, con) -> None:
        self.retrying(lambda: con.execute("COMMIT"))

    @staticmethod
    def _rollback_quietly(con) -> None:
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    @contextmanager
    def write(self, con=None):
        """One write transaction around the with-block (``BEGIN IMMEDIATE`` and ``COMMIT`` are retried while
        SQLite answers locked/busy; the block itself runs once -- see :meth:`transact` to retry it too)."""
        con = con or self.con()
        self._begin(con)
        self._local.writing = True
        try:
            yield con
        except BaseException:
            self._rollback_quietly(con)
            raise
        else:
            try:
                self._commit(con)
            except BaseException:
                self._rollback_quietly(con)
                raise
        finally:
            self._local.writing = False

    def transact(self, body):
        """``body(con)`` in one write transaction; the whole transaction is rolled back and run again (up to
        ``WRITE_ATTEMPTS`` times) while SQLite refuses any step of it as locked/busy. Returns ``body``'s result."""
        for attempt in range(WRITE_ATTEMPTS):
            con = self.con()
            try:
                with self.write(con):
                    return body(con)
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or attempt == WRITE_ATTEMPTS - 1:
                    raise
            _retry_pause(attempt)

    @property
    def group(self):
        """This thread's :class:`~channels.stores.sqlite_group.WriteGroup` (None outside one)."""
        return getattr(self._local, "group", None)

    @contextmanager
    def write_group(self, max_instances: int | None = None):
        """Queue this thread's store writes and commit them together at the end (see
        :mod:`channels.stores.sqlite_group`); inside a group already open on this thread, that one is used."""
        group = self.group
        if group is not None:
            yield group
            return
        from .sqlite_group import GROUP_MAX_INSTANCES, WriteGroup
        group = self._local.group = WriteGroup(self, GROUP_MAX_INSTANCES if max_instances is None else max_instances)
        try:
            yield group
        except Exception:
            self._local.group = None
            try:
                group.flush()   # what was written before the error is kept, as without a group
            except Exception:  # noqa: BLE001 - the first error is the one to tell
                pass
            raise
        finally:
            self._local.group = None
        group.flush()

    @contextmanager
    def snapshot(self):
        """One read transaction on this thread's connection: every query inside sees the same committed state.

        In WAL mode a deferred ``BEGIN`` takes its snapshot at the first read and keeps it until ``COMMIT``, so
        an answer built from several queries (count, summary, first/last, columns) never mixes a writer's
        batches. Inside a transaction already open on this connection, that one is used.
        """
        con = self.con()
        if con.in_transaction:
            yield con
            return
        con.execute("BEGIN")
        try:
            yield con
        finally:
            if con.in_transaction:
                con.execute("COMMIT")  # read-only: ends the snapshot

    @contextmanager
    def errors(self, what: str):
        try:
            yield
        except sqlite3.Error as e:
            raise StoreError(f"SQLite store {self.path}: {what} failed: {e}") from e

    def close(self) -> None:
        self._closed = True
        with self._lock:
            cons, self._all_connections = self._all_connections, []
        for con in cons:
            try:
                con.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    # -- ids ---------------------------------------------------------------------------------------------------
    def sid(self, con, stream_id: StreamId, create: bool = False):
        """The row id of a stream key. Rows of ``streams`` are never deleted or changed, so a committed id is
        kept for good (one lookup per stream and process instead of one per read); an id seen inside a write
        transaction is not kept, as that transaction may have made it and may still roll back."""
        key = stream_id.key
        sid = self._sids.get(key)
        if sid is not None:
            return sid
        row = con.execute("SELECT sid FROM streams WHERE key=?", (key,)).fetchone()
        if row is not None:
            if not getattr(self._local, "writing", False):
                self._sids[key] = row[0]
            return row[0]
        if not create:
            return None
        return con.execute("INSERT INTO streams (key) VALUES (?)", (key,)).lastrowid

    @staticmethod
    def cid(con, sid, component):
        """The row id of a stream's component (None if it has no such numeric component)."""
        row = con.execute("SELECT cid FROM components WHERE sid=? AND name=?", (sid, str(component))).fetchone()
        return None if row is None else row[0]

    @staticmethod
    def lod_level(con, sid):
        """The finest level of detail kept for the stream (None while it has no aggregates)."""
        return con.execute("SELECT lod_level FROM streams WHERE sid=?", (sid,)).fetchone()[0]
