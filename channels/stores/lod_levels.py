"""Level-of-detail arithmetic shared by the stores (pure numpy, no database).

Levels are fixed bucket widths ``LEVEL_WIDTHS_MS`` (each a multiple of the
previous one); level bucket ``j`` of width ``W`` covers ``(j*W, (j+1)*W]`` in
epoch ms. Per (stream, component, level, bucket) a store keeps count ``n``,
numeric count ``nn``, sum ``s``, ``mn``, ``mx``, first ``f`` and last ``l``
instance time. :class:`Agg` builds and coarsens such rows for a sorted batch,
:func:`choose_lod_level` picks a stream's finest kept level,
:func:`summary_plan` covers a requested range exactly with whole level buckets
plus finer pieces, and :func:`assemble` turns the pieces into a
:class:`channels.lod.Summary`. See :mod:`channels.stores.sqlite_store` for the
method and its exactness bound; :mod:`channels.stores.mongo_store` uses the
same arithmetic.
"""
from __future__ import annotations

from itertools import repeat

import numpy as np

from ..lod import Summary

LEVEL_WIDTHS_MS = tuple(int(x) for x in (
    1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 10_800_000, 43_200_000, 86_400_000,
    7 * 86_400_000, 28 * 86_400_000, 112 * 86_400_000, 448 * 86_400_000, 1792 * 86_400_000,
    7168 * 86_400_000, 28672 * 86_400_000))
LOD_PER_BUCKET = 32
LOD_MIN_INSTANCES = 128
ALIGNED_ROWS_PER_BUCKET = 16


class Agg:
    """Aggregate rows sorted by ``bucket``: n, nn, s, mn, mx, f, l arrays."""

    __slots__ = ("bucket", "n", "nn", "s", "mn", "mx", "f", "l")

    def __init__(self, bucket, n, nn, s, mn, mx, f, l):
        self.bucket, self.n, self.nn, self.s, self.mn, self.mx, self.f, self.l = bucket, n, nn, s, mn, mx, f, l

    @classmethod
    def from_instances(cls, ms: np.ndarray, vals: np.ndarray, width: int) -> "Agg":
        """The rows of instances at sorted epoch ms ``ms`` with float values ``vals`` (NaN: not numeric)."""
        if len(ms) == 0:
            return cls(ms, ms, ms, vals, vals, vals, ms, ms)
        first, last = (int(ms[0]) - 1) // width, (int(ms[-1]) - 1) // width
        isnum = ~np.isnan(vals)
        if last - first >= len(ms) or vals.dtype != np.float64:  # sparse buckets: group instance by instance
            return cls((ms - 1) // width, np.ones(len(ms), np.int64), isnum.astype(np.int64),
                       np.where(isnum, vals, 0.0), vals, vals, ms, ms)._group()
        # bucket j holds (j*width, (j+1)*width]: its instances start where the times pass j*width
        bucket = np.arange(first, last + 1, dtype=np.int64)
        cut = np.empty(len(bucket) + 1, np.int64)
        cut[0], cut[-1] = 0, len(ms)
        cut[1:-1] = np.searchsorted(ms, bucket[1:] * width, side="right")
        held = cut[1:] > cut[:-1]
        starts, ends = cut[:-1][held], cut[1:][held]
        n = ends - starts
        if isnum.all():
            nn, s = n.copy(), np.add.reduceat(vals, starts)
        else:
            nn, s = np.add.reduceat(isnum.astype(np.int64), starts), np.add.reduceat(np.where(isnum, vals, 0.0), starts)
        return cls(bucket[held], n, nn, s, np.fmin.reduceat(vals, starts), np.fmax.reduceat(vals, starts),
                   ms[starts], ms[ends - 1])

    def coarser(self, from_width: int, to_width: int) -> "Agg":
        return Agg((self.bucket * from_width) // to_width, self.n, self.nn, self.s, self.mn, self.mx,
                   self.f, self.l)._group()

    def _group(self) -> "Agg":
        b = self.bucket
        if len(b) == 0:
            return self
        brk = np.flatnonzero(b[1:] != b[:-1]) + 1
        if len(brk) == len(b) - 1:  # already one row per bucket
            return self
        starts = np.concatenate(([0], brk))
        ends = np.concatenate((brk, [len(b)])) - 1
        return Agg(b[starts], np.add.reduceat(self.n, starts), np.add.reduceat(self.nn, starts),
                   np.add.reduceat(self.s, starts), np.fmin.reduceat(self.mn, starts),
                   np.fmax.reduceat(self.mx, starts), self.f[starts], self.l[ends])

    def rows(self, sid: int, comp: int, level: int):
        return zip(repeat(sid), repeat(comp), repeat(level), self.bucket.tolist(), self.n.tolist(),
                   self.nn.tolist(), self.s.tolist(), self.mn.tolist(), self.mx.tolist(), self.f.tolist(),
                   self.l.tolist())


def choose_lod_level(ms: np.ndarray) -> int:
    spacing = float(np.median(np.diff(ms))) if len(ms) > 1 else 60_000.0
    for k, w in enumerate(LEVEL_WIDTHS_MS):
        if w >= LOD_PER_BUCKET * spacing:
            return k
    return len(LEVEL_WIDTHS_MS) - 1


def plan(lo: int, hi: int, top: int, finest: int) -> list[tuple]:
    """Exact cover of ``(lo, hi]``: ``("lod", level, first_bucket, last_bucket)`` and ``("raw", lo, hi)`` pieces."""
    pieces: list[tuple] = []

    def rec(lo, hi, k):
        if lo >= hi:
            return
        if k < finest:
            pieces.append(("raw", lo, hi))
            return
        w = LEVEL_WIDTHS_MS[k]
        a = -(-lo // w) * w
        b = (hi // w) * w
        if a >= b:
            rec(lo, hi, k - 1)
            return
        rec(lo, a, k - 1)
        pieces.append(("lod", k, a // w, b // w - 1))
        rec(b, hi, k - 1)

    rec(lo, hi, top)
    return pieces


def summary_plan(edges: np.ndarray, level) -> list[tuple]:
    """Pieces covering ``(edges[0], edges[-1]]`` exactly for a stream whose finest kept level is ``level``.

    ``None`` (no aggregates) or requested buckets finer than ``level`` give one ``("raw", lo, hi)`` piece.
    """
    s_ms, e_ms = int(edges[0]), int(edges[-1])
    buckets = len(edges) - 1
    if level is None:
        return [("raw", s_ms, e_ms)]
    width = (e_ms - s_ms) / buckets
    cands = [k for k in range(level, len(LEVEL_WIDTHS_MS)) if LEVEL_WIDTHS_MS[k] <= width]
    if not cands:
        return [("raw", s_ms, e_ms)]
    top = cands[-1]
    for k in reversed(cands):
        w = LEVEL_WIDTHS_MS[k]
        if (e_ms - s_ms) / w > ALIGNED_ROWS_PER_BUCKET * buckets:
            break
        if not (edges % w).any():
            top = k
            break
    return plan(s_ms, e_ms, top, level)


def assemble(s_ms, e_ms, edges, parts_count, parts_stats) -> Summary:
    """The Summary from float arrays of rows ``(n, f, l)`` (counts) and ``(f, nn, s, mn, mx)`` (statistics).

    Each row is put into the requested bucket that contains its first time ``f``.
    """
    buckets = len(edges) - 1
    count = np.zeros(buckets, np.int64)
    first = np.full(buckets, -1, np.int64)
    last = np.full(buckets, -1, np.int64)
    mn = np.full(buckets, np.nan)
    mx = np.full(buckets, np.nan)
    mean = np.full(buckets, np.nan)
    if parts_count:
        c = np.concatenate(parts_count)
        f = c[:, 1].astype(np.int64)
        idx = np.searchsorted(edges, f, side="left") - 1
        count = np.bincount(idx, weights=c[:, 0], minlength=buckets).round().astype(np.int64)
        big = np.iinfo(np.int64).max
        fst = np.full(buckets, big, np.int64)
        np.minimum.at(fst, idx, f)
        lst = np.full(buckets, -1, np.int64)
        np.maximum.at(lst, idx, c[:, 2].astype(np.int64))
        has = count > 0
        first[has] = fst[has]
        last[has] = lst[has]
    if parts_stats:
        st = np.concatenate(parts_stats)
        st = st[st[:, 1] > 0]
        if len(st):
            idx = np.searchsorted(edges, st[:, 0].astype(np.int64), side="left") - 1
            nn = np.bincount(idx, weights=st[:, 1], minlength=buckets)
            sums = np.bincount(idx, weights=st[:, 2], minlength=buckets)
            lo = np.full(buckets, np.inf)
            hi = np.full(buckets, -np.inf)
            np.minimum.at(lo, idx, st[:, 3])
            np.maximum.at(hi, idx, st[:, 4])
            has = nn > 0
            mn[has] = lo[has]
            mx[has] = hi[has]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean[has] = sums[has] / nn[has]
    return Summary(s_ms, e_ms, edges, count, mn, mx, mean, first, last)


__all__ = ["Agg", "LEVEL_WIDTHS_MS", "LOD_MIN_INSTANCES", "LOD_PER_BUCKET", "assemble", "choose_lod_level",
           "plan", "summary_plan"]
