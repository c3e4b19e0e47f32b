"""The embedded store: one SQLite file, WAL, one connection per thread.

Schema (version 3; 1 while a file holds no blocks, 2 while its blocks are all raw)
-----------------------------------------------------------------------------------
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
``blocks(sid, t0, t1, n, ts, num) WITHOUT ROWID``, key ``(sid, t0)``
    Floats as arrays: up to 4,096 instances of a stream in one row, times int64 and values float64, each as
    raw little-endian bytes or, when smaller, a lossless encoding (:mod:`channels.stores.block_codec`). A batch of at least 1,024 floats (``insert_arrays``, or ``insert`` of floats) over a
    time span where the stream holds nothing is written this way; the rest as ``instances`` rows. Every read
    merges the two in time order through :class:`~channels.stores.sqlite_blocks.StoredInstances` (see
    :mod:`channels.stores.sqlite_blocks`). A file holding blocks is ``schema_version`` 2, one holding an
    encoded block 3.
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
``runs(id, recorded_ms, record)``, ``run_reads``, ``run_tools``, ``run_streams``
    Tool-run history (tagged JSON records), its summary and its index by stream, see
    :mod:`channels.stores.sqlite_runs`.
``changes(id, sid, channel_id, lo, hi, at, kind, by)``
    The change log (:mod:`channels.changes`): one row per batch that added or deleted instances, written in
    the batch's own transaction; ``(lo, hi]`` covers the changed timestamps, ``at`` is when (epoch ms),
    ``kind`` ``write``/``purge``, ``by`` what did it. Indexed by ``(sid, at)`` and ``at``.

Level of detail
---------------
See :mod:`channels.stores.sqlite_lod` (levels, upkeep, summaries and their exactness bound).

Writes are transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``); readers see
whole transactions only (WAL snapshots). Calculated intervals given as pieces
(``add_intervals`` / ``remove_intervals``) are read from ``definitions`` and
rewritten inside the batch's own write transaction, so writers and purgers in
any number of processes and threads never lose each other's pieces. Inside ``write_group()`` a thread's
writes are queued and committed together in one transaction (see :mod:`channels.stores.sqlite_group`).

Several processes on one file: see :mod:`channels.stores.sqlite_db` (waits, retried transactions).

Parts
-----
The store owns an :class:`~channels.stores.sqlite_db.SQLiteDatabase` (file, connections, transactions, row
ids) and three parts that reach the file only through it: :class:`~channels.stores.sqlite_lod.SQLiteLevelOfDetail`
(``lod``), :class:`~channels.stores.sqlite_changes.SQLiteChangeLog` (``changes``) and
:class:`~channels.stores.sqlite_columnar.SQLiteColumnReader` (typed columnar reads).
"""
from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime, timedelta
from itertools import repeat
from operator import floordiv, itemgetter, sub
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from ..errors import DuplicateInstanceError, StoreError, StreamAlreadyExistsError, StreamNotFoundError, TimeError
from ..errors import ValueEncodingError
from ..columnar import check_arrays
from ..lod import Summary
from ..changes import PURGE, WRITE
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeInterval, TimeIntervals
from ..utils import EPOCH, utcnow
from .base import (UPDATABLE_FIELDS, Committed, Store, StreamDefinition, check_collection, check_not_future,
                   interval_changes, merge_intervals)
from .codec import decode_json, encode_document_json, encode_json, numeric, values_equal
from .lod_levels import LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, LOD_PER_BUCKET  # noqa: F401 - re-exported
from .sqlite_changes import SQLiteChangeLog
from .sqlite_runs import SQLiteRuns
from .sqlite_columnar import (_HI, _LO, _NAN_TEXT, _NEG_ZERO_TEXT, K_NEG_ZERO, RowBatch, SQLiteColumnReader, _dt, _ms,
                              columns_batch, dict_components)
from .sqlite_blocks import BLOCK_MIN, StoredInstances
from .sqlite_db import SCHEMA_VERSION, SQLiteDatabase
from .sqlite_lod import SQLiteLevelOfDetail

_ONE_MS = timedelta(milliseconds=1)
_MAX_PARAMS = 900

_NAN = float("nan")


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


class _FloatBatch(NamedTuple):
    """A batch of floats for ``insert_arrays`` that may go in as blocks; ``rows()`` its :class:`RowBatch`."""
    ms_arr: np.ndarray
    num_arr: np.ndarray
    rows: object


class SQLiteStore(Store):
    """The embedded store in one SQLite file (created if missing). See the module docstring for the schema."""

    keeps_changes = True

    def __init__(self, path, busy_timeout_ms: int = 30_000):
        self._db = SQLiteDatabase(path, busy_timeout_ms)
        self.path = self._db.path
        self.description = f"SQLite {self.path}"
        self._lod = SQLiteLevelOfDetail(self._db)
        self._changes = SQLiteChangeLog(self._db)
        self._runs = SQLiteRuns(self._db)
        self._stored = StoredInstances(self._db)
        self._column_reader = SQLiteColumnReader(self._db, self._stored)

    def close(self) -> None:
        self._db.close()

    # -- write groups ----------------------------------------------------------------------------------------
    def write_group(self, max_instances: int | None = None):
        """See :meth:`Store.write_group`: this thread's writes are queued and committed in one transaction when
        the group ends (or once they hold ``max_instances`` instances); see :mod:`channels.stores.sqlite_group`."""
        return self._db.write_group(max_instances)

    def _settle(self, *stream_ids: StreamId) -> None:
        """Before a read or a change of ``stream_ids`` (none given: of any stream) on this thread: commit the
        thread's write group if it holds writes to them, so the thread reads what it wrote, and changes in order."""
        group = self._db.group
        if group is not None and (any(group.pending(s.key) for s in stream_ids) if stream_ids else group.pending()):
            group.flush()

    # -- definitions -----------------------------------------------------------------------------------------
    _DEF_COLS = "name, meta, channel_id, calculated_intervals, last_updated, last_accessed, sandbox, stream_type"

    @staticmethod
    def _definition(row, intervals=None) -> StreamDefinition:
        """``intervals``: a dict text -> TimeIntervals for the rows of one listing (most streams of a workflow
        have the same calculated intervals: each row gets its own TimeIntervals over the same, never changed,
        list of pieces)."""
        name, meta, channel_id, ivs, lu, la, sandbox, stype = row
        if intervals is None:
            ci = _intervals_from_text(ivs)
        else:
            ci = intervals.get(ivs)
            if ci is None:
                ci = intervals[ivs] = _intervals_from_text(ivs)
            ci = TimeIntervals(ci)
        return StreamDefinition(StreamId._stored(name, json.loads(meta)), channel_id, ci, _dt(lu), _dt(la), sandbox,
                                stype)

    def list_definitions(self, channel_id: str | None = None,
                         updated_since: datetime | None = None) -> list[StreamDefinition]:
        self._settle()
        where, args = [], []
        if channel_id is not None:
            where.append("channel_id=?")
            args.append(channel_id)
        if updated_since is not None:
            where.append("last_updated>?")
            args.append(_ms(updated_since, 0))
        q = f"SELECT {self._DEF_COLS} FROM definitions" + (" WHERE " + " AND ".join(where) if where else "")
        with self._db.errors("listing stream definitions"):
            rows = self._db.con().execute(q + " ORDER BY key", args).fetchall()
        intervals = {}
        return [self._definition(r, intervals) for r in rows]

    def calculated_by_key(self, channel_id: str, updated_since: datetime | None = None) -> dict:
        """See :meth:`Store.calculated_by_key`: three columns, each distinct intervals text parsed once."""
        self._settle()
        q, args = "SELECT key, calculated_intervals, last_updated FROM definitions WHERE channel_id=?", [channel_id]
        if updated_since is not None:
            q += " AND last_updated>?"
            args.append(_ms(updated_since, 0))
        with self._db.errors("listing stream definitions"):
            rows = self._db.con().execute(q, args).fetchall()
        parsed: dict = {}
        out = {}
        for key, text, lu in rows:
            ci = parsed.get(text)
            if ci is None:
                ci = parsed[text] = _intervals_from_text(text)
            out[key] = (ci, lu)
        return out

    def definitions_named(self, channel_id: str, name: str, meta=()) -> list[StreamDefinition]:
        """See :meth:`Store.definitions_named`: a range of the index on ``(channel_id, key)`` -- every key of a
        stream called ``name`` starts with the same text (``StreamId.key`` is ``["name",[["k","v"],...]]``, ASCII
        JSON) --, the pairs of ``meta`` looked for in the keys there, by SQLite: only the streams asked for are
        read into Python (a splitter's step at 100 homes: its 3 siblings, not the 800 streams of its name)."""
        prefix = json.dumps([str(name)], separators=(",", ":"))[:-1] + ","
        pairs = [json.dumps([str(k), str(v)], separators=(",", ":")) for k, v in meta]
        q = (f"SELECT key, {self._DEF_COLS} FROM definitions WHERE channel_id=? AND key>=? AND key<?"
             + " AND instr(key, ?)" * len(pairs) + " ORDER BY key")
        args = (channel_id, prefix, prefix[:-1] + chr(ord(",") + 1), *pairs)
        group = self._db.group
        if group is not None and group.pending_prefix(prefix):
            group.flush()   # this thread reads what it wrote (streams it created, their intervals)
        with self._db.errors(f"reading the definitions of the streams called {name!r}"):
            rows = self._db.con().execute(q, args).fetchall()
        intervals = {}
        out = [self._definition(r[1:], intervals) for r in rows]
        return [d for d in out if d.stream_id.holds(meta)] if meta else out

    def channel_ids(self) -> set[str]:
        self._settle()
        with self._db.errors("listing channel ids"):
            return {r[0] for r in self._db.con().execute("SELECT DISTINCT channel_id FROM definitions")}

    def count_definitions(self, channel_id: str | None = None) -> int:
        self._settle()
        with self._db.errors("counting stream definitions"):
            con = self._db.con()
            if channel_id is None:
                return con.execute("SELECT count(*) FROM definitions").fetchone()[0]
            return con.execute("SELECT count(*) FROM definitions WHERE channel_id=?", (channel_id,)).fetchone()[0]

    def get_definition(self, stream_id: StreamId) -> StreamDefinition | None:
        self._settle(stream_id)
        with self._db.errors(f"reading the definition of {stream_id}"):
            row = self._db.con().execute(f"SELECT {self._DEF_COLS} FROM definitions WHERE key=?",
                                      (stream_id.key,)).fetchone()
        return None if row is None else self._definition(row)

    def get_definitions(self, stream_ids) -> dict:
        by_key = {sid.key: sid for sid in stream_ids}
        if by_key:
            self._settle(*by_key.values())
        keys = list(by_key)
        out = {}
        with self._db.errors(f"reading the definitions of {len(keys)} streams"), self._db.snapshot() as con:
            for i in range(0, len(keys), _MAX_PARAMS):
                part = keys[i:i + _MAX_PARAMS]
                rows = con.execute(f"SELECT key, {self._DEF_COLS} FROM definitions WHERE key IN "
                                   f"({','.join('?' * len(part))})", part).fetchall()
                for row in rows:
                    out[by_key[row[0]]] = self._definition(row[1:])
        return out

    def create_definition(self, definition: StreamDefinition) -> None:
        self.create_definitions([definition])

    def create_definitions(self, definitions) -> None:
        """See :meth:`Store.create_definitions`. Inside this thread's write group they are queued, committed in
        the group's transaction with what is written to the streams (a workflow batch's outputs with their data:
        a crash leaves neither or both); a StreamAlreadyExistsError then reaches the group's owner."""
        definitions = list(definitions)
        if not definitions:
            return
        what = (f"creating stream {definitions[0].stream_id}" if len(definitions) == 1
                else f"creating {len(definitions)} streams")
        rows = [(d, _intervals_to_text(d.calculated_intervals), json.dumps([list(p) for p in d.stream_id.meta_data]))
                for d in definitions]   # prepared before the write lock is taken

        def body(con):
            for d, ivs, meta in rows:
                sid_ = d.stream_id
                if con.execute("SELECT 1 FROM definitions WHERE key=?", (sid_.key,)).fetchone():
                    raise StreamAlreadyExistsError(sid_, d.channel_id)
                sid = self._db.sid(con, sid_, create=True)
                con.execute("INSERT INTO definitions (sid, key, name, meta, channel_id, stream_type, sandbox, "
                            "last_updated, last_accessed, calculated_intervals) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            (sid, sid_.key, sid_.name, meta, d.channel_id, d.stream_type, d.sandbox,
                             _ms(d.last_updated, None), _ms(d.last_accessed, None), ivs))

        group = self._db.group
        if group is not None:
            group.queue(body, what, [d.stream_id.key for d in definitions])
            return
        self._settle()
        with self._db.errors(what), self._db.write() as con:
            body(con)

    def update_definition(self, stream_id: StreamId, **fields) -> None:
        bad = set(fields) - set(UPDATABLE_FIELDS)
        if bad:
            raise StoreError(f"cannot update {', '.join(sorted(bad))} of stream {stream_id}: "
                             f"updatable fields are {', '.join(UPDATABLE_FIELDS)}")
        self._settle(stream_id)
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
        with self._db.errors(f"updating stream {stream_id}"), self._db.write() as con:
            cur = con.execute(f"UPDATE definitions SET {', '.join(sets)} WHERE key=?", (*params, stream_id.key))
            if cur.rowcount == 0:
                raise StreamNotFoundError(stream_id)

    def delete_definition(self, stream_id: StreamId) -> None:
        """Remove the definition only; instances stay until purged (as in HyperStream's MongoDB layout)."""
        self._settle(stream_id)
        with self._db.errors(f"deleting stream {stream_id}"), self._db.write() as con:
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

    # -- writing -----------------------------------------------------------------------------------------------
    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
               remove_intervals=None) -> int:
        """See :meth:`Store.insert`. Also sets ``last_updated`` when the calculated intervals change.

        A stream needs no definition to hold instances (as in MongoDB), but
        changing its calculated intervals needs one (StreamNotFoundError otherwise).
        """
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
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
        rows = RowBatch(n, ms, ms_arr, num_arr, vcol, numcol, vals, keep, comp_items)
        if types == {float} and n >= BLOCK_MIN:  # floats: may go in as blocks, as from insert_arrays
            ka = None if keep is None else np.asarray(keep, dtype=np.int64)
            return self._write_batch(stream_id, _FloatBatch(ms_arr if ka is None else ms_arr[ka],
                                                            num_arr if ka is None else num_arr[ka], lambda: rows), ivs)
        return self._write_batch(stream_id, rows, ivs)

    def insert_arrays(self, stream_id: StreamId, ms, values, calculated_intervals: TimeIntervals | None = None, *,
                      add_intervals=None, remove_intervals=None) -> int:
        """See :meth:`Store.insert_arrays`: straight from the arrays to ``executemany``, one transaction."""
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
        ms_arr, num_arr = check_arrays(stream_id, ms, values)

        def rows():
            ms_l = ms_arr.tolist()
            numcol = num_arr.tolist()
            vcol = _float_vcol(num_arr)  # as for a batch of float instances (NaN binds as NULL num)
            return RowBatch(len(ms_l), ms_l, ms_arr, num_arr, vcol, numcol, numcol, None, None)

        if len(ms_arr) < BLOCK_MIN:
            return self._write_batch(stream_id, rows(), ivs)
        # large enough for blocks: the rows are only made (in the transaction) if the stream already holds
        # something in the batch's time span
        return self._write_batch(stream_id, _FloatBatch(ms_arr, num_arr, rows), ivs)

    def insert_columns(self, stream_id, columns, calculated_intervals=None, *, add_intervals=None,
                       remove_intervals=None) -> int:
        """Write a :class:`channels.columnar.Columns` batch like :meth:`insert` writes its instances, without
        making per-instance objects: the ``v`` text of datetimes, intervals and records is formatted from the
        arrays (records whose text cannot be formatted here are written as instances)."""
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
        if columns.kind == "float":
            return self.insert_arrays(stream_id, columns.ms, columns.values, ivs[0], add_intervals=ivs[1],
                                      remove_intervals=ivs[2])
        batch = columns_batch(stream_id, columns)
        if batch is None:
            return self.insert(stream_id, columns.instances(), ivs[0], add_intervals=ivs[1], remove_intervals=ivs[2])
        return self._write_batch(stream_id, batch, ivs)

    def _write_batch(self, stream_id, batch, ivs):
        """Write a prepared batch in one transaction: its new rows, their aggregates, the change-log row and the
        calculated intervals (``ivs`` as from :func:`channels.stores.base.interval_changes`).

        ``batch`` a :class:`RowBatch`, or a :class:`_FloatBatch` of at least ``BLOCK_MIN`` floats in strictly
        increasing time (``insert_arrays``): written as blocks when the stream holds nothing in its time span
        (see :mod:`channels.stores.sqlite_blocks`), else as rows."""
        changes_intervals = any(x is not None for x in ivs)
        floats = batch if isinstance(batch, _FloatBatch) else None

        def body(con):
            nonlocal batch
            sid = self._db.sid(con, stream_id, create=True)
            if changes_intervals and not con.execute("SELECT 1 FROM definitions WHERE sid=?", (sid,)).fetchone():
                raise StreamNotFoundError(stream_id)
            written = 0
            if floats is not None:
                ms_arr, num_arr = floats.ms_arr, floats.num_arr
                if not self._stored.holds_any(con, sid, int(ms_arr[0]), int(ms_arr[-1])):
                    before = self._lod.level_before_write(con, sid)
                    self._stored.write_blocks(con, sid, ms_arr, num_arr)
                    self._lod.add_batch(con, sid, before, ms_arr, num_arr, {})
                    self._changes.record(con, sid, int(ms_arr[0]) - 1, int(ms_arr[-1]), WRITE)
                    return Committed(len(ms_arr), self._change_intervals(con, stream_id, ivs))
                if isinstance(batch, _FloatBatch):
                    batch = floats.rows()
            if batch.n:
                keep = self._drop_existing(con, sid, stream_id, batch)
                written = batch.n if keep is None else len(keep)
                if written:
                    w = self._write_rows(con, sid, batch, keep)
                    self._changes.record(con, sid, int(w.min()) - 1, int(w.max()), WRITE)
            return Committed(written, self._change_intervals(con, stream_id, ivs))

        group = self._db.group
        if group is not None:   # queued: committed with the group's other writes (see write_group)
            n = len(floats.ms_arr) if floats is not None else (batch.n if batch.keep is None else len(batch.keep))
            return Committed.queued(n, group.queue(body, f"writing to stream {stream_id}", stream_id.key, n))
        try:
            with self._db.errors(f"writing to stream {stream_id}"):
                return self._db.transact(body)
        except sqlite3.IntegrityError as e:  # pragma: no cover - guarded by the checks above
            raise StoreError(f"SQLite store {self.path}: writing to stream {stream_id} failed: {e}") from e

    def _drop_existing(self, con, sid, stream_id, batch: RowBatch):
        """Check the batch against stored instances; return the indices to write (raise on a conflict)."""
        ms_arr, keep, vcol, numcol, vals = batch.ms_arr, batch.keep, batch.vcol, batch.numcol, batch.vals
        lo, hi = int(ms_arr.min()), int(ms_arr.max())
        if not self._stored.holds_any(con, sid, lo, hi):
            return keep
        idx = keep if keep is not None else range(len(ms_arr))
        cand = [i for i in idx]
        stored = self._stored.at(con, sid, ms_arr[np.asarray(cand, dtype=np.int64)])
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

    def _write_rows(self, con, sid, batch: RowBatch, keep):
        """INSERT the rows ``keep`` of the batch (all when None) and their component rows; keep the level of
        detail. Returns the epoch ms written (int64, time order)."""
        ms, ms_arr, num_arr, vcol, numcol = batch.ms, batch.ms_arr, batch.num_arr, batch.vcol, batch.numcol
        if keep is not None:
            ka = np.asarray(keep, dtype=np.int64)
            w_ms = ms_arr[ka]
            w_num = num_arr[ka]
            ms_l = w_ms.tolist()
            num_l = [numcol[i] for i in keep]
            v_l = None if vcol is None else [vcol[i] for i in keep]
        else:
            w_ms, w_num, ms_l, num_l, v_l = ms_arr, num_arr, ms, numcol, vcol
        before = self._lod.level_before_write(con, sid)
        if v_l is None:
            _insert_rows(con, "INSERT INTO instances (sid, ts, num) VALUES ", f"({sid:d},?,?)", (ms_l, num_l))
        else:
            _insert_rows(con, "INSERT INTO instances (sid, ts, v, num) VALUES ", f"({sid:d},?,?,?)",
                         (ms_l, v_l, num_l))
        # numeric components of dict values
        comps = dict_components(batch.comp_items, ms, keep, numeric)
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
        self._lod.add_batch(con, sid, before, w_ms, w_num, comp_arrays)
        return w_ms

    def purge(self, stream_id: StreamId, start: datetime | None = None, end: datetime | None = None,
              calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
              remove_intervals=None) -> int:
        """See :meth:`Store.purge`; the affected level-of-detail buckets are recomputed in the same transaction."""
        self._settle(stream_id)
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
        with self._db.errors(f"purging stream {stream_id}"):
            return self._db.transact(lambda con: self._purge_in(con, stream_id, start, end, lo, hi, ivs))

    def _purge_in(self, con, stream_id, start, end, lo, hi, ivs):
        if any(x is not None for x in ivs) and not con.execute(
                "SELECT 1 FROM definitions WHERE key=?", (stream_id.key,)).fetchone():
            raise StreamNotFoundError(stream_id)
        sid = self._db.sid(con, stream_id)
        deleted = 0
        if sid is not None and lo < hi:
            cids = [r[0] for r in con.execute("SELECT cid FROM components WHERE sid=?", (sid,))]
            deleted, first, last = self._stored.delete(con, sid, lo, hi)
            if start is None and end is None:
                con.executemany("DELETE FROM component_values WHERE cid=?", [(c,) for c in cids])
                con.execute("DELETE FROM components WHERE sid=?", (sid,))
                self._lod.forget(con, sid)
            else:
                con.executemany("DELETE FROM component_values WHERE cid=? AND ts>? AND ts<=?",
                                [(c, lo, hi) for c in cids])
                if deleted:
                    self._lod.after_purge(con, sid, lo, hi)
            if deleted:  # the purged interval; an open end: the data's
                self._changes.record(con, sid, first - 1 if start is None else lo,
                                     last if end is None else hi, PURGE)
        return Committed(deleted, self._change_intervals(con, stream_id, ivs))

    def list_changes(self, stream_id: StreamId | None = None, since: datetime | None = None,
                     channel_id: str | None = None) -> list:
        """See :meth:`Store.list_changes`."""
        self._settle()
        return self._changes.read(stream_id, since, channel_id)

    def newest_changes(self, channel_id: str | None = None) -> dict:
        """See :meth:`Store.newest_changes`."""
        self._settle()
        return self._changes.newest(channel_id)

    def newest_change_ms(self, channel_id: str | None = None) -> dict:
        """See :meth:`Store.newest_change_ms`."""
        self._settle()
        return self._changes.newest_ms(channel_id)

    # -- reading -----------------------------------------------------------------------------------------------
    def read(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> Iterator[StreamInstance]:
        self._settle(stream_id)
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        return self._read(stream_id, lo, hi)

    def _read(self, stream_id, lo, hi, chunk: int = 65536):
        new = tuple.__new__  # what StreamInstance._make does, minus its Python-level length check
        epoch_add = EPOCH.__add__
        with self._db.errors(f"reading stream {stream_id}"):
            con = self._db.con()
            sid = self._db.sid(con, stream_id)
            if sid is None:
                return
            dec, si = decode_json, StreamInstance
            # rows: ifnull(v, num) is the float (v NULL), the int, or tagged-JSON text to decode
            for rows, bts, bnum in self._stored.pieces(sid, lo, hi, "ifnull(v, num)"):
                if len(bts):
                    pairs = zip(bts.tolist(), bnum.tolist())
                    if rows:  # rows written inside blocks' spans: in time order
                        pairs = sorted([*rows, *pairs], key=itemgetter(0))
                    rows = pairs
                yield from [new(si, (epoch_add(timedelta(0, 0, 0, t)), x if type(x) is not str else dec(x)))
                            for t, x in rows]

    def count(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        """Exact count; wide ranges of large streams are answered from the aggregates (O(levels), not O(n))."""
        self._settle(stream_id)
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        with self._db.errors(f"counting stream {stream_id}"), self._db.snapshot() as con:
            sid = self._db.sid(con, stream_id)
            if sid is None:
                return 0
            n = self._lod.count(con, sid, lo, hi)
            if n is not None:
                return n
            return self._stored.count(con, sid, lo, hi)

    def _one(self, stream_id, start, end, order):
        self._settle(stream_id)
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        with self._db.errors(f"reading stream {stream_id}"), self._db.snapshot() as con:
            sid = self._db.sid(con, stream_id)
            if sid is None:
                return None
            span = self._stored.bounds(con, sid, lo, hi)
            if span is None:
                return None
            t = span[1] if order == "DESC" else span[0]
            v, num = self._stored.at(con, sid, np.array([t], dtype=np.int64))[t]
        return StreamInstance._make((_dt(t), _decode_row(v, num)))

    def first(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, "ASC")

    def last(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, "DESC")

    def columns(self, stream_id: StreamId, start, end, component: str | None = None):
        """``(ms int64, values float64)`` of the instances with a numeric value (bools as 0/1, NaN left out).

        With ``component``, of the instances whose dict value has a numeric ``value[component]``.
        """
        self._settle(stream_id)
        lo, hi = _ms(start, _LO), _ms(end, _HI)
        dtype = np.dtype([("t", "<i8"), ("v", "<f8")])
        with self._db.errors(f"reading columns of stream {stream_id}"), self._db.snapshot() as con:
            sid = self._db.sid(con, stream_id)
            arr = np.zeros(0, dtype)
            if sid is not None:
                if component is None:
                    ts, num = self._stored.floats(sid, lo, hi)
                    keep = ~np.isnan(num)
                    if not keep.all():
                        ts, num = ts[keep], num[keep]
                    return ts, num
                else:
                    cid = self._db.cid(con, sid, component)
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
        """Answered from the precomputed aggregates; see :mod:`channels.stores.sqlite_lod` for the method and
        its bound."""
        self._settle(stream_id)
        return self._lod.summary(stream_id, start, end, buckets, component)

    def typed_columns(self, stream_id, start, end):
        """See :meth:`channels.stores.sqlite_columnar.SQLiteColumnReader.typed_columns`."""
        self._settle(stream_id)
        return self._column_reader.typed_columns(stream_id, start, end)

    def typed_component_columns(self, stream_id, start, end, key):
        """See :meth:`channels.stores.sqlite_columnar.SQLiteColumnReader.typed_component_columns`."""
        self._settle(stream_id)
        return self._column_reader.typed_component_columns(stream_id, start, end, key)

    # -- tool-run history --------------------------------------------------------------------------------------
    def record_run(self, run: dict) -> None:
        self.record_runs([run])

    def record_runs(self, runs: list) -> None:
        """See :meth:`channels.stores.sqlite_runs.SQLiteRuns.record` (one transaction, the summary with it; inside
        this thread's write group, in the group's transaction with the runs' data)."""
        self._runs.record(runs)

    def list_runs(self, limit: int | None = None) -> list[dict]:
        self._settle()
        return self._runs.list(limit)

    def run_summary(self) -> dict:
        """See :meth:`channels.stores.sqlite_runs.SQLiteRuns.summary`."""
        self._settle()
        return self._runs.summary()

    def runs_of(self, streams, role: str | None = None) -> list[dict]:
        """See :meth:`channels.stores.sqlite_runs.SQLiteRuns.runs_of`."""
        self._settle()
        return self._runs.runs_of(streams, role)

    # -- meta-data, plates, workflows (HyperStream's collections as tagged-JSON documents) ---------------
    def list_documents(self, collection: str) -> list[dict]:
        check_collection(collection)
        with self._db.errors(f"reading {collection}"):
            rows = self._db.con().execute("SELECT doc FROM documents WHERE collection=? ORDER BY id",
                                       (collection,)).fetchall()
        return [decode_json(r[0]) for r in rows]

    def insert_documents(self, collection: str, documents: list[dict]) -> None:
        check_collection(collection)
        texts = []
        for d in documents:
            if not isinstance(d, dict):
                raise ValueEncodingError(f"a {collection} document must be a dict, got {type(d).__name__}")
            texts.append(encode_document_json({k: v for k, v in d.items() if k != "_id"}))
        with self._db.errors(f"writing {collection}"), self._db.write() as con:
            con.executemany("INSERT INTO documents (collection, doc) VALUES (?, ?)", [(collection, t) for t in texts])

    def delete_documents(self, collection: str, match: dict) -> int:
        check_collection(collection)
        with self._db.errors(f"deleting from {collection}"), self._db.write() as con:
            rows = con.execute("SELECT id, doc FROM documents WHERE collection=?", (collection,)).fetchall()
            ids = [i for i, text in rows if all(decode_json(text).get(k) == v for k, v in match.items())]
            con.executemany("DELETE FROM documents WHERE id=?", [(i,) for i in ids])
        return len(ids)

    def __repr__(self):
        return f"SQLiteStore({self.path!r})"


__all__ = ["SQLiteStore", "LEVEL_WIDTHS_MS", "SCHEMA_VERSION"]
