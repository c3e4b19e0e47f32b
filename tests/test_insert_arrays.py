"""Columnar writes: ``insert_arrays(stream, ms, values)`` on both stores and on the channels.

Same rules as instance writes: equal value at a stored timestamp is a no-op, a different value is a
DuplicateInstanceError naming stream and timestamp and nothing of the batch is written; calculated
intervals are set in the same step; bad arrays get a clear error naming what was wrong.
"""
from __future__ import annotations

import math
import struct
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import MemoryChannel
from channels.database_channel import DatabaseChannel
from channels.errors import DuplicateInstanceError, TimeError, ValueEncodingError
from channels.stores.base import StreamDefinition
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import UTC, from_ms, to_ms, utcnow

from stores_fixtures import make_store, store  # noqa: F401
from test_store_contract import _assert_summary_equal

T0 = datetime(2021, 3, 1, tzinfo=UTC)
MS0 = to_ms(T0)
SID = StreamId("cols", {"h": "1"})


def bits(x):
    return struct.pack("<d", x)


def arrays(n, start=0, step=1000):
    ms = MS0 + (np.arange(n, dtype=np.int64) + start + 1) * step
    vals = np.sin(np.arange(n, dtype=np.float64) + start) * 10
    return ms, vals


def test_store_insert_arrays_equals_instance_path(store):
    store.create_definition(StreamDefinition(SID, "mongo"))
    other = StreamId("cols_inst")
    store.create_definition(StreamDefinition(other, "mongo"))
    ms, vals = arrays(500)
    vals[3], vals[4], vals[5], vals[6] = -0.0, math.nan, math.inf, -math.inf
    assert store.insert_arrays(SID, ms, vals) == 500
    store.insert(other, [StreamInstance(from_ms(m), v) for m, v in zip(ms.tolist(), vals.tolist())])
    a, b = list(store.read(SID, None, None)), list(store.read(other, None, None))
    assert [i.timestamp for i in a] == [i.timestamp for i in b] == [from_ms(m) for m in ms.tolist()]
    assert [bits(i.value) for i in a] == [bits(i.value) for i in b] == [bits(v) for v in vals.tolist()]
    assert all(type(i.value) is float for i in a)
    assert store.count(SID, None, None) == 500
    c1, c2 = store.columns(SID, None, None), store.columns(other, None, None)
    assert np.array_equal(c1[0], c2[0]) and [bits(x) for x in c1[1]] == [bits(x) for x in c2[1]]
    s1, s2 = store.summary(SID, T0, from_ms(int(ms[-1])), 5), store.summary(other, T0, from_ms(int(ms[-1])), 5)
    assert s1.total == s2.total == 500


def test_store_insert_arrays_duplicates_and_conflicts(store):
    store.create_definition(StreamDefinition(SID, "mongo"))
    ms, vals = arrays(300)
    store.insert_arrays(SID, ms, vals)
    # the same values again (overlapping, partly new): only the new ones are written
    ms2, vals2 = arrays(100, start=250)
    assert store.insert_arrays(SID, ms2, vals2) == 50
    assert store.count(SID, None, None) == 350
    # a different value at a stored time: error naming stream and time, nothing of the batch written
    ms3, vals3 = arrays(100, start=340)
    vals3[5] += 1.0
    with pytest.raises(DuplicateInstanceError) as e:
        store.insert_arrays(SID, ms3, vals3)
    assert "cols" in str(e.value) and from_ms(int(ms3[5])).isoformat()[:19] in str(e.value).replace(" ", "T")
    assert store.count(SID, None, None) == 350
    # instance writes and columnar writes agree on "same value"
    assert store.insert(SID, [StreamInstance(from_ms(int(ms[0])), float(vals[0]))]) == 0


def test_store_insert_arrays_sets_calculated_intervals_in_the_same_call(store):
    store.create_definition(StreamDefinition(SID, "mongo"))
    ms, vals = arrays(10)
    ivs = TimeIntervals([TimeInterval(T0, from_ms(int(ms[-1])))])
    store.insert_arrays(SID, ms, vals, calculated_intervals=ivs)
    assert store.get_definition(SID).calculated_intervals == ivs


@pytest.mark.parametrize("ms, vals, error, words", [
    ([MS0 + 1000, MS0 + 2000], [1.0], ValueEncodingError, "different lengths"),
    ([MS0 + 2000, MS0 + 1000], [1.0, 2.0], TimeError, "before the previous"),
    ([MS0 + 1000, MS0 + 1000], [1.0, 2.0], TimeError, "duplicate timestamp"),
    ([MS0 + 1000.5], [1.0], TimeError, "integer array"),
    ([[MS0]], [[1.0]], ValueEncodingError, "one-dimensional"),
    ([MS0 + 1000], ["x"], ValueEncodingError, "numeric"),
    ([to_ms(utcnow()) + 3_600_000], [1.0], TimeError, "future"),
])
def test_bad_arrays_are_refused_with_a_clear_error(store, ms, vals, error, words):
    store.create_definition(StreamDefinition(SID, "mongo"))
    with pytest.raises(error) as e:
        store.insert_arrays(SID, np.array(ms), np.array(vals))
    assert words in str(e.value) and "cols" in str(e.value)
    assert store.count(SID, None, None) == 0


@pytest.mark.parametrize("kind", ["memory", "sqlite", "mongomock"])
def test_channel_insert_arrays(kind, tmp_path):
    if kind == "memory":
        ch, fin = MemoryChannel("memory"), (lambda: None)
    else:
        st, fin = make_store(kind, tmp_path)
        ch = DatabaseChannel("mongo", st)
    try:
        stream = ch.create_stream(SID)
        ms, vals = arrays(200)
        ivs = TimeIntervals([TimeInterval(T0, from_ms(int(ms[-1])))])
        assert ch.insert_arrays(stream, ms, vals, calculated_intervals=ivs) == 200
        assert stream.calculated_intervals == ivs
        got = stream.window(ivs[0] if hasattr(ivs, "__getitem__") else TimeInterval(T0, from_ms(int(ms[-1])))).items()
        assert [to_ms(i.timestamp) for i in got] == ms.tolist() and [i.value for i in got] == vals.tolist()
        ms2, vals2 = arrays(50, start=180)
        assert ch.insert_arrays(stream, ms2, vals2) == 30
        vals2[0] += 1
        with pytest.raises(DuplicateInstanceError):
            ch.insert_arrays(stream, ms2, vals2)
        assert stream.window(TimeInterval(T0, utcnow())).count() == 230
        with pytest.raises(TimeError):
            ch.insert_arrays(stream, ms2[::-1], vals2)
    finally:
        fin()


def test_summaries_of_a_bulk_array_write_equal_the_instances_summarised_directly(store, request):
    """Large array writes (regular clocks, a gap, runs of NaN, a batch that is all NaN, one sparse batch) keep
    the level-of-detail aggregates: every summary on edges that line up equals the instances summarised."""
    from channels.lod import summarise_arrays
    store.create_definition(StreamDefinition(SID, "mongo"))
    rng = np.random.default_rng(5)
    # mongomock scans a collection for every aggregate it updates (no indexes): a tenth of the sizes, same shapes
    scale = 10 if request.node.callspec.params.get("store") == "mongomock" else 1
    parts = []
    for start, n, step in ((0, 5000, 1000), (9000, 4000, 1000), (20_000, 3000, 250), (400, 300, 77_777)):
        ms, vals = arrays(n // scale, start, step)
        n = len(ms)
        vals = vals + rng.normal(size=n)
        vals[rng.random(n) < 0.1] = math.nan
        parts.append((ms, vals))
    parts[2][1][:] = math.nan                      # a batch without a number: counted, no statistics
    parts[1][1][100:900] = math.nan                # a long run without numbers
    for ms, vals in parts:
        store.insert_arrays(SID, ms, vals)
    ms = np.concatenate([p[0] for p in parts])
    vals = np.concatenate([p[1] for p in parts])
    hour = 3_600_000
    for lo, hi, b in ((MS0, MS0 + 24 * hour, 24), (MS0, MS0 + 2 * hour, 120), (MS0 + hour, MS0 + 3 * hour, 8),
                      (MS0 - hour, MS0 + 47 * hour, 4), (MS0, MS0 + 600_000, 600)):
        got = store.summary(SID, from_ms(lo), from_ms(hi), b)
        _assert_summary_equal(got, summarise_arrays(ms, vals, lo, hi, b))
