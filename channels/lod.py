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
