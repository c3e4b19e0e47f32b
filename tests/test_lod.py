"""lod.summarise_arrays against a brute-force per-bucket loop; bucket_edges; numeric_or_nan."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import UTC, MemoryChannel, StreamInstance, TimeInterval
from channels.lod import bucket_edges, numeric_or_nan, summarise_arrays
from channels.utils import to_ms


def brute_force(ms, values, start, end, buckets):
    """Per bucket i = (edges[i], edges[i+1]]: count, min, max, mean of numeric values, first/last time."""
    edges = [int(e) for e in bucket_edges(start, end, buckets)]
    out = []
    for i in range(buckets):
        lo, hi = edges[i], edges[i + 1]
        inside = [(m, v) for m, v in zip(ms, values) if lo < m <= hi]
        nums = [v for _m, v in inside if not math.isnan(v)]
        out.append({
            "count": len(inside),
            "min": min(nums) if nums else math.nan,
            "max": max(nums) if nums else math.nan,
            "mean": sum(nums) / len(nums) if nums else math.nan,
            "first": inside[0][0] if inside else -1,
            "last": inside[-1][0] if inside else -1,
        })
    return out


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_bucket_edges_are_integer_equal_and_exact():
    rng = random.Random(1)
    for _ in range(500):
        start = rng.randrange(-10**12, 10**12)
        end = start + rng.randrange(1, 10**9)
        n = rng.randrange(1, 300)
        edges = bucket_edges(start, end, n)
        assert edges.dtype.kind == "i"
        assert len(edges) == n + 1
        assert int(edges[0]) == start and int(edges[-1]) == end
        widths = np.diff(edges)
        assert (widths >= 0).all()
        assert int(widths.max()) - int(widths.min()) <= 1  # equal up to rounding
        assert int(widths.sum()) == end - start


def test_bucket_edges_simple_case():
    assert bucket_edges(0, 10, 2).tolist() == [0, 5, 10]
    assert bucket_edges(100, 110, 3).tolist() == [100, 103, 106, 110]


@pytest.mark.parametrize("start, end, buckets, what", [(0, 10, 0, "0"), (10, 10, 2, "10"), (10, 5, 2, "5")])
def test_bucket_edges_rejects_bad_input_naming_it(start, end, buckets, what):
    with pytest.raises(ValueError) as ei:
        bucket_edges(start, end, buckets)
    assert what in str(ei.value)


def test_summarise_hand_checked():
    ms = np.array([0, 1, 5, 6, 10, 11])
    vals = np.array([100.0, 1.0, 5.0, math.nan, 10.0, 11.0])
    s = summarise_arrays(ms, vals, 0, 10, 2)  # buckets (0, 5] and (5, 10]; 0 and 11 are outside
    assert s.count.tolist() == [2, 2]
    assert s.min.tolist() == [1.0, 10.0]
    assert s.max.tolist() == [5.0, 10.0]
    assert s.mean.tolist() == [3.0, 10.0]
    assert s.first_ms.tolist() == [1, 6]
    assert s.last_ms.tolist() == [5, 10]
    assert s.buckets == 2
    assert s.total == 4
    assert s.edges_ms.tolist() == [0, 5, 10]
    assert s.centres_ms().tolist() == [2.5, 7.5]


def test_summarise_empty():
    s = summarise_arrays(np.array([], dtype=np.int64), np.array([]), 0, 100, 4)
    assert s.count.tolist() == [0, 0, 0, 0]
    assert all(math.isnan(x) for x in s.mean)
    assert s.first_ms.tolist() == [-1] * 4 and s.last_ms.tolist() == [-1] * 4
    assert s.total == 0


def test_summarise_matches_brute_force_on_random_data():
    rng = random.Random(2024)
    for case in range(1000):
        n = rng.choice([0, 1, 2, 5, 20, 100, 400])
        span = rng.choice([3, 10, 97, 1000, 10**6])
        ms = sorted(rng.randrange(-span // 4, span + span // 4 + 2) for _ in range(n))
        values = [rng.choice([math.nan, rng.uniform(-1e3, 1e3), float(rng.randrange(-5, 5))]) for _ in ms]
        start = rng.randrange(0, max(1, span // 3))
        end = start + rng.randrange(1, span + 1)
        if ms and rng.random() < 0.3:  # put data exactly on the interval ends
            ms[0] = start
            ms[-1] = end
            ms.sort()
        buckets = rng.choice([1, 2, 3, 7, 50, 200])
        s = summarise_arrays(np.array(ms, dtype=np.int64), np.array(values, dtype=np.float64), start, end, buckets)
        expected = brute_force(ms, values, start, end, buckets)
        assert s.buckets == buckets
        assert s.start_ms == start and s.end_ms == end
        for i, e in enumerate(expected):
            assert int(s.count[i]) == e["count"], (case, i)
            assert same_float(float(s.min[i]), e["min"]), (case, i)
            assert same_float(float(s.max[i]), e["max"]), (case, i)
            assert same_float(float(s.mean[i]), e["mean"]), (case, i)
            assert int(s.first_ms[i]) == e["first"], (case, i)
            assert int(s.last_ms[i]) == e["last"], (case, i)
        assert s.total == sum(1 for m in ms if start < m <= end)


@pytest.mark.parametrize("value, component, expected", [
    (3, None, 3.0),
    (2.5, None, 2.5),
    (True, None, 1.0),
    (False, None, 0.0),
    ("3", None, math.nan),
    (None, None, math.nan),
    ([1, 2], None, math.nan),
    ({"a": 4}, "a", 4.0),
    ({"a": "x"}, "a", math.nan),
    ({"b": 4}, "a", math.nan),
    (4, "a", math.nan),
])
def test_numeric_or_nan(value, component, expected):
    assert same_float(numeric_or_nan(value, component), expected)


def test_memory_channel_summary_matches_brute_force():
    t0 = datetime(2017, 6, 20, tzinfo=UTC)
    rng = random.Random(8)
    mc = MemoryChannel("m")
    s = mc.create_stream("x")
    ks = sorted(rng.sample(range(1, 5000), 600))
    values = {k: rng.choice([None, "t", {"v": k}, rng.uniform(0, 10), k]) for k in ks}
    s.writer([StreamInstance(t0 + timedelta(milliseconds=7 * k), values[k]) for k in ks])
    for _ in range(20):
        a = rng.randrange(0, 35000)
        b = rng.randrange(a + 1, 35010)
        w = TimeInterval(t0 + timedelta(milliseconds=a), t0 + timedelta(milliseconds=b))
        buckets = rng.choice([1, 5, 64])
        for component in (None, "v"):
            got = s.window(w).summary(buckets, component)
            ms = [to_ms(t0) + 7 * k for k in ks]
            vals = [numeric_or_nan(values[k], component) for k in ks]
            expected = brute_force(ms, vals, to_ms(w.start), to_ms(w.end), buckets)
            assert got.count.tolist() == [e["count"] for e in expected]
            assert all(same_float(float(g), e["mean"]) for g, e in zip(got.mean, expected))
            assert all(same_float(float(g), e["min"]) for g, e in zip(got.min, expected))
            assert got.last_ms.tolist() == [e["last"] for e in expected]
