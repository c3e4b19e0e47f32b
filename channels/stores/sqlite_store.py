"""The embedded store: one SQLite file, WAL, one connection per thread.

Schema (version 1)
------------------
``hsgui_meta(key, value)``
    ``schema_version`` and ``application``. A file written by a newer version
    (higher schema version) is refused with a StoreError rather than misread.
``streams(sid, key, lod_level)``
    A small integer surrogate id per stream (``StreamId.key`` is the canonical
    text), so instance rows stay small. ``lod_level`` is the finest level of
    detail maintained for the stream (NULL while the stream is still tiny).
``definitions(sid, key, name, meta, channel_id, stream_type, sandbox, last_updated, last_accessed, calculated_intervals)``
    Times in epoch ms; ``meta`` is the JSON list of meta-data pairs in the
    order given; intervals are JSON ``[[start_ms, end_ms], ...]``.
``instances(sid, ts, v, num) WITHOUT ROWID``, key ``(sid, ts)``
    ``v`` has no declared type and holds the value: NULL when the value is
    the float in ``num``; an INTEGER for ints in int64 range; otherwise
    tagged JSON text (see :mod:`channels.stores.codec`). ``num`` is the REAL of
    every numeric scalar (ints, finite/infinite floats, bools as 0/1 -- the
    same rule as :func:`channels.lod.numeric_or_nan`); NULL for NaN and
    non-numeric values. So range aggregates and the columnar path never decode
    JSON.
``components(cid, sid, name)`` and ``component_values(cid, ts, num, k) WITHOUT ROWID``
    The numeric top-level components of dict values (``value[name]`` that is
    int/float/bool, not NaN), one row each, written on insert. This side
    table makes ``columns(component=...)`` and component summaries plain
    index range scans instead of decoding every JSON document. ``k`` is the
    kind of the value (float, -0.0, bool, int, other; see
    :mod:`channels.stores.sqlite_columnar`), so the sign of zero and ints read
    back exactly; files of earlier versions get the column on opening (NULL:
    kind unknown).
``lod(sid, comp, level, bucket, n, nn, s, mn, mx, f, l) WITHOUT ROWID``
    Precomputed level-of-detail aggregates, see below.
``runs(id, recorded_ms, record)``
    Tool-run history (tagged JSON records).
``changes(id, sid, channel_id, lo, hi, at, kind, by)``
    The change log (:mod:`channels.changes`): one row per batch that added or deleted instances, written in
    the batch's own transaction; ``(lo, hi]`` covers the changed timestamps, ``at`` is when (epoch ms),
    ``kind`` ``write``/``purge``, ``by`` what did it. Indexed by ``(sid, at)`` and ``at``.

Level of detail
---------------
Levels are fixed bucket widths ``LEVEL_WIDTHS_MS`` (1 s, 5 s, 15 s, 1 min,
5 min, 15 min, 1 h, 3 h, 12 h, 1 d, 7 d, 28 d, 112 d, ... each a multiple of the
previous one). Level bucket ``j`` of width ``W`` covers ``(j*W, (j+1)*W]`` in
epoch ms, so it follows the ``(start, end]`` convention. Per (stream,
component, level, bucket) the table keeps count ``n``, numeric count ``nn``,
sum ``s``, ``mn``, ``mx``, first ``f`` and last ``l`` instance time
(component 0 is the value itself; for a component ``n == nn``).

Each stream keeps the levels from ``lod_level`` upwards, where ``lod_level``
is the finest level whose buckets hold at least ``LOD_PER_BUCKET`` (32)
instances at the stream's median spacing (decided once the stream reaches
``LOD_MIN_INSTANCES`` instances; smaller streams are summarised directly). So
the aggregate rows are a few per cent of the instance rows and maintaining
them is cheap: ``insert`` computes the batch's aggregates for every level in
numpy (``reduceat`` over the sorted batch, each level from the one below) and
upsert-merges them; ``purge`` deletes the level buckets that lie inside the
purged range and recomputes only the (at most two per level) buckets it cuts,
the finest from the instances, the others from the level below.

A summary of ``(start, end]`` into ``B`` buckets of width ``w`` picks the
coarsest kept level with width ``<= w`` (preferring one whose buckets line up
exactly with the requested edges, as long as it reads at most ~16 rows per
bucket). The range is decomposed exactly: level buckets that lie wholly inside
``(start, end]`` at that level, the ragged ends by successively finer levels,
and the last sub-finest-level pieces from the instances themselves. Each
level bucket is then put into the requested bucket containing its first
instance time ``f``.

Bound of the approximation: a level bucket is never wider than a requested
bucket, and the cover is exact, so every instance is counted exactly once
(``summary.total == count()`` always). An instance at time ``t`` is attributed
to the requested bucket containing its level bucket's first time ``f``, with
``t - W < f <= t``: so to its own bucket or the one just before it, and only
instances within one level-bucket width ``W <= w`` after a requested edge can
be misplaced (count, min, max, mean, first, last of a bucket are off by at
most the instances of one level bucket at each of its edges). When the
requested edges are multiples of the chosen level width the result is exact
(count, min, max, first and last equal :func:`channels.lod.summarise_arrays`,
mean to float rounding). Requested
buckets finer than the stream's finest kept level are computed directly from
the instances of the range (which then spans fewer than ``B`` finest-level
buckets, i.e. about ``32*B`` instances at the stream's typical density).

Writes are transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``); readers see
whole transactions only (WAL snapshots). Calculated intervals given as pieces
(``add_intervals`` / ``remove_intervals``) are read from ``definitions`` and
rewritten inside the batch's own write transaction, so writers and purgers in
any number of processes and threads never lose each other's pieces.

Several processes on one file: every connection waits up to ``busy_timeout_ms``
for the write lock, and where SQLite still refuses ("database is locked" /
"busy": a lock it cannot wait for, e.g. while another connection recovers the
WAL or changes the journal mode) the whole transaction is rolled back and run
again, up to ``WRITE_ATTEMPTS`` times with a growing pause; only then is the
error raised (a StoreError naming the file and what was being written).
"""
from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import repeat
from operator import floordiv, itemgetter, sub
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import quote

import numpy as np

from ..errors import (ChannelsError, DuplicateInstanceError, StoreError, StreamAlreadyExistsError,
                      StreamNotFoundError, TimeError, ValueEncodingError)
from ..columnar import check_arrays
from ..lod import Summary, bucket_edges
from ..changes import PURGE, WRITE, Change, current_origin
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeInterval, TimeIntervals
from ..utils import EPOCH, utcnow
from .base import (UPDATABLE_FIELDS, Committed, Store, StreamDefinition, check_collection, check_not_future,
                   intervals_arg, merge_intervals)
from .codec import decode_json, encode_document_json, encode_json, numeric, values_equal
from .lod_levels import LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, LOD_PER_BUCKET  # noqa: F401 - re-exported
from .lod_levels import Agg as _Agg, assemble, summary_plan
from .lod_levels import choose_lod_level as _choose_lod_level
from .sqlite_columnar import _HI, _LO, _NAN_TEXT, _NEG_ZERO_TEXT, K_NEG_ZERO, SQLiteColumnar, _ms, dict_components

SCHEMA_VERSION = 1
APPLICATION = "hyperstream-studio"
SQLITE_HEADER = b"SQLite format 3\x00"

_ONE_MS = timedelta(milliseconds=1)
_MAX_PARAMS = 900

#: a write transaction SQLite refuses as locked/busy is run again up to this many times in all
WRITE_ATTEMPTS = 12
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
"""

_UPSERT_LOD = """
INSERT INTO lod (sid, comp, level, bucket, n, nn, s, mn, mx, f, l) VALUES (?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (sid, comp, level, bucket) DO UPDATE SET
    n = n + excluded.n, nn = nn + excluded.nn, s = s + excluded.s,
    mn = CASE WHEN mn IS NULL OR excluded.mn < mn THEN excluded.mn ELSE mn END,
    mx = CASE WHEN mx IS NULL OR excluded.mx > mx THEN excluded.mx ELSE mx END,
    f = min(f, excluded.f), l = max(l, excluded.l)
"""

_NAN = float("nan")


def _dt(ms):
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


def _encode_row(value):
    """``(v, num)`` column values of a value (see the module docstring)."""
    t = type(value)
    if t is float:
        if value == value:
            if value == 0.0 and math.copysign(1.0, value) < 0:
                return _NEG_ZERO_TEXT, value
            return None, value
        return _NAN_TEXT, None
    if t is int:
        if -9223372036854775808 <= value <= 9223372036854775807:
            return value, float(value)
        return encode_json(value), numeric(value)
    if t is bool:
        return ("true", 1.0) if value else ("false", 0.0)
    if value is None:
        return "null", None
    text = encode_json(value)
    return text, numeric(value)


def _insert_rows(con, head: str, row: str, columns) -> None:
    """INSERT the rows ``zip(*columns)``: many rows per statement (``VALUES (..),(..),...``), which costs
    SQLite and the sqlite3 module about a third of one ``executemany`` step per row."""
    k = len(columns)
    n = len(columns[0])
    per = max(1, _MAX_PARAMS // k)  # stay within SQLite's oldest default limit of 999 bound parameters
    if n < 2 * per:
        con.executemany(head + row, zip(*columns))
        return
    flat = [None] * (k * n)
    for j, col in enumerate(columns):
        flat[j::k] = col
    full = n - n % per
    step = k * per
    con.executemany(head + ",".join([row] * per), (flat[i:i + step] for i in range(0, k * full, step)))
    if full < n:
        con.execute(head + ",".join([row] * (n - full)), flat[k * full:])


def _float_vcol(num_arr: np.ndarray):
    """The ``v`` column of a batch of floats: None when every value is in ``num`` alone (no NaN, no -0.0)."""
    nan = np.isnan(num_arr)
    negz = (num_arr == 0.0) & np.signbit(num_arr)
    if not (nan.any() or negz.any()):
        return None
    vcol = [None] * len(num_arr)
    for i in np.flatnonzero(nan).tolist():
        vcol[i] = _NAN_TEXT
    for i in np.flatnonzero(negz).tolist():
        vcol[i] = _NEG_ZERO_TEXT
    return vcol


def _decode_row(v, num):
    if v is None:
        return num
    if type(v) is int:
        return v
    return decode_json(v)


def _intervals_to_text(intervals) -> str:
    ivs = TimeIntervals(intervals)
    return json.dumps([[_ms(iv.start, 0), _ms(iv.end, 0)] for iv in ivs], separators=(",", ":"))


def _intervals_from_text(text: str) -> TimeIntervals:
    return TimeIntervals._from_sorted([TimeInterval._trusted(_dt(s), _dt(e)) for s, e in json.loads(text)])


class SQLiteStore(SQLiteColumnar, Store):
    """The embedded store in one SQLite file (created if missing). See the module docstring for the schema."""

    keeps_changes = True

    def __init__(self, path, busy_timeout_ms: int = 30_000):
        self.path = str(Path(path).expanduser())
        self.description = f"SQLite {self.path}"
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._local = threading.local()
        self._sids: dict[str, int] = {}          # stream key -> committed row id (see _sid)
        self._all_connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._probe()
        con = self._con()
        try:
            self._retrying(lambda: con.execute("PRAGMA journal_mode=WAL").fetchall())
            with self._write(con):
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                if "k" not in {r[1] for r in con.execute("PRAGMA table_info(component_values)")}:
                    con.execute("ALTER TABLE component_values ADD COLUMN k INTEGER")  # files of earlier versions
                row = con.execute("SELECT value FROM hsgui_meta WHERE key='schema_version'").fetchone()
                if row is None:
                    con.execute("INSERT INTO hsgui_meta VALUES ('schema_version', ?), ('application', ?)",
                                (str(SCHEMA_VERSION), APPLICATION))
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
            con = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self._busy_timeout_ms / 1000)
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
                for t in ("instances", "definitions", "lod"):
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

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        if self._closed:
            raise StoreError(f"SQLite store {self.path} is closed")
        try:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  timeout=self._busy_timeout_ms / 1000)
            con.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms:d}")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA cache_size=-65536")
            con.execute("PRAGMA temp_store=MEMORY")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open SQLite store {self.path}: {e}") from e
        self._local.con = con
        with self._lock:
            self._all_connections.append(con)
        return con

    @staticmethod
    def _retrying(step):
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
            pause, deadline = 20e-6, time.monotonic() + self._busy_timeout_ms / 1000
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
            con.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms:d}")

    def _commit(self, con) -> None:
        self._retrying(lambda: con.execute("COMMIT"))

    @staticmethod
    def _rollback_quietly(con) -> None:
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    @contextmanager
    def _write(self, con=None):
        """One write transaction around the with-block (``BEGIN IMMEDIATE`` and ``COMMIT`` are retried while
        SQLite answers locked/busy; the block itself runs once -- see :meth:`_transact` to retry it too)."""
        con = con or self._con()
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

    def _transact(self, body):
        """``body(con)`` in one write transaction; the whole transaction is rolled back and run again (up to
        ``WRITE_ATTEMPTS`` times) while SQLite refuses any step of it as locked/busy. Returns ``body``'s result."""
        for attempt in range(WRITE_ATTEMPTS):
            con = self._con()
            try:
                with self._write(con):
                    return body(con)
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or attempt == WRITE_ATTEMPTS - 1:
                    raise
            _retry_pause(attempt)

    @contextmanager
    def _snapshot(self):
        """One read transaction on this thread's connection: every query inside sees the same committed state.

        In WAL mode a deferred ``BEGIN`` takes its snapshot at the first read and keeps it until ``COMMIT``, so
        an answer built from several queries (count, summary, first/last, columns) never mixes a writer's
        batches. Inside a transaction already open on this connection, that one is used.
        """
        con = self._con()
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
    def _errors(self, what: str):
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
    def _sid(self, con, stream_id: StreamId, create: bool = False):
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

    # -- definitions -----------------------------------------------------------------------------------------
    _DEF_COLS = "name, meta, channel_id, calculated_intervals, last_updated, last_accessed, sandbox, stream_type"

    @staticmethod
    def _definition(row) -> StreamDefinition:
        name, meta, channel_id, ivs, lu, la, sandbox, stype = row
        return StreamDefinition(StreamId(name, [tuple(p) for p in json.loads(meta)]), channel_id,
                                _intervals_from_text(ivs), _dt(lu), _dt(la), sandbox, stype)

    def list_definitions(self, channel_id: str | None = None,
                         updated_since: datetime | None = None) -> list[StreamDefinition]:
        where, args = [], []
        if channel_id is not None:
            where.append("channel_id=?")
            args.append(channel_id)
        if updated_since is not None:
            where.append("last_updated>?")
            args.append(_ms(updated_since, 0))
        q = f"SELECT {self._DEF_COLS} FROM definitions" + (" WHERE " + " AND ".join(where) if where else "")
        with self._errors("listing stream definitions"):
            rows = self._con().execute(q + " ORDER BY key", args).fetchall()
        return [self._definition(r) for r in rows]

    def channel_ids(self) -> set[str]:
        with self._errors("listing channel ids"):
            return {r[0] for r in self._con().execute("SELECT DISTINCT channel_id FROM definitions")}

    def count_definitions(self, channel_id: str | None = None) -> int:
        with self._errors("counting stream definitions"):
            con = self._con()
            if channel_id is None:
                return con.execute("SELECT count(*) FROM definitions").fetchone()[0]
            return con.execute("SELECT count(*) FROM definitions WHERE channel_id=?", (channel_id,)).fetchone()[0]

    def get_definition(self, stream_id: StreamId) -> StreamDefinition | None:
        with self._errors(f"reading the definition of {stream_id}"):
            row = self._con().execute(f"SELECT {self._DEF_COLS} FROM definitions WHERE key=?",
                                      (stream_id.key,)).fetchone()
        return None if row is None else self._definition(row)

    def create_definition(self, definition: StreamDefinition) -> None:
        sid_ = definition.stream_id
        ivs = _intervals_to_text(definition.calculated_intervals)
        with self._errors(f"creating stream {sid_}"), self._write() as con:
            if con.execute("SELECT 1 FROM definitions WHERE key=?", (sid_.key,)).fetchone():
                raise StreamAlreadyExistsError(sid_, definition.channel_id)
            sid = self._sid(con, sid_, create=True)
            con.execute("INSERT INTO definitions (sid, key, name, meta, channel_id, stream_type, sandbox, "
                        "last_updated, last_accessed, calculated_intervals) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (sid, sid_.key, sid_.name, json.dumps([list(p) for p in sid_.meta_data]),
                         definition.channel_id, definition.stream_type, definition.sandbox,
                         _ms(definition.last_updated, None), _ms(definition.last_accessed, None), ivs))

    def update_definition(self, stream_id: StreamId, **fields) -> None:
        bad = set(fields) - set(UPDATABLE_FIELDS)
        if bad:
            raise StoreError(f"cannot update {', '.join(sorted(bad))} of stream {stream_id}: "
                             f"updatable fields are {', '.join(UPDATABLE_FIELDS)}")
        if not fields:
            if self.get_definition(stream_id) is None:
                raise StreamNotFoundError(stream_id)
            return
        sets, params = [], []
        for k, v in fields.items():
            if k == "calculated_intervals":
                v = _intervals_to_text(v)
            elif k in ("last_updated", "last_accessed"):
                v = _ms(v, None)
            sets.append(f"{k}=?")
            params.append(v)
        with self._errors(f"updating stream {stream_id}"), self._write() as con:
            cur = con.execute(f"UPDATE definitions SET {', '.join(sets)} WHERE key=?", (*params, stream_id.key))
            if cur.rowcount == 0:
                raise StreamNotFoundError(stream_id)

    def delete_definition(self, stream_id: StreamId) -> None:
        """Remove the definition only; instances stay until purged (as in HyperStream's MongoDB layout)."""
        with self._errors(f"deleting stream {stream_id}"), self._write() as con:
            con.execute("DELETE FROM definitions WHERE key=?", (stream_id.key,))

    def _change_intervals(self, con, stream_id: StreamId, ivs):
        """Inside the caller's write transaction: the stream's calculated intervals become ``ivs = (set, add,
        remove)`` applied to the stored value (read here, in the same transaction); returns what was stored, or
        None when ``ivs`` changes nothing."""
        set_to, add, remove = ivs
        if set_to is None and add is None and remove is None:
            return None
        row = con.execute("SELECT calculated_intervals FROM definitions WHERE key=?", (stream_id.key,)).fetchone()
        if row is None:
            raise StreamNotFoundError(stream_id)
        new = merge_intervals(TimeIntervals(set_to) if set_to is not None else _intervals_from_text(row[0]),
                              add, remove)
        con.execute("UPDATE definitions SET calculated_intervals=?, last_updated=? WHERE key=?",
                    (_intervals_to_text(new), _ms(utcnow(), None), stream_id.key))
        return new

    @staticmethod
    def _ivs(calculated_intervals, add_intervals, remove_intervals):
        add, remove = intervals_arg(add_intervals, remove_intervals)
        return (None if calculated_intervals is None else TimeIntervals(calculated_intervals)), add, remove

    # -- writing -----------------------------------------------------------------------------------------------
    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
               remove_intervals=None) -> int:
        """See :meth:`Store.insert`. Also sets ``last_updated`` when the calculated intervals change.

        A stream needs no definition to hold instances (as in MongoDB), but
        changing its calculated intervals needs one (StreamNotFoundError otherwise).
        """
        ivs = self._ivs(calculated_intervals, add_intervals, remove_intervals)
        if not isinstance(instances, (list, tuple)):
            instances = list(instances)
        n = len(instances)
        # -- prepare everything in Python/numpy before touching the database ----------------------------------
        try:
            tss = list(map(itemgetter(0), instances))
            vals = list(map(itemgetter(1), instances))
            ms = list(map(floordiv, map(sub, tss, repeat(EPOCH)), repeat(_ONE_MS)))
        except (TypeError, IndexError):
            for i, inst in enumerate(instances):
                if not (isinstance(inst, (tuple, list)) and len(inst) == 2):
                    raise TimeError(f"item {i} of the batch for stream {stream_id} is not a (timestamp, value) "
                                    f"pair: {inst!r}") from None
                _ms(inst[0], 0)
            raise
        ms_arr = np.array(ms, dtype=np.int64) if n else np.zeros(0, np.int64)
        if n:
            check_not_future(stream_id, int(ms_arr.max()))
        types = set(map(type, vals))
        comp_items = None
        if types == {float}:
            num_arr = np.array(vals, dtype=np.float64)
            vcol = _float_vcol(num_arr)  # None when all plain floats: v is NULL, the value is num
            numcol = vals
        else:
            vcol, numcol = [], []
            va, na = vcol.append, numcol.append
            for i, x in enumerate(vals):
                try:
                    a, b = _encode_row(x)
                except ValueEncodingError as e:
                    raise ValueEncodingError(f"stream {stream_id}, instance {i} at {tss[i].isoformat()}: {e}; "
                                             f"nothing of this batch was written") from None
                va(a)
                na(b)
            num_arr = np.array(numcol, dtype=np.float64) if n else np.zeros(0)
            if dict in types:
                comp_items = [(i, x) for i, x in enumerate(vals) if type(x) is dict]
        # -- order, and duplicates within the batch -----------------------------------------------------------------
        keep = None  # indices into the batch, in time order, of rows to write (None = all, already ordered)
        if n > 1 and (np.diff(ms_arr) <= 0).any():
            order = np.argsort(ms_arr, kind="stable")
            sms = ms_arr[order]
            is_dup = np.concatenate(([False], sms[1:] == sms[:-1]))
            if is_dup.any():
                run_start = np.maximum.accumulate(np.where(is_dup, 0, np.arange(n)))
                for p in np.flatnonzero(is_dup).tolist():
                    i, j = int(order[run_start[p]]), int(order[p])
                    a = (None if vcol is None else vcol[i], numcol[i])
                    b = (None if vcol is None else vcol[j], numcol[j])
                    if a != b and not values_equal(vals[i], vals[j]):
                        raise DuplicateInstanceError(stream_id, _dt(int(ms_arr[j])), vals[i], vals[j])
                keep = order[~is_dup].tolist()
            else:
                keep = order.tolist()
        return self._insert_prepared(stream_id, n, ms, ms_arr, num_arr, vcol, numcol, vals, keep, comp_items, ivs)

    def insert_arrays(self, stream_id: StreamId, ms, values, calculated_intervals: TimeIntervals | None = None, *,
                      add_intervals=None, remove_intervals=None) -> int:
        """See :meth:`Store.insert_arrays`: straight from the arrays to ``executemany``, one transaction."""
        ivs = self._ivs(calculated_intervals, add_intervals, remove_intervals)
        ms_arr, num_arr = check_arrays(stream_id, ms, values)
        ms_l = ms_arr.tolist()
        numcol = num_arr.tolist()
        vcol = _float_vcol(num_arr)  # as for a batch of float instances (NaN binds as NULL num)
        return self._insert_prepared(stream_id, len(ms_l), ms_l, ms_arr, num_arr, vcol, numcol, numcol, None, None,
                                     ivs)

    def _insert_prepared(self, stream_id, n, ms, ms_arr, num_arr, vcol, numcol, vals, keep0, comp_items, ivs):
        if not isinstance(ivs, tuple):  # a caller's plain calculated_intervals (set)
            ivs = self._ivs(ivs, None, None)
        changes_intervals = any(x is not None for x in ivs)

        def body(con):
            keep = keep0
            sid = self._sid(con, stream_id, create=True)
            if changes_intervals and not con.execute("SELECT 1 FROM definitions WHERE sid=?", (sid,)).fetchone():
                raise StreamNotFoundError(stream_id)
            if n:
                keep = self._drop_existing(con, sid, stream_id, ms_arr, keep, vcol, numcol, vals)
                written = n if keep is None else len(keep)
                if written:
                    self._write_rows(con, sid, ms, ms_arr, num_arr, vcol, numcol, keep, comp_items)
                    w = ms_arr if keep is None else ms_arr[np.asarray(keep, dtype=np.int64)]
                    self._record_change(con, sid, int(w.min()) - 1, int(w.max()), WRITE)
            else:
                written = 0
            return Committed(written, self._change_intervals(con, stream_id, ivs))

        try:
            with self._errors(f"writing to stream {stream_id}"):
                return self._transact(body)
        except sqlite3.IntegrityError as e:  # pragma: no cover - guarded by the checks above
            raise StoreError(f"SQLite store {self.path}: writing to stream {stream_id} failed: {e}") from e

    def _drop_existing(self, con, sid, stream_id, ms_arr, keep, vcol, numcol, vals):
        """Check the batch against stored rows; return the indices to write (raise on a conflict)."""
        lo, hi = int(ms_arr.min()), int(ms_arr.max())
        # two queries: SQLite answers a lone max()/min() from the index, but scans for both in one
        last = con.execute("SELECT max(ts) FROM instances WHERE sid=?", (sid,)).fetchone()[0]
        if last is None or lo > last:
            return keep
        if hi < con.execute("SELECT min(ts) FROM instances WHERE sid=?", (sid,)).fetchone()[0]:
            return keep
        idx = keep if keep is not None else range(len(ms_arr))
        cand = [i for i in idx]
        stored = {}
        for c in range(0, len(cand), _MAX_PARAMS):
            chunk = [int(ms_arr[i]) for i in cand[c:c + _MAX_PARAMS]]
            q = (f"SELECT ts, v, num FROM instances WHERE sid=? AND ts IN ({','.join('?' * len(chunk))})")
            for ts, v, num in con.execute(q, (sid, *chunk)):
                stored[ts] = (v, num)
        if not stored:
            return keep
        out = []
        for i in cand:
            t = int(ms_arr[i])
            old = stored.get(t)
            if old is None:
                out.append(i)
                continue
            new = (vcol[i] if vcol is not None else None, numcol[i])
            if old != new:
                old_value = _decode_row(*old)
                if not values_equal(old_value, vals[i]):
                    raise DuplicateInstanceError(stream_id, _dt(t), old_value, vals[i])
        return out

    def _write_rows(self, con, sid, ms, ms_arr, num_arr, vcol, numcol, keep, comp_items):
        if keep is not None:
            ka = np.asarray(keep, dtype=np.int64)
            w_ms = ms_arr[ka]
            w_num = num_arr[ka]
            ms_l = w_ms.tolist()
            num_l = [numcol[i] for i in keep]
            v_l = None if vcol is None else [vcol[i] for i in keep]
        else:
            w_ms, w_num, ms_l, num_l, v_l = ms_arr, num_arr, ms, numcol, vcol
        level = con.execute("SELECT lod_level FROM streams WHERE sid=?", (sid,)).fetchone()[0]
        prior = None
        if level is None:
            prior = con.execute("SELECT count(*) FROM instances WHERE sid=?", (sid,)).fetchone()[0]
        if v_l is None:
            _insert_rows(con, "INSERT INTO instances (sid, ts, num) VALUES ", f"({sid:d},?,?)", (ms_l, num_l))
        else:
            _insert_rows(con, "INSERT INTO instances (sid, ts, v, num) VALUES ", f"({sid:d},?,?,?)",
                         (ms_l, v_l, num_l))
        # numeric components of dict values
        comps = dict_components(comp_items, ms, keep, numeric)
        comp_arrays = {}
        for name, (cms, cvals, kinds) in comps.items():
            row = con.execute("SELECT cid FROM components WHERE sid=? AND name=?", (sid, name)).fetchone()
            cid = row[0] if row else con.execute("INSERT INTO components (sid, name) VALUES (?, ?)",
                                                 (sid, name)).lastrowid
            _insert_rows(con, "INSERT INTO component_values (cid, ts, num, k) VALUES ", f"({cid:d},?,?,?)",
                         (cms, cvals, kinds))
            a = np.array(cms, dtype=np.int64)
            v = np.array(cvals, dtype=np.float64)
            o = np.argsort(a, kind="stable")
            comp_arrays[cid] = (a[o], v[o])
        # level of detail
        if level is None:
            if prior + len(w_ms) < LOD_MIN_INSTANCES:
                return
            if prior == 0:  # a new stream: build from the batch itself
                level = _choose_lod_level(w_ms)
                con.execute("UPDATE streams SET lod_level=? WHERE sid=?", (level, sid))
                self._add_aggregates(con, sid, 0, level, w_ms, w_num)
                for cid, (cms, cvals) in comp_arrays.items():
                    self._add_aggregates(con, sid, cid, level, cms, cvals)
                return
            # build the aggregates of the whole (so far small) stream from the database
            a = np.array(con.execute("SELECT ts, num FROM instances WHERE sid=? ORDER BY ts",
                                     (sid,)).fetchall(), dtype=np.float64).reshape(-1, 2)
            all_ms, all_num = a[:, 0].astype(np.int64), a[:, 1]
            level = _choose_lod_level(all_ms)
            con.execute("UPDATE streams SET lod_level=? WHERE sid=?", (level, sid))
            self._add_aggregates(con, sid, 0, level, all_ms, all_num)
            for cid, name in con.execute("SELECT cid, name FROM components WHERE sid=?", (sid,)).fetchall():
                c = np.array(con.execute("SELECT ts, num FROM component_values WHERE cid=? ORDER BY ts",
                                         (cid,)).fetchall(), dtype=np.float64).reshape(-1, 2)
                self._add_aggregates(con, sid, cid, level, c[:, 0].astype(np.int64), c[:, 1])
            return
        self._add_aggregates(con, sid, 0, level, w_ms, w_num)
        for cid, (cms, cvals) in comp_arrays.items():
            self._add_aggregates(con, sid, cid, level, cms, cvals)

    @staticmethod
    def _add_aggregates(con, sid, comp, level, ms_sorted, vals):
        if len(ms_sorted) == 0:
            return
        agg = _Agg.from_instances(ms_sorted, vals, LEVEL_WIDTHS_MS[level])
        con.executemany(_UPSERT_LOD, agg.rows(sid, comp, level))
        for k in range(level + 1, len(LEVEL_WIDTHS_MS)):
            agg = agg.coarser(LEVEL_WIDTHS_MS[k - 1], LEVEL_WIDTHS_MS[k])
            con.executemany(_UPSERT_LOD, agg.rows(sid, comp, k))

    def purge(self, stream_id: StreamId, start: datetime | None = None, end: datetime | None = None,
              calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
              remove_intervals=None) -> int:
        """See :meth:`Store.purge`; the affected level-of-detail buckets are recomputed in the same transaction."""
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        ivs = self._ivs(calculated_intervals, add_intervals, remove_intervals)
        with self._errors(f"purging stream {stream_id}"):
            return self._transact(lambda con: self._purge_in(con, stream_id, start, end, lo, hi, ivs))

    def _purge_in(self, con, stream_id, start, end, lo, hi, ivs):
        if any(x is not None for x in ivs) and not con.execute(
                "SELECT 1 FROM definitions WHERE key=?", (stream_id.key,)).fetchone():
            raise StreamNotFoundError(stream_id)
        sid = self._sid(con, stream_id)
        deleted = 0
        if sid is not None:
            span = con.execute("SELECT min(ts), max(ts) FROM instances WHERE sid=? AND ts>? AND ts<=?",
                               (sid, lo, hi)).fetchone() if lo < hi else (None, None)
            cids = [r[0] for r in con.execute("SELECT cid FROM components WHERE sid=?", (sid,))]
            if start is None and end is None:
                deleted = con.execute("DELETE FROM instances WHERE sid=?", (sid,)).rowcount
                con.executemany("DELETE FROM component_values WHERE cid=?", [(c,) for c in cids])
                con.execute("DELETE FROM components WHERE sid=?", (sid,))
                con.execute("DELETE FROM lod WHERE sid=?", (sid,))
                con.execute("UPDATE streams SET lod_level=NULL WHERE sid=?", (sid,))
            elif lo < hi:
                deleted = con.execute("DELETE FROM instances WHERE sid=? AND ts>? AND ts<=?",
                                      (sid, lo, hi)).rowcount
                con.executemany("DELETE FROM component_values WHERE cid=? AND ts>? AND ts<=?",
                                [(c, lo, hi) for c in cids])
                if deleted:
                    self._fix_aggregates(con, sid, lo, hi)
            if deleted and span[0] is not None:  # the purged interval; an open end: the data's
                self._record_change(con, sid, span[0] - 1 if start is None else lo,
                                    span[1] if end is None else hi, PURGE)
        return Committed(deleted, self._change_intervals(con, stream_id, ivs))

    @staticmethod
    def _record_change(con, sid, lo, hi, kind) -> None:
        """One change-log row for a batch, inside the batch's transaction (see :mod:`channels.changes`)."""
        row = con.execute("SELECT channel_id FROM definitions WHERE sid=?", (sid,)).fetchone()
        con.execute("INSERT INTO changes (sid, channel_id, lo, hi, at, kind, by) VALUES (?,?,?,?,?,?,?)",
                    (sid, row[0] if row else None, lo, hi, _ms(utcnow(), 0), kind, current_origin(kind)))

    def list_changes(self, stream_id: StreamId | None = None, since: datetime | None = None,
                     channel_id: str | None = None) -> list[Change]:
        """See :meth:`Store.list_changes`."""
        q = ("SELECT c.id, c.channel_id, s.key, c.lo, c.hi, c.at, c.kind, c.by FROM changes c "
             "JOIN streams s ON s.sid = c.sid WHERE 1")
        params: list = []
        with self._errors("listing changes"):
            con = self._con()
            if stream_id is not None:
                sid = self._sid(con, stream_id)
                if sid is None:
                    return []
                q += " AND c.sid=?"
                params.append(sid)
            if since is not None:
                q += " AND c.at>?"
                params.append(_ms(since, 0))
            if channel_id is not None:
                q += " AND c.channel_id=?"
                params.append(channel_id)
            rows = con.execute(q + " ORDER BY c.at, c.id", params).fetchall()
        keys: dict = {}
        out = []
        for rid, cid, key, lo, hi, at, kind, by in rows:
            sid_ = stream_id if stream_id is not None else keys.get(key) or keys.setdefault(key, StreamId.from_key(key))
            out.append(Change(cid, sid_, TimeInterval._trusted(_dt(lo), _dt(hi)), _dt(at), kind, by, rid))
        return out

    @staticmethod
    def _fix_aggregates(con, sid, lo, hi):
        level = con.execute("SELECT lod_level FROM streams WHERE sid=?", (sid,)).fetchone()[0]
        if level is None:
            return
        for k in range(level, len(LEVEL_WIDTHS_MS)):
            w = LEVEL_WIDTHS_MS[k]
            a, b = -(-lo // w), hi // w  # buckets a .. b-1 lie wholly inside (lo, hi]
            if a < b:
                con.execute("DELETE FROM lod WHERE sid=? AND level=? AND bucket>=? AND bucket<?", (sid, k, a, b))
            cut = {lo // w} if lo % w else set()
            if hi % w:
                cut.add((hi - 1) // w)
            for j in sorted(cut):
                con.execute("DELETE FROM lod WHERE sid=? AND level=? AND bucket=?", (sid, k, j))
                blo, bhi = j * w, (j + 1) * w
                if k == level:
                    con.execute(
                        "INSERT INTO lod SELECT ?, 0, ?, ?, count(*), count(num), sum(num), min(num), max(num), "
                        "min(ts), max(ts) FROM instances WHERE sid=? AND ts>? AND ts<=? HAVING count(*) > 0",
                        (sid, k, j, sid, blo, bhi))
                    con.execute(
                        "INSERT INTO lod SELECT ?, cv.cid, ?, ?, count(*), count(*), sum(cv.num), min(cv.num), "
                        "max(cv.num), min(cv.ts), max(cv.ts) FROM components c JOIN component_values cv "
                        "ON cv.cid = c.cid WHERE c.sid=? AND cv.ts>? AND cv.ts<=? GROUP BY cv.cid",
                        (sid, k, j, sid, blo, bhi))
                else:
                    r = w // LEVEL_WIDTHS_MS[k - 1]
                    con.execute(
                        "INSERT INTO lod SELECT sid, comp, ?, ?, sum(n), sum(nn), sum(s), min(mn), max(mx), "
                        "min(f), max(l) FROM lod WHERE sid=? AND level=? AND bucket>=? AND bucket<? "
                        "GROUP BY comp", (k, j, sid, k - 1, j * r, (j + 1) * r))

    # -- reading -----------------------------------------------------------------------------------------------
    def read(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> Iterator[StreamInstance]:
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        return self._read(stream_id, lo, hi)

    def _read(self, stream_id, lo, hi, chunk: int = 65536):
        new = tuple.__new__  # what StreamInstance._make does, minus its Python-level length check
        epoch_add = EPOCH.__add__
        with self._errors(f"reading stream {stream_id}"):
            con = self._con()
            sid = self._sid(con, stream_id)
            if sid is None:
                return
            # ifnull(v, num): the float (v NULL), the int, or tagged-JSON text to decode
            cur = con.execute("SELECT ts, ifnull(v, num) FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts",
                              (sid, lo, hi))
            dec, si = decode_json, StreamInstance
            while True:
                rows = cur.fetchmany(chunk)
                if not rows:
                    break
                yield from [new(si, (epoch_add(timedelta(0, 0, 0, t)), x if type(x) is not str else dec(x)))
                            for t, x in rows]

    def count(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        """Exact count; wide ranges of large streams are answered from the aggregates (O(levels), not O(n))."""
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        with self._errors(f"counting stream {stream_id}"), self._snapshot() as con:
            sid = self._sid(con, stream_id)
            if sid is None:
                return 0
            level = con.execute("SELECT lod_level FROM streams WHERE sid=?", (sid,)).fetchone()[0]
            if level is not None:
                first = con.execute("SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts ASC LIMIT 1",
                                    (sid, lo, hi)).fetchone()
                if first is None:
                    return 0
                last = con.execute("SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts DESC LIMIT 1",
                                   (sid, lo, hi)).fetchone()
                # the one-bucket summary over (first - 1 ms, last] covers the range exactly (see _plan)
                edges = bucket_edges(first[0] - 1, last[0], 1)
                parts_count, parts_stats = [], []
                for piece in self._summary_plan(edges, level):
                    self._fetch_piece(con, sid, 0, piece, parts_count, parts_stats)
                return self._assemble(int(edges[0]), int(edges[-1]), edges, parts_count, parts_stats).total
            return con.execute("SELECT count(*) FROM instances WHERE sid=? AND ts>? AND ts<=?",
                               (sid, lo, hi)).fetchone()[0]

    def _one(self, stream_id, start, end, order):
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        with self._errors(f"reading stream {stream_id}"), self._snapshot() as con:
            sid = self._sid(con, stream_id)
            if sid is None:
                return None
            row = con.execute(f"SELECT ts, v, num FROM instances WHERE sid=? AND ts>? AND ts<=? "
                              f"ORDER BY ts {order} LIMIT 1", (sid, lo, hi)).fetchone()
        if row is None:
            return None
        return StreamInstance._make((_dt(row[0]), _decode_row(row[1], row[2])))

    def first(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, "ASC")

    def last(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, "DESC")

    def _cid(self, con, sid, component):
        row = con.execute("SELECT cid FROM components WHERE sid=? AND name=?", (sid, str(component))).fetchone()
        return None if row is None else row[0]

    def columns(self, stream_id: StreamId, start, end, component: str | None = None):
        """``(ms int64, values float64)`` of the instances with a numeric value (bools as 0/1, NaN left out).

        With ``component``, of the instances whose dict value has a numeric ``value[component]``.
        """
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        dtype = np.dtype([("t", "<i8"), ("v", "<f8")])
        with self._errors(f"reading columns of stream {stream_id}"), self._snapshot() as con:
            sid = self._sid(con, stream_id)
            arr = np.zeros(0, dtype)
            if sid is not None:
                if component is None:
                    cur = con.execute("SELECT ts, num FROM instances WHERE sid=? AND ts>? AND ts<=? "
                                      "AND num IS NOT NULL ORDER BY ts", (sid, lo, hi))
                    arr = np.fromiter(cur, dtype)
                    if len(arr) and (arr["v"] == 0.0).any():  # REAL drops the sign of zero; v keeps it
                        neg = [r[0] for r in con.execute(
                            "SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=? AND num=0 AND v=?",
                            (sid, lo, hi, _NEG_ZERO_TEXT))]
                        if neg:
                            arr["v"][np.searchsorted(arr["t"], np.array(neg, dtype=np.int64))] = -0.0
                else:
                    cid = self._cid(con, sid, component)
                    if cid is not None:
                        cur = con.execute("SELECT ts, num FROM component_values WHERE cid=? AND ts>? AND ts<=? "
                                          "ORDER BY ts", (cid, lo, hi))
                        arr = np.fromiter(cur, dtype)
                        if len(arr) and (arr["v"] == 0.0).any():  # the kind k keeps the sign of zero
                            neg = [r[0] for r in con.execute(
                                "SELECT ts FROM component_values WHERE cid=? AND ts>? AND ts<=? AND num=0 AND k=?",
                                (cid, lo, hi, K_NEG_ZERO))]
                            if neg:
                                arr["v"][np.searchsorted(arr["t"], np.array(neg, dtype=np.int64))] = -0.0
        return np.ascontiguousarray(arr["t"]), np.ascontiguousarray(arr["v"])

    def summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None) -> Summary:
        """Answered from the precomputed aggregates; see the module docstring for the method and its bound."""
        s_ms, e_ms = _ms(start, None), _ms(end, None)
        if s_ms is None or e_ms is None:
            raise TimeError("a summary needs both a start and an end time")
        edges = bucket_edges(s_ms, e_ms, int(buckets))
        with self._errors(f"summarising stream {stream_id}"), self._snapshot() as con:
            sid = self._sid(con, stream_id)
            parts_count, parts_stats = [], []
            if sid is not None:
                cid = 0
                if component is not None:
                    cid = self._cid(con, sid, component)
                level = con.execute("SELECT lod_level FROM streams WHERE sid=?", (sid,)).fetchone()[0]
                for piece in self._summary_plan(edges, level):
                    self._fetch_piece(con, sid, cid, piece, parts_count, parts_stats)
        return self._assemble(s_ms, e_ms, edges, parts_count, parts_stats)

    _summary_plan = staticmethod(summary_plan)

    @staticmethod
    def _fetch_piece(con, sid, cid, piece, parts_count, parts_stats):
        if piece[0] == "lod":
            _, k, b0, b1 = piece
            if cid is None:  # unknown component: counts only
                rows = con.execute("SELECT n, f, l FROM lod WHERE sid=? AND comp=0 AND level=? AND bucket>=? "
                                   "AND bucket<=?", (sid, k, b0, b1)).fetchall()
                if rows:
                    parts_count.append(np.array(rows, dtype=np.float64))
                return
            rows = con.execute("SELECT n, nn, s, mn, mx, f, l FROM lod WHERE sid=? AND comp=0 AND level=? "
                               "AND bucket>=? AND bucket<=?", (sid, k, b0, b1)).fetchall()
            if rows:
                a = np.array(rows, dtype=np.float64)
                parts_count.append(a[:, [0, 5, 6]])
                if cid == 0:
                    parts_stats.append(a[:, [5, 1, 2, 3, 4]])
            if cid:
                rows = con.execute("SELECT f, nn, s, mn, mx FROM lod WHERE sid=? AND comp=? AND level=? "
                                   "AND bucket>=? AND bucket<=?", (sid, cid, k, b0, b1)).fetchall()
                if rows:
                    parts_stats.append(np.array(rows, dtype=np.float64))
            return
        _, lo, hi = piece
        if cid == 0:
            rows = con.execute("SELECT ts, num FROM instances WHERE sid=? AND ts>? AND ts<=?",
                               (sid, lo, hi)).fetchall()
            if rows:
                a = np.array(rows, dtype=np.float64)
                ts, v = a[:, 0], a[:, 1]
                one = np.ones(len(ts))
                parts_count.append(np.column_stack((one, ts, ts)))
                isnum = ~np.isnan(v)
                parts_stats.append(np.column_stack((ts, isnum, np.where(isnum, v, 0.0), v, v)))
            return
        rows = con.execute("SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=?", (sid, lo, hi)).fetchall()
        if rows:
            ts = np.array(rows, dtype=np.float64).reshape(-1)
            parts_count.append(np.column_stack((np.ones(len(ts)), ts, ts)))
        if cid:
            rows = con.execute("SELECT ts, num FROM component_values WHERE cid=? AND ts>? AND ts<=?",
                               (cid, lo, hi)).fetchall()
            if rows:
                a = np.array(rows, dtype=np.float64)
                one = np.ones(len(a))
                parts_stats.append(np.column_stack((a[:, 0], one, a[:, 1], a[:, 1], a[:, 1])))

    _assemble = staticmethod(assemble)

    # -- tool-run history --------------------------------------------------------------------------------------
    def record_run(self, run: dict) -> None:
        if not isinstance(run, dict):
            raise ValueEncodingError(f"a run record must be a dict, got {type(run).__name__}")
        text = encode_json(run)
        with self._errors("recording a tool run"), self._write() as con:
            con.execute("INSERT INTO runs (recorded_ms, record) VALUES (?, ?)", (_ms(utcnow(), 0), text))

    def list_runs(self, limit: int | None = None) -> list[dict]:
        with self._errors("listing tool runs"):
            q = "SELECT record FROM runs ORDER BY id DESC"
            rows = self._con().execute(q + (" LIMIT ?" if limit is not None else ""),
                                       (() if limit is None else (int(limit),))).fetchall()
        return [decode_json(r[0]) for r in rows]

    # -- meta-data, plates, workflows (HyperStream's collections as tagged-JSON documents) ---------------
    def list_documents(self, collection: str) -> list[dict]:
        check_collection(collection)
        with self._errors(f"reading {collection}"):
            rows = self._con().execute("SELECT doc FROM documents WHERE collection=? ORDER BY id",
                                       (collection,)).fetchall()
        return [decode_json(r[0]) for r in rows]

    def insert_documents(self, collection: str, documents: list[dict]) -> None:
        check_collection(collection)
        texts = []
        for d in documents:
            if not isinstance(d, dict):
                raise ValueEncodingError(f"a {collection} document must be a dict, got {type(d).__name__}")
            texts.append(encode_document_json({k: v for k, v in d.items() if k != "_id"}))
        with self._errors(f"writing {collection}"), self._write() as con:
            con.executemany("INSERT INTO documents (collection, doc) VALUES (?, ?)", [(collection, t) for t in texts])

    def delete_documents(self, collection: str, match: dict) -> int:
        check_collection(collection)
        with self._errors(f"deleting from {collection}"), self._write() as con:
            rows = con.execute("SELECT id, doc FROM documents WHERE collection=?", (collection,)).fetchall()
            ids = [i for i, text in rows if all(decode_json(text).get(k) == v for k, v in match.items())]
            con.executemany("DELETE FROM documents WHERE id=?", [(i,) for i in ids])
        return len(ids)

    def __repr__(self):
        return f"SQLiteStore({self.path!r})"


__all__ = ["SQLiteStore", "LEVEL_WIDTHS_MS", "SCHEMA_VERSION"]
