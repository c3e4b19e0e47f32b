"""Level of detail: a stream over an interval summarised in N equal buckets.

Bucket ``i`` covers ``(start + i*w, start + (i+1)*w]`` in epoch milliseconds,
matching the half-open interval semantics. ``count`` counts every instance in
the bucket; ``min``/``max``/``mean`` are over its numeric values (NaN when it
has none); ``first_ms``/``last_ms`` are the first and last instance times
(-1 when the bucket is empty).

``summarise_arrays`` is the numpy reference implementation used by the memory
channel and as the oracle in store tests. :func:`gap_breaks` says between which
buckets a line drawn through a summary must break for gaps in the calculated
intervals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Summary:
    start_ms: int
    end_ms: int
    edges_ms: np.ndarray  # int64, len buckets + 1
    count: np.ndarray     # int64
    min: np.ndarray       # float64
    max: np.ndarray       # float64
    mean: np.ndarray      # float64
    first_ms: np.ndarray  # int64
    last_ms: np.ndarray   # int64

    @property
    def buckets(self) -> int:
        return len(self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def centres_ms(self) -> np.ndarray:
        return (self.edges_ms[:-1] + self.edges_ms[1:]) / 2.0


def bucket_edges(start_ms: int, end_ms: int, buckets: int) -> np.ndarray:
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    if end_ms <= start_ms:
        raise ValueError(f"summary end {end_ms} must be after start {start_ms}")
    # integer edges; the last edge is exactly end_ms
    return start_ms + (np.arange(buckets + 1, dtype=np.int64) * (end_ms - start_ms)) // buckets


def summarise_arrays(ms: np.ndarray, values: np.ndarray, start_ms: int, end_ms: int, buckets: int) -> Summary:
    """Summary of instances at times ``ms`` (sorted) with float ``values`` (NaN = not numeric).

    One pass of O(n) reductions over contiguous slices (each bucket is a slice of the sorted times), so a
    worker summarising a million instances holds the GIL for milliseconds, not for the ~100 ms that
    scattering every instance into its bucket took.
    """
    ms = np.asarray(ms, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if len(ms) > 1 and not (ms[1:] >= ms[:-1]).all():   # callers pass sorted times; stay right if not
        order = np.argsort(ms, kind="stable")
        ms, values = ms[order], values[order]
    edges = bucket_edges(start_ms, end_ms, buckets)
    # bucket i is the slice pos[i]:pos[i+1] of the instances in (edges[i], edges[i+1]]
    pos = np.searchsorted(ms, edges, side="right")
    ms, values = ms[pos[0]:pos[-1]], values[pos[0]:pos[-1]]
    pos = pos - pos[0]
    count = np.diff(pos).astype(np.int64)
    mn = np.full(buckets, np.nan)
    mx = np.full(buckets, np.nan)
    mean = np.full(buckets, np.nan)
    first = np.full(buckets, -1, dtype=np.int64)
    last = np.full(buckets, -1, dtype=np.int64)
    has = count > 0
    if has.any():
        starts = pos[:-1][has]        # consecutive non-empty slices tile the instances, so reduceat sums each
        num = ~np.isnan(values)
        ncount = np.add.reduceat(num.astype(np.int64), starts)
        sums = np.add.reduceat(np.where(num, values, 0.0), starts)
        lo = np.fmin.reduceat(values, starts)   # fmin/fmax skip NaN (all-NaN slices stay NaN)
        hi = np.fmax.reduceat(values, starts)
        ok = ncount > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[has] = np.where(ok, sums / np.maximum(ncount, 1), np.nan)
        mn[has] = np.where(ok, lo, np.nan)
        mx[has] = np.where(ok, hi, np.nan)
        first[has] = ms[starts]
        last[has] = ms[pos[1:][has] - 1]
    return Summary(start_ms, end_ms, edges, count, mn, mx, mean, first, last)


BLOCK = 64              # instances per block of :class:`Blocks`
BLOCKS_FROM = 4         # a summary uses the blocks when its buckets hold this many blocks on average
_BLOCK_STEP = 1 << 20   # blocks are built this many instances at a time (bounded temporaries, GIL hand-over)


class Blocks:
    """Aggregates of consecutive runs of :data:`BLOCK` instances of a sorted series (its whole blocks only):
    numeric count, sum, min and max — 1/64 of the series' size, so a summary of millions of instances reads
    the blocks inside each bucket and only the instances of its ragged ends (:func:`summarise_with_blocks`)."""

    __slots__ = ("nn", "s", "mn", "mx")

    def __init__(self, values: np.ndarray):
        n = len(values) // BLOCK
        self.nn = np.empty(n + 1, np.int64)    # one more (empty) block, so a range may end at the last one
        self.s = np.empty(n + 1)
        self.mn = np.empty(n + 1)
        self.mx = np.empty(n + 1)
        self.nn[n], self.s[n], self.mn[n], self.mx[n] = 0, 0.0, np.nan, np.nan
        step = _BLOCK_STEP // BLOCK
        for a in range(0, n, step):
            b = min(n, a + step)
            v = values[a * BLOCK:b * BLOCK].reshape(-1, BLOCK)
            num = ~np.isnan(v)
            self.nn[a:b] = num.sum(axis=1)
            self.s[a:b] = np.where(num, v, 0.0).sum(axis=1)
            self.mn[a:b] = np.fmin.reduce(v, axis=1)
            self.mx[a:b] = np.fmax.reduce(v, axis=1)


def summarise_with_blocks(ms: np.ndarray, values: np.ndarray, blocks: Blocks, start_ms: int, end_ms: int,
                          buckets: int) -> Summary:
    """The same summary as :func:`summarise_arrays` of the whole sorted series ``ms``/``values``, from its
    :class:`Blocks`: each bucket's whole blocks are reduced from the block aggregates, its ragged ends (under
    one block each side) from the instances. Cost ~ n/64 + 128 per bucket instead of n. Falls back to
    :func:`summarise_arrays` of the range when the buckets hold few blocks."""
    edges = bucket_edges(start_ms, end_ms, buckets)
    pos = np.searchsorted(ms, edges, side="right")
    if pos[-1] - pos[0] < BLOCKS_FROM * BLOCK * buckets:
        return summarise_arrays(ms[pos[0]:pos[-1]], values[pos[0]:pos[-1]], start_ms, end_ms, buckets)
    a, b = pos[:-1], pos[1:]
    count = (b - a).astype(np.int64)
    ba, bb = -(-a // BLOCK), b // BLOCK            # whole blocks ba .. bb-1 of each bucket
    whole = bb > ba
    head_end = np.where(whole, ba * BLOCK, b)      # the instances before them (all of a bucket without any)
    tail_start = np.where(whole, bb * BLOCK, b)    # and after them
    starts = np.column_stack((a, tail_start)).ravel()
    lens = np.column_stack((head_end - a, b - tail_start)).ravel()
    total = int(lens.sum())
    offsets = np.cumsum(lens) - lens
    idx = np.repeat(starts - offsets, lens) + np.arange(total)
    rv = values[idx]
    per = lens[0::2] + lens[1::2]                  # the instances gathered for each bucket, consecutive in rv
    nn = np.zeros(buckets)
    sums = np.zeros(buckets)
    lo = np.full(buckets, np.nan)
    hi = np.full(buckets, np.nan)
    r = np.flatnonzero(per)
    if len(r):
        at = (np.cumsum(per) - per)[r]
        rnum = ~np.isnan(rv)
        nn[r] = np.add.reduceat(rnum, at, dtype=np.float64)
        sums[r] = np.add.reduceat(np.where(rnum, rv, 0.0), at)
        lo[r] = np.fmin.reduceat(rv, at)
        hi[r] = np.fmax.reduceat(rv, at)
    if whole.any():
        w = np.flatnonzero(whole)
        pairs = np.column_stack((ba[w], bb[w])).ravel()   # reduceat over [ba, bb): every other result
        nn[w] += np.add.reduceat(blocks.nn, pairs)[::2]
        sums[w] += np.add.reduceat(blocks.s, pairs)[::2]
        lo[w] = np.fmin(lo[w], np.fmin.reduceat(blocks.mn, pairs)[::2])
        hi[w] = np.fmax(hi[w], np.fmax.reduceat(blocks.mx, pairs)[::2])
    ok = nn > 0
    mean = np.full(buckets, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean[ok] = sums[ok] / nn[ok]
    has = count > 0
    first = np.where(has, ms[np.minimum(a, len(ms) - 1)], -1).astype(np.int64)
    last = np.where(has, ms[np.maximum(b - 1, 0)], -1).astype(np.int64)
    return Summary(start_ms, end_ms, edges, count, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), mean,
                   first, last)


def gap_breaks(summary: Summary, boundaries_ms) -> np.ndarray:
    """Where a line through the buckets of ``summary`` must break for the calculated intervals.

    ``boundaries_ms`` are the calculated intervals' ends, flattened (``[s0, e0, s1, e1, …]``, sorted, epoch ms).
    The answer ``b`` has one entry per pair of neighbouring buckets: ``b[i]`` is true when the line from
    bucket ``i`` to bucket ``i + 1`` must not be drawn.

    Buckets are placed by the instances they hold (their first and last times), never by their centres: the
    first or last bucket of a stream usually starts before the first calculated interval (or ends after the
    last one) while all its data lies inside, and judging it by its centre broke the line there. So:

    - two non-empty neighbours break when the last instance of one and the first of the other lie in
      different calculated intervals (or one of them in none);
    - a bucket whose own instances lie on both sides of a gap (a gap narrower than a bucket) breaks on the side
      nearer the gap; if no line is drawn on that side (the summary's first or last bucket, or a neighbour
      without a value) on its other side, so the gap always shows, as exactly one break.

    Buckets without a numeric value need nothing here: the line breaks there anyway.
    """
    n = summary.buckets
    out = np.zeros(max(n - 1, 0), dtype=bool)
    if boundaries_ms is None or n < 2:
        return out
    b = np.asarray(boundaries_ms, dtype=np.int64)
    if len(b) == 0:
        return out
    has = summary.count > 0
    drawn = has & ~np.isnan(summary.mean)
    # segment s of time t: b[s-1] < t <= b[s]; odd = inside a calculated interval (s, e], even = outside
    seg_first = np.searchsorted(b, summary.first_ms, side="left")
    seg_last = np.searchsorted(b, summary.last_ms, side="left")
    out |= has[:-1] & has[1:] & (seg_last[:-1] != seg_first[1:])
    inside = np.flatnonzero(drawn & (seg_first != seg_last))
    if len(inside):
        # the crossings lie between the first boundary at/after the first instance and the last one before the
        # last instance; their middle against the bucket's middle picks the side
        lo = b[np.minimum(seg_first[inside], len(b) - 1)]
        hi = b[np.maximum(seg_last[inside] - 1, 0)]
        edges = summary.edges_ms
        nearer_left = (lo + hi) < (edges[inside] + edges[inside + 1])
        left_ok = (inside > 0) & drawn[np.maximum(inside - 1, 0)]
        right_ok = (inside < n - 1) & drawn[np.minimum(inside + 1, n - 1)]
        left = np.where(nearer_left, left_ok | ~right_ok, ~right_ok & left_ok)
        go = left_ok | right_ok     # a bucket with no drawn neighbour is not joined to anything
        k = inside[go]
        out[np.where(left[go], k - 1, k)] = True
    return out


def numeric_or_nan(value, component=None) -> float:
    """The float of a numeric value (or of ``value[component]``), NaN otherwise. Booleans count as 0/1."""
    if component is not None:
        value = value.get(component) if isinstance(value, dict) else None
    if isinstance(value, (int, float)):
        return float(value)
    return float("nan")
