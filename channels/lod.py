"""Level of detail: a stream over an interval summarised in N equal buckets.

Bucket ``i`` covers ``(start + i*w, start + (i+1)*w]`` in epoch milliseconds,
matching the half-open interval semantics. ``count`` counts every instance in
the bucket; ``min``/``max``/``mean`` are over its numeric values (NaN when it
has none); ``first_ms``/``last_ms`` are the first and last instance times
(-1 when the bucket is empty).

``summarise_arrays`` is the numpy reference implementation used by the memory
channel and as the oracle in store tests.
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
    """Summary of instances at times ``ms`` (sorted) with float ``values`` (NaN = not numeric)."""
    ms = np.asarray(ms, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    edges = bucket_edges(start_ms, end_ms, buckets)
    sel = (ms > start_ms) & (ms <= end_ms)
    ms, values = ms[sel], values[sel]
    idx = np.searchsorted(edges, ms, side="left") - 1
    count = np.bincount(idx, minlength=buckets).astype(np.int64)
    num = ~np.isnan(values)
    vi, vv = idx[num], values[num]
    ncount = np.bincount(vi, minlength=buckets)
    sums = np.bincount(vi, weights=vv, minlength=buckets)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ncount > 0, sums / np.maximum(ncount, 1), np.nan)
    mn = np.full(buckets, np.inf)
    mx = np.full(buckets, -np.inf)
    np.minimum.at(mn, vi, vv)
    np.maximum.at(mx, vi, vv)
    mn[ncount == 0] = np.nan
    mx[ncount == 0] = np.nan
    first = np.full(buckets, -1, dtype=np.int64)
    last = np.full(buckets, -1, dtype=np.int64)
    if len(ms):
        # ms sorted -> first occurrence per bucket is the first index, last is the last index
        starts = np.searchsorted(idx, np.arange(buckets), side="left")
        ends = np.searchsorted(idx, np.arange(buckets), side="right") - 1
        has = count > 0
        first[has] = ms[starts[has]]
        last[has] = ms[ends[has]]
    return Summary(start_ms, end_ms, edges, count, mn, mx, mean, first, last)


def numeric_or_nan(value, component=None) -> float:
    """The float of a numeric value (or of ``value[component]``), NaN otherwise. Booleans count as 0/1."""
    if component is not None:
        value = value.get(component) if isinstance(value, dict) else None
    if isinstance(value, (int, float)):
        return float(value)
    return float("nan")
