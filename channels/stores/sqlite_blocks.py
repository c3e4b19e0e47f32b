"""A stream's instances in the embedded store: rows (``instances``) and float array blocks (``blocks``), and
the ONE place that reads, counts and deletes them.

Blocks
------
``blocks(sid, t0, t1, n, ts BLOB, num BLOB) WITHOUT ROWID``, key ``(sid, t0)``: ``n`` instances of a stream,
their epoch ms (int64) and their values (float64, every bit kept: NaN payloads, -0.0, inf), ``t0``/``t1`` the
first and last time. ``ts`` and ``num`` are each either raw little-endian bytes or, when smaller, a lossless
encoding (regular times as one step, decimal values as small integers, ...: :mod:`channels.stores.block_codec`,
which tells them apart by their length) -- a bulk write is bound by the bytes it writes.
:meth:`StoredInstances.write_blocks` cuts a batch of floats into blocks of :data:`BLOCK_N`;
``SQLiteStore.insert_arrays`` writes a batch of at least :data:`BLOCK_MIN` instances that way when the stream
holds nothing in the batch's time span (rows and blocks), otherwise as rows.
So the blocks of one stream never overlap in time; a row may be written later between two instances of a
block (a new timestamp), and readers merge the two in time order. Purging deletes the blocks inside the
interval and rewrites the ones it cuts (the instances outside the interval, as at most two blocks).

A file holding blocks has ``schema_version`` 2 (set when its first block is written), and 3 once it holds an
encoded blob, so an older version of HyperStream Studio refuses it (with its "newer version" error) rather
than missing the blocks' instances or misreading them; files without blocks stay version 1, files whose
blocks are all raw (written by earlier versions) stay 2 and are read as they are.

Reading
-------
Every read of a stream's instances -- iteration, counts, first/last, columns, level-of-detail upkeep and raw
summary pieces, existing-timestamp checks, purge -- goes through :class:`StoredInstances`. Its core,
:meth:`StoredInstances.pieces`, walks ``(lo, hi]`` forward in steps of at most about :data:`STEP` instances,
each read in one snapshot: a step is either rows only, or one or more blocks (clipped to the range) together
with the rows lying inside their time spans. The consumers turn each piece into what they need.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from .block_codec import decode_num, decode_ts, encode_blocks
from .sqlite_columnar import _NAN_TEXT, _NEG_ZERO_TEXT

#: instances per block
BLOCK_N = 4096
#: a batch of floats smaller than this is written as rows
BLOCK_MIN = 1024
#: about this many instances per piece of a read
STEP = 65536
#: the schema version of a file once it holds blocks (``sqlite_db.SCHEMA_VERSION``)
BLOCKS_SCHEMA_VERSION = 2
#: ... and once it holds an encoded (not raw) block blob
ENCODED_BLOCKS_SCHEMA_VERSION = 3

SCHEMA = ("CREATE TABLE IF NOT EXISTS blocks (sid INTEGER NOT NULL, t0 INTEGER NOT NULL, t1 INTEGER NOT NULL, "
          "n INTEGER NOT NULL, ts BLOB NOT NULL, num BLOB NOT NULL, PRIMARY KEY (sid, t0)) WITHOUT ROWID")

_NO_TS = np.zeros(0, np.int64)
_NO_NUM = np.zeros(0, np.float64)


class Piece(NamedTuple):
    """One step of a read: ``rows`` (tuples ``(ts, *row columns)`` in time order, from ``instances``) and the
    block instances ``bts`` (int64 ms) / ``bnum`` (float64 values), in time order; the two may interleave."""
    rows: list
    bts: np.ndarray
    bnum: np.ndarray


class _Block(NamedTuple):
    t0: int
    t1: int
    ts: np.ndarray
    num: np.ndarray


def _block(row) -> _Block:
    """A block from its row ``(t0, t1, n, ts, num)``."""
    return _Block(row[0], row[1], decode_ts(row[3], row[2]), decode_num(row[4], row[2]))


def row_encoding(x: float):
    """``(v, num)`` of a float as the ``instances`` row would hold it (see :mod:`channels.stores.sqlite_store`)."""
    if x != x:
        return _NAN_TEXT, None
    if x == 0.0 and np.signbit(x):
        return _NEG_ZERO_TEXT, x
    return None, x


def merge_order(row_ts, bts) -> np.ndarray:
    """Positions into ``row items + block items`` (rows first) in time order."""
    return np.argsort(np.concatenate((np.asarray(row_ts, np.int64), bts)), kind="stable")


class StoredInstances:
    """The instances (rows and blocks) of the streams of one store file; see the module docstring. Every
    method takes the stream's row id ``sid``; those without ``con`` read in a snapshot of their own (or in the
    transaction already open on this thread's connection)."""

    def __init__(self, db):
        self.db = db

    # -- the one walk ------------------------------------------------------------------------------------------
    def pieces(self, sid, lo, hi, row_cols: str = "v, num") -> Iterator[Piece]:
        """The instances in ``(lo, hi]`` in time order, in pieces (see the module docstring); rows as
        ``(ts, <row_cols>)``."""
        q_rows = f"SELECT ts, {row_cols} FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts LIMIT ?"
        p = lo
        while p < hi:
            with self.db.snapshot() as con:
                piece, p = self._step(con, sid, p, hi, q_rows)
            if piece is None:
                return
            yield piece

    @staticmethod
    def _next_block(con, sid, p, hi):
        """The first block with an instance after ``p`` that starts at or before ``hi`` (its row), or None."""
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<=? ORDER BY t0 DESC LIMIT 1",
                          (sid, p)).fetchone()
        if row is not None and row[1] > p:  # the arrays are read only for a block that is used
            return row + con.execute("SELECT n, ts, num FROM blocks WHERE sid=? AND t0=?", (sid, row[0])).fetchone()
        return con.execute("SELECT t0, t1, n, ts, num FROM blocks WHERE sid=? AND t0>? AND t0<=? ORDER BY t0 LIMIT 1",
                           (sid, p, hi)).fetchone()

    def _step(self, con, sid, p, hi, q_rows):
        """``(piece, new position)`` of the next step after ``p``; ``(None, hi)`` when nothing is left."""
        nb = self._next_block(con, sid, p, hi)
        if nb is None:
            rows = con.execute(q_rows, (sid, p, hi, STEP)).fetchall()
            if not rows:
                return None, hi
            return Piece(rows, _NO_TS, _NO_NUM), (rows[-1][0] if len(rows) == STEP else hi)
        b = _block(nb)
        rows = con.execute(q_rows, (sid, p, min(b.t0 - 1, hi), STEP)).fetchall()
        if rows:  # rows before the block come first
            return Piece(rows, _NO_TS, _NO_NUM), rows[-1][0]
        # blocks in a row (no rows between them), each with the rows inside its own span
        parts_t, parts_v, inside = [], [], []
        total = 0
        while True:
            end = min(b.t1, hi)
            i = int(np.searchsorted(b.ts, p, "right"))
            j = int(np.searchsorted(b.ts, end, "right"))
            parts_t.append(b.ts[i:j])
            parts_v.append(b.num[i:j])
            total += j - i
            inside += con.execute(q_rows, (sid, p, end, -1)).fetchall()
            p = end
            if p >= hi or total >= STEP or inside:
                break
            nxt = con.execute("SELECT t0, t1, n, ts, num FROM blocks WHERE sid=? AND t0>? AND t0<=? ORDER BY t0 "
                              "LIMIT 1", (sid, p, hi)).fetchone()
            if nxt is None or con.execute("SELECT 1 FROM instances WHERE sid=? AND ts>? AND ts<? LIMIT 1",
                                          (sid, p, nxt[0])).fetchone():
                break
            b = _block(nxt)
        bts = parts_t[0] if len(parts_t) == 1 else np.concatenate(parts_t)
        bnum = parts_v[0] if len(parts_v) == 1 else np.concatenate(parts_v)
        return Piece(inside, bts, bnum), p

    # -- reads built on the walk ---------------------------------------------------------------------------------
    def floats(self, sid, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """``(ms int64, num float64)`` of every instance in ``(lo, hi]`` in time order: ``num`` the number of a
        numeric value (bools 0/1, -0.0 kept), NaN for NaN and non-numeric values."""
        ts_parts, v_parts = [], []
        for rows, bts, bnum in self.pieces(sid, lo, hi, "num"):
            if rows:
                a = np.array(rows, dtype=np.float64).reshape(-1, 2)
                rts, rv = a[:, 0].astype(np.int64), a[:, 1]
                if (rv == 0.0).any():  # REAL drops the sign of zero; v keeps it
                    with self.db.snapshot() as con:
                        neg = [r[0] for r in con.execute(
                            "SELECT ts FROM instances WHERE sid=? AND ts>=? AND ts<=? AND num=0 AND v=?",
                            (sid, int(rts[0]), int(rts[-1]), _NEG_ZERO_TEXT))]
                    if neg:
                        rv[np.searchsorted(rts, np.array(neg, dtype=np.int64))] = -0.0
                if len(bts):
                    o = merge_order(rts, bts)
                    rts, rv = np.concatenate((rts, bts))[o], np.concatenate((rv, bnum))[o]
                ts_parts.append(rts)
                v_parts.append(rv)
            else:
                ts_parts.append(bts)
                v_parts.append(bnum)
        if not ts_parts:
            return _NO_TS.copy(), _NO_NUM.copy()
        if len(ts_parts) == 1:
            return np.array(ts_parts[0]), np.array(v_parts[0])
        return np.concatenate(ts_parts), np.concatenate(v_parts)

    @staticmethod
    def count(con, sid, lo, hi) -> int:
        """The number of instances in ``(lo, hi]``."""
        n = con.execute("SELECT count(*) FROM instances WHERE sid=? AND ts>? AND ts<=?", (sid, lo, hi)).fetchone()[0]
        n += con.execute("SELECT ifnull(sum(n), 0) FROM blocks WHERE sid=? AND t0>? AND t1<=?",
                         (sid, lo, hi)).fetchone()[0]
        for t0, bn, ts in StoredInstances._cut_blocks(con, sid, lo, hi):
            a = decode_ts(ts, bn)
            n += int(np.searchsorted(a, hi, "right") - np.searchsorted(a, lo, "right"))
        return n

    @staticmethod
    def _cut_blocks(con, sid, lo, hi):
        """``(t0, n, ts blob)`` of the (at most two) blocks that reach over ``lo`` or ``hi`` into ``(lo, hi]``."""
        out = {}
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<=? ORDER BY t0 DESC LIMIT 1",
                          (sid, lo)).fetchone()
        if row is not None and row[1] > lo:
            out[row[0]] = None
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<=? ORDER BY t0 DESC LIMIT 1",
                          (sid, hi)).fetchone()
        if row is not None and row[1] > hi and row[0] > lo:
            out[row[0]] = None
        return [(t0, *con.execute("SELECT n, ts FROM blocks WHERE sid=? AND t0=?", (sid, t0)).fetchone())
                for t0 in out]

    @staticmethod
    def bounds(con, sid, lo, hi):
        """``(first ms, last ms)`` of the instances in ``(lo, hi]``, or None when there are none."""
        first = con.execute("SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts LIMIT 1",
                            (sid, lo, hi)).fetchone()
        last = con.execute("SELECT ts FROM instances WHERE sid=? AND ts>? AND ts<=? ORDER BY ts DESC LIMIT 1",
                           (sid, lo, hi)).fetchone()
        first, last = (None, None) if first is None else (first[0], last[0])
        # the block times are read only where the range cuts the block
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<=? ORDER BY t0 DESC LIMIT 1",
                          (sid, lo)).fetchone()
        if row is None or row[1] <= lo:
            row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0>? AND t0<=? ORDER BY t0 LIMIT 1",
                              (sid, lo, hi)).fetchone()
        if row is not None:
            t = row[0] if row[0] > lo else StoredInstances._time_after(con, sid, row[0], lo)
            if t <= hi:
                first = t if first is None else min(first, t)
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<=? ORDER BY t0 DESC LIMIT 1",
                          (sid, hi)).fetchone()
        if row is not None and row[1] > lo:
            t = row[1] if row[1] <= hi else StoredInstances._time_after(con, sid, row[0], hi, before=True)
            if t > lo:
                last = t if last is None else max(last, t)
        if first is None:
            return None
        return first, last

    @staticmethod
    def _time_after(con, sid, t0, t, before=False):
        """The first time after ``t`` (``before``: the last at or before it) in the block starting at ``t0``."""
        bn, blob = con.execute("SELECT n, ts FROM blocks WHERE sid=? AND t0=?", (sid, t0)).fetchone()
        ts = decode_ts(blob, bn)
        k = int(np.searchsorted(ts, t, "right"))
        return int(ts[k - 1]) if before else int(ts[k])

    @staticmethod
    def at(con, sid, stamps) -> dict:
        """``{ms: (v, num)}`` of the stored instances at the epoch ms ``stamps`` (sorted int64 array), in the
        row encoding (a block's float as its row would hold it)."""
        out = {}
        if not len(stamps):
            return out
        lo, hi = int(stamps[0]), int(stamps[-1])
        rng = (sid, lo - 1, hi)
        if con.execute("SELECT 1 FROM instances WHERE sid=? AND ts>? AND ts<=? LIMIT 1", rng).fetchone():
            lst = stamps.tolist()
            for c in range(0, len(lst), 900):
                chunk = lst[c:c + 900]
                q = f"SELECT ts, v, num FROM instances WHERE sid=? AND ts IN ({','.join('?' * len(chunk))})"
                for ts, v, num in con.execute(q, (sid, *chunk)):
                    out[ts] = (v, num)
        spans = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0>? AND t0<=? ORDER BY t0",
                            rng).fetchall()
        row = con.execute("SELECT t0, t1 FROM blocks WHERE sid=? AND t0<? ORDER BY t0 DESC LIMIT 1",
                          (sid, lo)).fetchone()
        if row is not None and row[1] >= lo:
            spans.insert(0, row)
        for t0, t1 in spans:
            i, j = int(np.searchsorted(stamps, t0, "left")), int(np.searchsorted(stamps, t1, "right"))
            if i == j:
                continue
            bn, bts, bnum = con.execute("SELECT n, ts, num FROM blocks WHERE sid=? AND t0=?", (sid, t0)).fetchone()
            bts, bnum = decode_ts(bts, bn), decode_num(bnum, bn)
            want = stamps[i:j]
            k = np.searchsorted(bts, want)
            k[k >= len(bts)] = 0
            hit = bts[k] == want
            for t, x in zip(want[hit].tolist(), bnum[k[hit]].tolist()):
                out[t] = row_encoding(x)
        return out

    @staticmethod
    def holds_any(con, sid, lo, hi) -> bool:
        """Whether the stream has an instance in ``[lo, hi]`` or a block whose span meets it."""
        if con.execute("SELECT 1 FROM instances WHERE sid=? AND ts>=? AND ts<=? LIMIT 1", (sid, lo, hi)).fetchone():
            return True
        if con.execute("SELECT 1 FROM blocks WHERE sid=? AND t0>=? AND t0<=? LIMIT 1", (sid, lo, hi)).fetchone():
            return True
        row = con.execute("SELECT t1 FROM blocks WHERE sid=? AND t0<? ORDER BY t0 DESC LIMIT 1", (sid, lo)).fetchone()
        return row is not None and row[0] >= lo

    # -- writing and deleting, inside the caller's write transaction ----------------------------------------------
    @staticmethod
    def write_blocks(con, sid, ms: np.ndarray, num: np.ndarray) -> None:
        """Write strictly increasing ``ms`` / float64 ``num`` as blocks of :data:`BLOCK_N`, each in its smallest
        lossless form (the caller checked that the stream holds nothing in their span)."""
        rows, encoded = encode_blocks(ms, num, BLOCK_N)
        con.executemany("INSERT INTO blocks (sid, t0, t1, n, ts, num) VALUES (?,?,?,?,?,?)",
                        [(sid, *r) for r in rows])
        version = ENCODED_BLOCKS_SCHEMA_VERSION if encoded else BLOCKS_SCHEMA_VERSION
        con.execute("UPDATE hsgui_meta SET value=? WHERE key='schema_version' AND CAST(value AS INTEGER) < ?",
                    (str(version), version))

    @staticmethod
    def delete(con, sid, lo, hi):
        """Delete the instances in ``(lo, hi]``: rows, the blocks inside, the cut blocks rewritten without them.
        Returns ``(count deleted, first deleted ms, last deleted ms)`` (None, None when nothing was)."""
        first, last = con.execute("SELECT min(ts), max(ts) FROM instances WHERE sid=? AND ts>? AND ts<=?",
                                  (sid, lo, hi)).fetchone()
        deleted = con.execute("DELETE FROM instances WHERE sid=? AND ts>? AND ts<=?", (sid, lo, hi)).rowcount

        def span(a, b):
            nonlocal first, last
            first = a if first is None else min(first, a)
            last = b if last is None else max(last, b)

        n, a, b = con.execute("SELECT sum(n), min(t0), max(t1) FROM blocks WHERE sid=? AND t0>? AND t1<=?",
                              (sid, lo, hi)).fetchone()
        if n:
            con.execute("DELETE FROM blocks WHERE sid=? AND t0>? AND t1<=?", (sid, lo, hi))
            deleted += n
            span(a, b)
        for t0, _, _ in StoredInstances._cut_blocks(con, sid, lo, hi):
            bn, bts, bnum = con.execute("SELECT n, ts, num FROM blocks WHERE sid=? AND t0=?", (sid, t0)).fetchone()
            bts, bnum = decode_ts(bts, bn), decode_num(bnum, bn)
            i, j = int(np.searchsorted(bts, lo, "right")), int(np.searchsorted(bts, hi, "right"))
            if i == j:
                continue
            con.execute("DELETE FROM blocks WHERE sid=? AND t0=?", (sid, t0))
            deleted += j - i
            span(int(bts[i]), int(bts[j - 1]))
            for s, e in ((0, i), (j, len(bts))):
                if e > s:
                    StoredInstances.write_blocks(con, sid, bts[s:e], bnum[s:e])
        return deleted, first, last
