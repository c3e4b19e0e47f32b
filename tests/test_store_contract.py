"""One contract for every Store: SQLite, MongoDB on mongomock, and a real MongoDB when HSGUI_TEST_MONGO_URI is set."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from channels.errors import (DuplicateInstanceError, StreamAlreadyExistsError, StreamNotFoundError,
                             ValueEncodingError)
from channels.lod import numeric_or_nan, summarise_arrays
from channels.stores.base import StreamDefinition
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import UTC, from_ms, to_ms

from stores_fixtures import store  # noqa: F401  (the parametrised fixture)

T0 = datetime(2021, 3, 1, tzinfo=UTC)  # a UTC midnight: day/hour edges line up with it
SID = StreamId("temperature", {"house": "1", "room": "kitchen"})
OTHER = StreamId("humidity", {"house": "1"})


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def inst(seconds, value):
    return StreamInstance(t(seconds), value)


def define(store, sid=SID, channel="mongo", **kw):
    store.create_definition(StreamDefinition(sid, channel, **kw))


# -- definitions -------------------------------------------------------------------------------------------------

def test_definitions_create_get_list_update_delete(store):
    assert store.list_definitions() == []
    ivs = TimeIntervals([TimeInterval(t(0), t(60)), TimeInterval(t(120), t(180))])
    define(store, SID, "mongo", calculated_intervals=ivs, sandbox="sb", stream_type="StreamInstance",
           last_updated=t(5), last_accessed=t(6))
    define(store, OTHER, "assets")
    got = store.get_definition(StreamId("temperature", [("room", "kitchen"), ("house", "1")]))
    assert got.stream_id == SID
    assert got.channel_id == "mongo"
    assert got.calculated_intervals == ivs
    assert (got.sandbox, got.stream_type) == ("sb", "StreamInstance")
    assert got.last_updated == t(5) and got.last_accessed == t(6)
    assert got.last_updated.tzinfo is not None and got.last_updated.utcoffset() == timedelta(0)
    assert store.get_definition(StreamId("nope")) is None
    assert {d.stream_id for d in store.list_definitions()} == {SID, OTHER}
    assert [d.stream_id for d in store.list_definitions("assets")] == [OTHER]
    assert store.list_definitions("no-such-channel") == []

    with pytest.raises(StreamAlreadyExistsError):
        define(store, StreamId("temperature", {"room": "kitchen", "house": 1}), "mongo")

    new_ivs = TimeIntervals([TimeInterval(t(0), t(1000))])
    store.update_definition(SID, calculated_intervals=new_ivs)
    store.update_definition(SID, last_updated=t(100))
    store.update_definition(SID, last_accessed=t(200))
    store.update_definition(SID, sandbox="other")
    store.update_definition(SID, stream_type="AssetStream")
    got = store.get_definition(SID)
    assert got.calculated_intervals == new_ivs
    assert (got.last_updated, got.last_accessed, got.sandbox, got.stream_type) == (
        t(100), t(200), "other", "AssetStream")
    assert store.get_definition(OTHER).calculated_intervals.is_empty
    with pytest.raises(StreamNotFoundError):
        store.update_definition(StreamId("nope"), sandbox="x")

    store.delete_definition(SID)
    assert store.get_definition(SID) is None
    assert [d.stream_id for d in store.list_definitions()] == [OTHER]


def test_definitions_read_and_created_several_at_once(store):
    define(store, OTHER, "assets", calculated_intervals=TimeIntervals([TimeInterval(t(0), t(60))]))
    made = [StreamId("x", {"i": str(i)}) for i in range(3)]
    store.create_definitions([StreamDefinition(sid, "mongo") for sid in made])
    asked = made + [OTHER, StreamId("nope")]
    got = store.get_definitions(asked)
    assert set(got) == set(made) | {OTHER}            # the missing one is left out
    assert got[OTHER].channel_id == "assets"
    assert got[OTHER].calculated_intervals == TimeIntervals([TimeInterval(t(0), t(60))])
    assert all(got[sid].channel_id == "mongo" and got[sid].calculated_intervals.is_empty for sid in made)
    with pytest.raises(StreamAlreadyExistsError, match="x"):
        store.create_definitions([StreamDefinition(made[1], "mongo")])


def test_definitions_of_one_name(store):
    """The streams called a name, whatever their meta-data, in one channel (a splitter's siblings)."""
    named = [StreamId("temp", {"house": "1"}), StreamId("temp", {"house": "1", "room": "hall"}),
             StreamId("temp", {"a": "0"}), StreamId("temp")]
    store.create_definitions([StreamDefinition(sid, "mongo") for sid in named] +
                             [StreamDefinition(StreamId("tem"), "mongo"), StreamDefinition(StreamId("temps"), "mongo"),
                              StreamDefinition(StreamId("temp", {"house": "2"}), "assets")])
    store.insert(named[1], [inst(5, 1.0)], calculated_intervals=TimeIntervals([TimeInterval(t(0), t(10))]))
    got = {d.stream_id: d for d in store.definitions_named("mongo", "temp")}
    assert set(got) == set(named)
    assert got[named[1]].calculated_intervals == TimeIntervals([TimeInterval(t(0), t(10))])
    assert [d.stream_id for d in store.definitions_named("assets", "temp")] == [StreamId("temp", {"house": "2"})]
    assert store.definitions_named("mongo", "nothing") == []
    # with meta-data pairs: the streams that hold each of them (a splitter's sink and its siblings)
    assert {d.stream_id for d in store.definitions_named("mongo", "temp", [("house", "1")])} == set(named[:2])
    assert [d.stream_id for d in store.definitions_named("mongo", "temp", [("house", "1"), ("room", "hall")])] == [
        named[1]]
    assert store.definitions_named("mongo", "temp", [("house", "hall")]) == []


def test_definitions_updated_since_and_their_count(store):
    a, b, c = StreamId("a"), StreamId("b"), StreamId("c")
    define(store, a, last_updated=T0)
    define(store, b, last_updated=T0 + timedelta(hours=1))
    define(store, c, channel="other", last_updated=T0 + timedelta(hours=2))
    assert [d.stream_id for d in store.list_definitions("mongo", updated_since=T0 + timedelta(minutes=30))] == [b]
    assert {d.stream_id for d in store.list_definitions(updated_since=T0 + timedelta(minutes=30))} == {b, c}
    assert store.list_definitions("mongo", updated_since=T0 + timedelta(hours=3)) == []
    # a write that changes calculated intervals stamps the definition, so a reader that keeps them sees it
    store.insert(a, [StreamInstance(T0 + timedelta(seconds=5), 1.0)],
                 calculated_intervals=TimeIntervals([TimeInterval(T0, T0 + timedelta(seconds=10))]))
    later = store.list_definitions("mongo", updated_since=T0 + timedelta(hours=1, minutes=30))
    assert [d.stream_id for d in later] == [a] and not later[0].calculated_intervals.is_empty
    assert store.count_definitions("mongo") == 2 and store.count_definitions() == 3
    assert store.channel_ids() == {"mongo", "other"}
    store.delete_definition(b)
    assert store.count_definitions("mongo") == 1


def test_definition_with_extreme_intervals(store):
    from channels.utils import MAX_DATE, MIN_DATE
    ivs = TimeIntervals([TimeInterval(MIN_DATE, MAX_DATE)])
    define(store, SID, calculated_intervals=ivs)
    assert store.get_definition(SID).calculated_intervals == ivs


# -- instances -----------------------------------------------------------------------------------------------------

def test_insert_read_order_and_boundaries(store):
    define(store)
    data = [inst(s, float(s)) for s in (30, 10, 20, 40, 50)]  # out of order on purpose
    assert store.insert(SID, data) == 5
    whole = list(store.read(SID, None, None))
    assert [i.timestamp for i in whole] == [t(10), t(20), t(30), t(40), t(50)]
    assert [i.value for i in whole] == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert all(isinstance(i, StreamInstance) for i in whole)
    # (start, end]: an instance at start is excluded, at end included
    assert [i.value for i in store.read(SID, t(20), t(40))] == [30.0, 40.0]
    assert [i.value for i in store.read(SID, t(19.999), t(40))] == [20.0, 30.0, 40.0]
    assert [i.value for i in store.read(SID, None, t(20))] == [10.0, 20.0]
    assert [i.value for i in store.read(SID, t(40), None)] == [50.0]
    assert list(store.read(SID, t(50), None)) == []
    assert list(store.read(OTHER, None, None)) == []
    assert whole[0].timestamp.utcoffset() == timedelta(0)


def test_count_first_last(store):
    define(store)
    store.insert(SID, [inst(s, s) for s in range(1, 11)])
    assert store.count(SID, None, None) == 10
    assert store.count(SID, t(2), t(5)) == 3
    assert store.count(SID, t(10), None) == 0
    assert store.count(OTHER, None, None) == 0
    assert store.first(SID) == inst(1, 1)
    assert store.last(SID) == inst(10, 10)
    assert store.first(SID, t(3), t(7)) == inst(4, 4)
    assert store.last(SID, t(3), t(7)) == inst(7, 7)
    assert store.first(SID, t(10), None) is None
    assert store.last(OTHER) is None


def test_duplicates_same_value_is_noop(store):
    define(store)
    assert store.insert(SID, [inst(1, 1.5), inst(2, {"a": [1, 2]})]) == 2
    assert store.insert(SID, [inst(1, 1.5), inst(2, {"a": [1, 2]}), inst(3, 3.0)]) == 1
    # twice within one batch with the same value: written once
    assert store.insert(SID, [inst(4, "x"), inst(4, "x")]) == 1
    assert store.insert(SID, [inst(5, math.nan), inst(5, math.nan)]) == 1
    assert store.insert(SID, [inst(5, math.nan)]) == 0
    assert store.count(SID, None, None) == 5


def test_duplicate_with_different_value_names_stream_and_time_and_writes_nothing(store):
    define(store)
    store.insert(SID, [inst(s, float(s)) for s in range(0, 100, 10)])  # 0, 10, ..., 90
    batch = [inst(s, float(s)) for s in range(95, 200)]  # new ...
    batch.insert(50, inst(50, -1.0))                     # ... with a conflict in the middle
    with pytest.raises(DuplicateInstanceError) as ei:
        store.insert(SID, batch, calculated_intervals=TimeIntervals([TimeInterval(t(0), t(200))]))
    msg = str(ei.value)
    assert str(SID) in msg and t(50).isoformat() in msg
    assert store.count(SID, None, None) == 10
    assert store.get_definition(SID).calculated_intervals.is_empty
    # within the batch
    with pytest.raises(DuplicateInstanceError) as ei:
        store.insert(SID, [inst(300, 1.0), inst(301, 2.0), inst(300, 2.0)])
    assert t(300).isoformat() in str(ei.value)
    assert store.count(SID, None, None) == 10
    assert store.first(SID, t(95), None) is None


def test_exception_mid_batch_writes_nothing(store):
    define(store)
    store.insert(SID, [inst(0, 0.0)])
    batch = [inst(i + 1, float(i)) for i in range(1000)]
    batch[500] = inst(501, {"a": [1, {2, 3}]})
    with pytest.raises(ValueEncodingError) as ei:
        store.insert(SID, batch)
    assert "value['a'][1] is a set" in str(ei.value)
    assert store.count(SID, None, None) == 1


@pytest.mark.parametrize("bad, where", [
    ({1, 2}, "value is a set"),
    ({"a": object()}, "value['a'] is an object"),
    ([1, b"x"], "value[1] is a bytes"),
    ({3: "x"}, "key 3"),
    (datetime(2020, 1, 1), "naive"),
    ({"when": [datetime(2020, 1, 1)]}, "value['when'][0] is a naive datetime"),
])
def test_bad_values_raise_value_encoding_error(store, bad, where):
    define(store)
    with pytest.raises(ValueEncodingError) as ei:
        store.insert(SID, [inst(1, 1.0), inst(2, bad)])
    assert where in str(ei.value)
    assert store.count(SID, None, None) == 0


ROUND_TRIP = [
    None, True, False, 0, -7, 2 ** 62, 2 ** 80, -(2 ** 70), 3.25, -0.5, 1e300, 5e-324, math.inf, -math.inf,
    "", "héllo wörld ✓ 日本", "line\nbreak \"quoted\" \\ back",
    [], {}, [1, [2, [3, {"x": None}]]], {"nested": {"list": [1, 2.5, "three", None, True]}, "ü": "ß"},
    datetime(2019, 5, 6, 7, 8, 9, 123000, tzinfo=UTC),
    TimeInterval(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)),
    {"when": datetime(2001, 2, 3, tzinfo=UTC), "span": [TimeInterval(datetime(2020, 1, 1, tzinfo=UTC),
                                                                     datetime(2020, 2, 1, tzinfo=UTC))]},
    {"$t": "dt", "ms": 5}, {"$t": "d", "v": [[1, 2]]}, {"__hs_type__": "TimeInterval", "start": 1, "end": 2},
    {"a.b": 1, "$c": 2}, {"plain": 1, "x": {"$t": "f", "v": "nan"}},
]


def test_values_round_trip_exactly(store):
    define(store)
    batch = [inst(i + 1, v) for i, v in enumerate(ROUND_TRIP)]
    assert store.insert(SID, batch) == len(ROUND_TRIP)
    got = list(store.read(SID, None, None))
    assert len(got) == len(ROUND_TRIP)
    for (ts, value), expected in zip(got, ROUND_TRIP):
        assert value == expected and type(value) is type(expected), (value, expected)
    assert got[ROUND_TRIP.index(2 ** 80)].value == 2 ** 80
    # datetimes come back aware UTC
    dt = got[ROUND_TRIP.index(ROUND_TRIP[21])].value
    assert dt.utcoffset() == timedelta(0) and dt == ROUND_TRIP[21]
    # tuples are stored as lists, non-UTC datetimes come back as the same instant in UTC
    tz = timezone(timedelta(hours=5))
    store.insert(SID, [inst(100, (1, (2, 3))), inst(101, datetime(2020, 1, 1, 5, tzinfo=tz)),
                       inst(102, math.nan), inst(103, datetime(2020, 1, 1, 0, 0, 0, 999999, tzinfo=UTC))])
    a, b, c, d = store.read(SID, t(99), None)
    assert a.value == [1, [2, 3]]
    assert b.value == datetime(2020, 1, 1, tzinfo=UTC) and b.value.utcoffset() == timedelta(0)
    assert math.isnan(c.value)
    assert d.value == datetime(2020, 1, 1, 0, 0, 0, 999000, tzinfo=UTC)  # kept to the millisecond


# -- purge -----------------------------------------------------------------------------------------------------------

def test_purge_all_and_range(store):
    define(store)
    define(store, OTHER)
    store.insert(SID, [inst(s, float(s)) for s in range(1, 101)])
    store.insert(OTHER, [inst(s, float(s)) for s in range(1, 11)])
    assert store.purge(SID, t(10), t(20)) == 10
    assert store.count(SID, None, None) == 90
    assert [i.value for i in store.read(SID, t(9), t(21))] == [10.0, 21.0]
    assert store.purge(SID, None, t(5)) == 5
    assert store.purge(SID, t(95), None) == 5
    assert store.purge(SID, t(10), t(20)) == 0
    assert store.count(SID, None, None) == 80
    assert store.purge(SID) == 80
    assert store.count(SID, None, None) == 0
    assert store.count(OTHER, None, None) == 10  # other streams untouched
    assert store.get_definition(SID) is not None  # purge keeps the definition
    assert store.insert(SID, [inst(1, 1.0)]) == 1  # and the stream can be written again


def test_insert_and_purge_set_calculated_intervals(store):
    define(store)
    iv1 = TimeIntervals([TimeInterval(t(0), t(100))])
    assert store.insert(SID, [inst(s, s) for s in range(1, 101)], calculated_intervals=iv1) == 100
    assert store.get_definition(SID).calculated_intervals == iv1
    iv2 = iv1 - TimeInterval(t(40), t(60))
    assert store.purge(SID, t(40), t(60), calculated_intervals=iv2) == 20
    assert store.get_definition(SID).calculated_intervals == iv2
    assert store.count(SID, None, None) == 80
    assert store.insert(SID, [], calculated_intervals=iv1) == 0
    assert store.get_definition(SID).calculated_intervals == iv1
    with pytest.raises(StreamNotFoundError):
        store.insert(OTHER, [inst(1, 1)], calculated_intervals=iv1)
    assert store.count(OTHER, None, None) == 0


def test_writes_in_a_write_group_are_stored_and_read_back_whichever_store(store):
    define(store)
    iv = TimeIntervals([TimeInterval(t(0), t(10))])
    with store.write_group() as group:
        group.owner = "step"
        store.insert(SID, [inst(s, s) for s in range(1, 11)], add_intervals=iv)
        store.record_runs([{"tool": "t", "outcome": "ok"}])
        assert store.count(SID, None, None) == 10          # the writing thread reads what it wrote
    assert group.failures == {}
    assert store.get_definition(SID).calculated_intervals == iv and store.count(SID, None, None) == 10
    assert [r["tool"] for r in store.list_runs()] == ["t"]


# -- columns and summaries -----------------------------------------------------------------------------------------

def _random_stream(n: int, seed: int, span_s: float = 6 * 3600):
    """Random instances over ``span_s`` seconds: mostly floats, some ints/bools/NaN/text/None/dicts."""
    rng = np.random.default_rng(seed)
    ms = np.sort(rng.choice(int(span_s * 1000), size=n, replace=False)) + to_ms(T0) + 1
    out = []
    for i, m in enumerate(ms.tolist()):
        r = rng.random()
        if r < 0.70:
            v = float(rng.normal(20, 5))
        elif r < 0.75:
            v = int(rng.integers(-100, 100))
        elif r < 0.78:
            v = bool(rng.random() < 0.5)
        elif r < 0.80:
            v = math.nan
        elif r < 0.83:
            v = "text"
        elif r < 0.85:
            v = None
        else:
            v = {"power": float(rng.normal(100, 30)), "state": "on", "flag": bool(rng.random() < 0.5)}
            if rng.random() < 0.2:
                del v["power"]
        out.append(StreamInstance._make((from_ms(m), v)))
    return out


def _oracle(instances, start_ms, end_ms, buckets, component=None):
    ms = np.array([to_ms(i.timestamp) for i in instances], dtype=np.int64)
    vals = np.array([numeric_or_nan(i.value, component) for i in instances], dtype=np.float64)
    return summarise_arrays(ms, vals, start_ms, end_ms, buckets)


def _assert_summary_equal(got, want):
    assert got.start_ms == want.start_ms and got.end_ms == want.end_ms
    np.testing.assert_array_equal(got.edges_ms, want.edges_ms)
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_array_equal(got.first_ms, want.first_ms)
    np.testing.assert_array_equal(got.last_ms, want.last_ms)
    np.testing.assert_array_equal(got.min, want.min)
    np.testing.assert_array_equal(got.max, want.max)
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-9, equal_nan=True)


def test_columns_scalar_and_component(store):
    define(store)
    data = _random_stream(600, seed=3)
    store.insert(SID, data)
    lo, hi = data[100].timestamp, data[400].timestamp
    ms, vals = store.columns(SID, lo, hi)
    assert ms.dtype == np.int64 and vals.dtype == np.float64
    want = [(to_ms(i.timestamp), numeric_or_nan(i.value)) for i in data[101:401]]
    want = [(m, v) for m, v in want if not math.isnan(v)]
    np.testing.assert_array_equal(ms, [m for m, _ in want])
    np.testing.assert_array_equal(vals, [v for _, v in want])
    for comp in ("power", "flag"):
        ms, vals = store.columns(SID, None, None, component=comp)
        want = [(to_ms(i.timestamp), numeric_or_nan(i.value, comp)) for i in data]
        want = [(m, v) for m, v in want if not math.isnan(v)]
        assert len(want) > 10
        np.testing.assert_array_equal(ms, [m for m, _ in want])
        np.testing.assert_array_equal(vals, [v for _, v in want])
    ms, vals = store.columns(SID, None, None, component="state")  # text only: nothing numeric
    assert len(ms) == len(vals) == 0
    ms, vals = store.columns(OTHER, None, None)
    assert len(ms) == 0


@pytest.mark.parametrize("component", [None, "power"])
def test_summary_equals_reference_on_aligned_ranges(store, component):
    define(store)
    data = _random_stream(1000, seed=11)  # ~22 s apart over 6 h
    # several batches, one out of order, to exercise incremental maintenance
    store.insert(SID, data[:200])
    store.insert(SID, data[600:])
    store.insert(SID, data[200:600][::-1])
    hour = 3_600_000
    s0 = to_ms(T0)
    cases = [(s0, s0 + 6 * hour, 1), (s0, s0 + 6 * hour, 2), (s0, s0 + 6 * hour, 6), (s0, s0 + 6 * hour, 24),
             (s0 - hour, s0 + 7 * hour, 8), (s0 + hour, s0 + 2 * hour, 4), (s0, s0 + 6 * hour, 360),
             (s0 + 5_000, s0 + 65_000, 1000), (s0 - 48 * hour, s0 + 48 * hour, 4)]
    for lo, hi, b in cases:
        got = store.summary(SID, from_ms(lo), from_ms(hi), b, component=component)
        _assert_summary_equal(got, _oracle(data, lo, hi, b, component))
    # after purging a range that cuts level buckets
    store.purge(SID, from_ms(s0 + 1_234_567), from_ms(s0 + 9_000_123))
    kept = [i for i in data if not (s0 + 1_234_567 < to_ms(i.timestamp) <= s0 + 9_000_123)]
    assert store.count(SID, None, None) == len(kept)
    for lo, hi, b in cases[:5]:
        got = store.summary(SID, from_ms(lo), from_ms(hi), b, component=component)
        _assert_summary_equal(got, _oracle(kept, lo, hi, b, component))


def test_summary_total_equals_count_on_arbitrary_ranges(store):
    define(store)
    data = _random_stream(1000, seed=5)
    store.insert(SID, data)
    rng = np.random.default_rng(7)
    s0 = to_ms(T0)
    for _ in range(15):
        lo = int(rng.integers(s0 - 3_600_000, s0 + 4 * 3_600_000))
        hi = lo + int(rng.integers(1, 8 * 3_600_000))
        b = int(rng.choice([1, 3, 7, 50, 333, 2000]))
        got = store.summary(SID, from_ms(lo), from_ms(hi), b)
        want = _oracle(data, lo, hi, b)
        assert got.total == store.count(SID, from_ms(lo), from_ms(hi)) == want.total
        assert got.buckets == b
        np.testing.assert_array_equal(got.edges_ms, want.edges_ms)
        # every non-empty bucket's first/last are real instance times within the range
        has = got.count > 0
        assert np.all((got.first_ms[has] > lo) & (got.last_ms[has] <= hi))
        assert np.all(got.first_ms[~has] == -1)
        # min/max never exceed the range's numeric extremes
        _, vals = store.columns(SID, from_ms(lo), from_ms(hi))
        if len(vals):
            assert np.nanmin(got.min) >= vals.min() and np.nanmax(got.max) <= vals.max()


def test_summary_of_small_and_empty_streams(store):
    define(store)
    s0 = to_ms(T0)
    empty = store.summary(SID, T0, t(100), 10)
    assert empty.total == 0 and np.all(empty.first_ms == -1) and np.all(np.isnan(empty.mean))
    data = [inst(s, float(s)) for s in (1, 2, 3, 50, 99.5)] + [inst(60, "x")]
    store.insert(SID, data)
    got = store.summary(SID, T0, t(100), 10)
    _assert_summary_equal(got, _oracle(sorted(data), s0, s0 + 100_000, 10))


# -- tool-run history --------------------------------------------------------------------------------------------------

def test_run_history_newest_first(store):
    assert store.list_runs() == []
    runs = [{"tool": "clock", "version": "0.0.1", "parameters": {"stride": 1.0}, "n": i,
             "interval": {"start": t(0), "end": t(60)}, "outcome": "ok"} for i in range(5)]
    for r in runs:
        store.record_run(r)
    got = store.list_runs()
    assert [r["n"] for r in got] == [4, 3, 2, 1, 0]
    assert got[0] == runs[4]
    assert [r["n"] for r in store.list_runs(limit=2)] == [4, 3]
    with pytest.raises(ValueEncodingError):
        store.record_run({"bad": {1, 2}})
    store.record_runs([{"tool": "a", "n": 5}, {"tool": "b", "n": 6}])   # several at once, in this order
    assert [r["n"] for r in store.list_runs(limit=3)] == [6, 5, 4]


# -- exact floats ------------------------------------------------------------------------------------------------------

EXACT_FLOATS = [-0.0, 0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 1.7976931348623157e308, -1.5, 0.1]


def _bits(x):
    import struct
    return struct.pack("<d", x)


def test_every_float_round_trips_bit_exactly(store):
    define(store)
    batch = [inst(i + 1, v) for i, v in enumerate(EXACT_FLOATS)]
    batch.append(inst(100, {"neg": -0.0, "pos": 0.0}))
    batch.append(inst(101, [-0.0]))
    store.insert(SID, batch)
    got = list(store.read(SID, None, None))
    for (ts, value), expected in zip(got, EXACT_FLOATS):
        assert type(value) is float and _bits(value) == _bits(expected), (ts, value, expected)
    assert _bits(got[-2].value["neg"]) == _bits(-0.0) and _bits(got[-2].value["pos"]) == _bits(0.0)
    assert _bits(got[-1].value[0]) == _bits(-0.0)
    assert _bits(store.first(SID, t(0), t(1)).value) == _bits(-0.0)
    assert _bits(store.last(SID, t(0), t(1)).value) == _bits(-0.0)
    ms, vals = store.columns(SID, t(0), t(len(EXACT_FLOATS)))
    expected = [x for x in EXACT_FLOATS if x == x]
    assert [_bits(v) for v in vals.tolist()] == [_bits(x) for x in expected]
    # writing the same floats again is a no-op (NaN equals NaN, -0.0 equals -0.0)
    assert store.insert(SID, [inst(i + 1, v) for i, v in enumerate(EXACT_FLOATS)]) == 0
