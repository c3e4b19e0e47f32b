"""Level of detail of the embedded store: the precomputed aggregates in table ``lod``, kept by every write in
the write's own transaction, and the bucketed summaries and counts answered from them.

:class:`SQLiteLevelOfDetail` is owned by :class:`channels.stores.sqlite_store.SQLiteStore`; it reaches the
file through the store's :class:`channels.stores.sqlite_db.SQLiteDatabase`. Inside a write transaction the
store calls :meth:`~SQLiteLevelOfDetail.level_before_write` then :meth:`~SQLiteLevelOfDetail.add_batch`
(insert), or :meth:`~SQLiteLevelOfDetail.after_purge` / :meth:`~SQLiteLevelOfDetail.forget` (purge).

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
"""
from __future__ import annotations

import numpy as np

from ..errors import TimeError
from ..lod import Summary, bucket_edges
from .lod_levels import LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, Agg, assemble, choose_lod_level, summary_plan
from .sqlite_blocks import StoredInstances
from .sqlite_columnar import _HI, _LO, _ms

UPSERT_LOD = """
INSERT INTO lod (sid, comp, level, bucket, n, nn, s, mn, mx, f, l) VALUES (?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (sid, comp, level, bucket) DO UPDATE SET
    n = n + excluded.n, nn = nn + excluded.nn, s = s + excluded.s,
    mn = CASE WHEN mn IS NULL OR excluded.mn < mn THEN excluded.mn ELSE mn END,
    mx = CASE WHEN mx IS NULL OR excluded.mx > mx THEN excluded.mx ELSE mx END,
    f = min(f, excluded.f), l = max(l, excluded.l)
"""

_UPSERT_HEAD, _UPSERT_TAIL = UPSERT_LOD.split("VALUES (?,?,?,?,?,?,?,?,?,?,?)")
_UPSERT_PER = 81  # rows per statement: 891 bound parameters, within SQLite's oldest default limit of 999


def _upsert(con, rows) -> None:
    """UPSERT_LOD of every row, many rows per statement (about half the time of one ``executemany`` step per row)."""
    flat = [x for r in rows for x in r]
    n = len(flat) // 11
    full = n - n % _UPSERT_PER
    if full:
        q = _UPSERT_HEAD + "VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * _UPSERT_PER) + _UPSERT_TAIL
        step = 11 * _UPSERT_PER
        con.executemany(q, (flat[i:i + step] for i in range(0, 11 * full, step)))
    if full < n:
        con.execute(_UPSERT_HEAD + "VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * (n - full)) + _UPSERT_TAIL,
                    flat[11 * full:])


class SQLiteLevelOfDetail:
    """The ``lod`` table of one store file; see the module docstring."""

    def __init__(self, db):
        self.db = db
        self.stored = StoredInstances(db)

    # -- upkeep, inside the caller's write transaction -----------------------------------------------------------
    def level_before_write(self, con, sid):
        """What :meth:`add_batch` needs to know from before the batch's rows are written:
        ``(finest kept level, instances before the batch)`` (the count only while the stream has no level)."""
        level = self.db.lod_level(con, sid)
        prior = None
        if level is None:
            prior = self.stored.count(con, sid, _LO, _HI)
        return level, prior

    def add_batch(self, con, sid, before, w_ms, w_num, comp_arrays) -> None:
        """Merge the aggregates of a batch just written (``w_ms`` sorted epoch ms, ``w_num`` its numbers, and
        ``comp_arrays`` ``{cid: (ms, values)}`` of its components); a stream that reaches ``LOD_MIN_INSTANCES``
        gets its level and the aggregates of everything it holds."""
        level, prior = before
        if level is None:
            if prior + len(w_ms) < LOD_MIN_INSTANCES:
                return
            if prior == 0:  # a new stream: build from the batch itself
                level = choose_lod_level(w_ms)
                con.execute("UPDATE streams SET lod_level=? WHERE sid=?", (level, sid))
                self._add_aggregates(con, sid, 0, level, w_ms, w_num)
                for cid, (cms, cvals) in comp_arrays.items():
                    self._add_aggregates(con, sid, cid, level, cms, cvals)
                return
            # build the aggregates of the whole (so far small) stream from the database
            all_ms, all_num = self.stored.floats(sid, _LO, _HI)
            level = choose_lod_level(all_ms)
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
        agg = Agg.from_instances(ms_sorted, vals, LEVEL_WIDTHS_MS[level])
        _upsert(con, agg.rows(sid, comp, level))
        for k in range(level + 1, len(LEVEL_WIDTHS_MS)):
            agg = agg.coarser(LEVEL_WIDTHS_MS[k - 1], LEVEL_WIDTHS_MS[k])
            _upsert(con, agg.rows(sid, comp, k))

    @staticmethod
    def forget(con, sid) -> None:
        """The stream lost every instance: no aggregates, no level (chosen again when it grows)."""
        con.execute("DELETE FROM lod WHERE sid=?", (sid,))
        con.execute("UPDATE streams SET lod_level=NULL WHERE sid=?", (sid,))

    def after_purge(self, con, sid, lo, hi):
        """The instances in ``(lo, hi]`` were deleted: drop the level buckets inside, recompute the ones cut."""
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
                    ts, v = self.stored.floats(sid, blo, bhi)
                    if len(ts):
                        isnum = ~np.isnan(v)
                        nn = int(isnum.sum())
                        x = v[isnum]
                        con.execute("INSERT INTO lod VALUES (?,0,?,?,?,?,?,?,?,?,?)",
                                    (sid, k, j, len(ts), nn, float(x.sum()) if nn else None,
                                     float(x.min()) if nn else None, float(x.max()) if nn else None,
                                     int(ts[0]), int(ts[-1])))
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

    # -- answers -----------------------------------------------------------------------------------------------
    def count(self, con, sid, lo, hi):
        """The exact count of ``(lo, hi]`` from the aggregates (O(levels)), or None when the stream has none."""
        level = self.db.lod_level(con, sid)
        if level is None:
            return None
        span = self.stored.bounds(con, sid, lo, hi)
        if span is None:
            return 0
        # the one-bucket summary over (first - 1 ms, last] covers the range exactly (see summary_plan)
        edges = bucket_edges(span[0] - 1, span[1], 1)
        parts_count, parts_stats = [], []
        for piece in summary_plan(edges, level):
            self._fetch_piece(con, sid, 0, piece, parts_count, parts_stats)
        return assemble(int(edges[0]), int(edges[-1]), edges, parts_count, parts_stats).total

    def summary(self, stream_id, start, end, buckets: int, component: str | None = None) -> Summary:
        """See :meth:`channels.stores.base.Store.summary` and the module docstring for the method and its bound."""
        s_ms, e_ms = _ms(start, None), _ms(end, None)
        if s_ms is None or e_ms is None:
            raise TimeError("a summary needs both a start and an end time")
        edges = bucket_edges(s_ms, e_ms, int(buckets))
        db = self.db
        with db.errors(f"summarising stream {stream_id}"), db.snapshot() as con:
            sid = db.sid(con, stream_id)
            parts_count, parts_stats = [], []
            if sid is not None:
                cid = 0
                if component is not None:
                    cid = db.cid(con, sid, component)
                for piece in summary_plan(edges, db.lod_level(con, sid)):
                    self._fetch_piece(con, sid, cid, piece, parts_count, parts_stats)
        return assemble(s_ms, e_ms, edges, parts_count, parts_stats)

    def _fetch_piece(self, con, sid, cid, piece, parts_count, parts_stats):
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
        ts, v = self.stored.floats(sid, lo, hi)
        ts = ts.astype(np.float64)
        if cid == 0:
            if len(ts):
                one = np.ones(len(ts))
                parts_count.append(np.column_stack((one, ts, ts)))
                isnum = ~np.isnan(v)
                parts_stats.append(np.column_stack((ts, isnum, np.where(isnum, v, 0.0), v, v)))
            return
        if len(ts):
            parts_count.append(np.column_stack((np.ones(len(ts)), ts, ts)))
        if cid:
            rows = con.execute("SELECT ts, num FROM component_values WHERE cid=? AND ts>? AND ts<=?",
                               (cid, lo, hi)).fetchall()
            if rows:
                a = np.array(rows, dtype=np.float64)
                one = np.ones(len(a))
                parts_stats.append(np.column_stack((a[:, 0], one, a[:, 1], a[:, 1], a[:, 1])))
