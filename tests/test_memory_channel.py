"""BaseChannel, MemoryChannel and ReadOnlyMemoryChannel, plus the package's import surface."""
from __future__ import annotations

import importlib
import random
from datetime import datetime, timedelta

import numpy as np
import pytest

import channels
from channels import (MAX_DATE, MIN_DATE, UTC, BaseChannel, DuplicateInstanceError, MemoryChannel,
                      MultipleStreamsFoundError, ReadOnlyChannelError, ReadOnlyMemoryChannel,
                      StreamAlreadyExistsError, StreamId, StreamInstance, StreamNotFoundError, TimeError,
                      TimeInterval, TimeIntervals, utcnow)

T0 = datetime(2017, 6, 20, tzinfo=UTC)


def t(k: float) -> datetime:
    return T0 + timedelta(seconds=k)


@pytest.fixture
def mc():
    return MemoryChannel("mem")


# ---------------------------------------------------------------------------
# imports
# ---------------------------------------------------------------------------

def test_top_level_names():
    for name in ["MemoryChannel", "ReadOnlyMemoryChannel", "BaseChannel", "FileChannel", "FileDateTimeVersion",
                 "ModuleChannel", "ToolChannel", "TimeInterval", "TimeIntervals", "RelativeTimeInterval",
                 "parse_time_tuple", "MIN_DATE", "MAX_DATE", "StreamId", "StreamInstance", "Stream", "StreamView",
                 "StreamDict", "get_stream_id", "utcnow", "get_timedelta", "StreamNotFoundError",
                 "MultipleStreamsFoundError", "DuplicateInstanceError", "ReadOnlyChannelError", "ToolNotFoundError",
                 "FileNameError"]:
        assert hasattr(channels, name), name


@pytest.mark.parametrize("module, name", [
    ("channels.memory_channel", "MemoryChannel"),
    ("channels.memory_channel", "ReadOnlyMemoryChannel"),
    ("channels.base_channel", "BaseChannel"),
    ("channels.file_channel", "FileChannel"),
    ("channels.file_channel", "FileDateTimeVersion"),
    ("channels.module_channel", "ModuleChannel"),
    ("channels.tool_channel", "ToolChannel"),
    ("channels.time_interval", "TimeInterval"),
    ("channels.time_interval", "TimeIntervals"),
    ("channels.time_interval", "RelativeTimeInterval"),
    ("channels.time_interval", "parse_time_tuple"),
    ("channels.time_interval", "MIN_DATE"),
    ("channels.time_interval", "MAX_DATE"),
    ("channels.stream", "StreamId"),
    ("channels.stream", "StreamInstance"),
    ("channels.stream", "Stream"),
    ("channels.stream", "StreamView"),
    ("channels.stream", "StreamDict"),
    ("channels.stream", "get_stream_id"),
])
def test_submodule_names_are_the_same_objects(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(channels, name)


# ---------------------------------------------------------------------------
# BaseChannel
# ---------------------------------------------------------------------------

class DictChannel(BaseChannel):
    """A minimal concrete channel using only BaseChannel's generic read paths."""

    def __init__(self):
        super().__init__("dict")
        self.store = {}

    def create_stream(self, stream_id, sandbox=None):
        from channels import Stream, get_stream_id
        sid = get_stream_id(stream_id)
        self.streams[sid] = Stream(self, sid)
        self.store[sid] = {}
        return self.streams[sid]

    def get_results(self, stream, time_interval):
        data = self.store[stream.stream_id]
        return [StreamInstance(ts, data[ts]) for ts in sorted(data) if ts in time_interval]

    def get_stream_writer(self, stream):
        def w(instances):
            for ts, v in instances:
                self.store[stream.stream_id][ts] = v
        return w


def test_base_channel_is_abstract():
    b = BaseChannel("base")
    with pytest.raises(NotImplementedError):
        b.create_stream(StreamId("x"))
    with pytest.raises(NotImplementedError):
        b.update_streams(utcnow())
    assert b.channel_id == "base"
    assert len(b) == 0


@pytest.mark.parametrize("bad", ["", None, 3])
def test_base_channel_rejects_bad_ids_naming_them(bad):
    with pytest.raises(ValueError) as ei:
        MemoryChannel(bad)
    assert repr(bad) in str(ei.value)


def test_generic_fast_paths_agree_with_memory_channel(mc):
    rng = random.Random(5)
    data = [StreamInstance(t(k), rng.choice([rng.random() * 100, None, "x", {"a": k}, k]))
            for k in rng.sample(range(1, 500), 200)]
    dc = DictChannel()
    a = dc.create_stream("s")
    b = mc.create_stream("s")
    a.writer(data)
    b.writer(data)
    for _ in range(20):
        x = rng.randrange(0, 500)
        y = rng.randrange(x + 1, 501)
        w = TimeInterval(t(x), t(y))
        va, vb = a.window(w), b.window(w)
        assert va.items() == vb.items()
        assert va.count() == vb.count()
        assert va.first() == vb.first()
        assert va.last() == vb.last()
        for ca, cb in zip(va.columns(), vb.columns()):
            assert ca.tolist() == cb.tolist()
        sa, sb = va.summary(7), vb.summary(7)
        assert sa.count.tolist() == sb.count.tolist()
        assert np.allclose(sa.mean, sb.mean, equal_nan=True)
        assert sa.first_ms.tolist() == sb.first_ms.tolist()


# ---------------------------------------------------------------------------
# MemoryChannel: streams
# ---------------------------------------------------------------------------

def test_create_and_get_streams(mc):
    s = mc.create_stream(StreamId("temp", {"house": "1"}))
    assert mc[StreamId("temp", {"house": "1"})] is s
    assert mc["temp: [house=1]"] is s
    assert StreamId("temp", {"house": "1"}) in mc
    assert "temp: [house=1]" in mc
    assert "temp: [house=2]" not in mc
    assert len(mc) == 1
    assert list(mc) == [s]
    assert mc.get_or_create_stream("temp: [house=1]") is s
    t2 = mc.get_or_create_stream(StreamId("temp", {"house": "2"}))
    assert t2 is not s and len(mc) == 2


def test_create_existing_stream_is_an_error_naming_it(mc):
    mc.create_stream(StreamId("temp", {"house": "1"}))
    with pytest.raises(StreamAlreadyExistsError) as ei:
        mc.create_stream(StreamId("temp", {"house": "1"}))
    assert "temp: [house=1]" in str(ei.value)


def test_get_or_create_without_create(mc):
    with pytest.raises(StreamNotFoundError) as ei:
        mc.get_or_create_stream(StreamId("ghost", {"a": "1"}), try_create=False)
    assert "ghost: [a=1]" in str(ei.value)
    assert "mem" in str(ei.value)
    assert len(mc) == 0


def test_getitem_unknown_stream(mc):
    with pytest.raises(StreamNotFoundError) as ei:
        mc["ghost"]
    assert "ghost" in str(ei.value)
    with pytest.raises(KeyError):  # it is also a KeyError, as dict users expect
        mc["ghost"]


@pytest.fixture
def populated(mc):
    for house in ("1", "2"):
        for room in ("kitchen", "hall"):
            mc.create_stream(StreamId("temp", {"house": house, "room": room}))
    mc.create_stream(StreamId("hum", {"house": "1", "room": "kitchen"}))
    mc.create_stream(StreamId("clock"))
    return mc


def test_find_streams(populated):
    ids = lambda found: sorted(str(s.stream_id) for s in found)  # noqa: E731
    assert ids(populated.find_streams(name="temp")) == [
        "temp: [house=1, room=hall]", "temp: [house=1, room=kitchen]",
        "temp: [house=2, room=hall]", "temp: [house=2, room=kitchen]"]
    assert ids(populated.find_streams(name="temp", house="1")) == [
        "temp: [house=1, room=hall]", "temp: [house=1, room=kitchen]"]
    assert ids(populated.find_streams(house=1, room="kitchen")) == [
        "hum: [house=1, room=kitchen]", "temp: [house=1, room=kitchen]"]
    assert ids(populated.find_streams(name="clock")) == ["clock"]
    assert populated.find_streams(name="temp", house="3") == []
    assert populated.find_streams(name="nothing") == []
    assert len(populated.find_streams()) == 6


def test_find_stream_one_none_many(populated):
    s = populated.find_stream(name="temp", house="2", room="hall")
    assert s.stream_id == StreamId("temp", {"room": "hall", "house": "2"})
    with pytest.raises(StreamNotFoundError) as ei:
        populated.find_stream(name="temp", house="9")
    assert "house=9" in str(ei.value)
    with pytest.raises(MultipleStreamsFoundError) as ei:
        populated.find_stream(name="temp", house="1")
    msg = str(ei.value)
    assert "house=1" in msg
    assert "temp: [house=1, room=kitchen]" in msg and "temp: [house=1, room=hall]" in msg
    assert not issubclass(MultipleStreamsFoundError, StreamNotFoundError)
    assert not issubclass(StreamNotFoundError, MultipleStreamsFoundError)


def test_purge_node(populated):
    for s in populated:
        s.writer([StreamInstance(t(1), 1)])
        s.calculated_intervals = TimeInterval(t(0), t(1))
    populated.purge_node("temp")
    for s in populated.find_streams(name="temp"):
        assert s.window().items() == []
        assert s.calculated_intervals.is_empty
    assert len(populated) == 6  # definitions kept
    for name in ("hum", "clock"):
        (other,) = populated.find_streams(name=name)
        assert other.window().values() == [1]
        assert other.calculated_intervals == TimeInterval(t(0), t(1))
    populated.purge_node("temp", remove_definition=True)
    assert populated.find_streams(name="temp") == []
    assert len(populated) == 2


def test_purge_stream_removing_definition(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1), 1)])
    mc.purge_stream("x", remove_definition=True)
    assert "x" not in mc
    with pytest.raises(StreamNotFoundError):
        mc["x"]
    # it can be created again, empty
    assert mc.create_stream("x").window().items() == []


def test_purge_unknown_stream_names_it(mc):
    with pytest.raises(StreamNotFoundError) as ei:
        mc.purge_stream(StreamId("ghost", {"a": "1"}))
    assert "ghost: [a=1]" in str(ei.value)


def test_purge_interval(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(k), k) for k in range(1, 11)])
    s.calculated_intervals = TimeInterval(t(0), t(10))
    n = mc.purge_interval("x", TimeInterval(t(3), t(6)))
    assert n == 3
    assert s.window(TimeInterval.all_time()).values() == [1, 2, 3, 7, 8, 9, 10]
    assert s.window().values() == [7, 8, 9, 10]  # no interval: the last calculated one (HyperStream's rule)
    assert list(s.calculated_intervals) == [TimeInterval(t(0), t(3)), TimeInterval(t(6), t(10))]


def test_purge_all(populated):
    for s in populated:
        s.writer([StreamInstance(t(1), 1)])
    populated.purge_all()
    assert all(s.window().count() == 0 for s in populated)
    assert len(populated) == 6
    populated.purge_all(remove_definitions=True)
    assert len(populated) == 0


def test_non_empty_streams(populated):
    populated["clock"].writer([StreamInstance(t(1), 1)])
    assert populated.non_empty_streams == [StreamId("clock")]


# ---------------------------------------------------------------------------
# MemoryChannel: writes
# ---------------------------------------------------------------------------

def test_out_of_order_writes_end_up_sorted(mc):
    s = mc.create_stream("x")
    rng = random.Random(3)
    ks = list(range(1, 301))
    rng.shuffle(ks)
    for chunk in range(0, 300, 37):
        s.writer([StreamInstance(t(k), k) for k in ks[chunk:chunk + 37]])
    assert s.window().values() == list(range(1, 301))
    assert s.window().timestamps() == [t(k) for k in range(1, 301)]


def test_writer_accepts_plain_pairs(mc):
    s = mc.create_stream("x")
    s.writer([(t(2), "b"), [t(1), "a"]])
    assert s.window().items() == [StreamInstance(t(1), "a"), StreamInstance(t(2), "b")]


def test_rewriting_same_value_is_a_no_op(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1), {"a": 1}), StreamInstance(t(2), float("nan"))])
    s.writer([StreamInstance(t(1), {"a": 1}), StreamInstance(t(2), float("nan")), StreamInstance(t(3), 3)])
    vals = s.window().values()
    assert len(vals) == 3
    assert vals[0] == {"a": 1} and vals[2] == 3


def test_conflicting_value_names_stream_and_timestamp_and_writes_nothing(mc):
    s = mc.create_stream(StreamId("temp", {"house": "1"}))
    s.writer([StreamInstance(t(k), k) for k in (1, 2, 3)])
    batch = [StreamInstance(t(0.5), "new-a"), StreamInstance(t(2), 999), StreamInstance(t(4), "new-b")]
    with pytest.raises(DuplicateInstanceError) as ei:
        s.writer(batch)
    msg = str(ei.value)
    assert "temp: [house=1]" in msg
    assert t(2).isoformat() in msg
    assert s.window().items() == [StreamInstance(t(k), k) for k in (1, 2, 3)]  # nothing of the batch


def test_conflict_within_one_batch(mc):
    s = mc.create_stream("x")
    with pytest.raises(DuplicateInstanceError) as ei:
        s.writer([StreamInstance(t(1), 1), StreamInstance(t(2), 2), StreamInstance(t(2), 3), StreamInstance(t(4), 4)])
    assert t(2).isoformat() in str(ei.value)
    assert "x" in str(ei.value)
    assert s.window().items() == []
    # repeating an identical instance inside a batch is fine
    s.writer([StreamInstance(t(1), 1), StreamInstance(t(1), 1)])
    assert s.window().values() == [1]


def test_timestamps_within_the_same_millisecond_are_the_same_instance(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1) + timedelta(microseconds=100), 1)])
    s.writer([StreamInstance(t(1) + timedelta(microseconds=900), 1)])  # same ms, same value: no-op
    assert s.window().items() == [StreamInstance(t(1), 1)]
    with pytest.raises(DuplicateInstanceError):
        s.writer([StreamInstance(t(1) + timedelta(microseconds=500), 2)])


def test_bad_instance_mid_batch_writes_nothing(mc):
    s = mc.create_stream("x")
    future = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    with pytest.raises(TimeError) as ei:
        s.writer([(t(1), 1), (future, 2)])
    assert future.isoformat() in str(ei.value)
    with pytest.raises(TimeError) as ei:
        s.writer([(t(1), 1), (datetime(2017, 1, 1, 5), 2)])
    assert "2017-01-01T05:00:00" in str(ei.value)
    with pytest.raises(TimeError) as ei:
        s.writer([(t(1), 1), ("2017-01-01", 2)])
    assert "'2017-01-01'" in str(ei.value)
    with pytest.raises(TypeError) as ei:
        s.writer([(t(1), 1), "junk"])
    assert "'junk'" in str(ei.value)
    assert s.window().items() == []


def test_write_chunk_sets_calculated_intervals(mc):
    s = mc.create_stream("x")
    mc.write_chunk(s, [StreamInstance(t(1), 1)], TimeInterval(t(0), t(10)))
    assert s.window().values() == [1]
    assert s.calculated_intervals == TimeInterval(t(0), t(10))
    with pytest.raises(DuplicateInstanceError):
        mc.write_chunk(s, [StreamInstance(t(1), 2)], TimeInterval(t(0), t(20)))
    assert s.calculated_intervals == TimeInterval(t(0), t(10))  # unchanged by the failed chunk


def test_writing_to_an_unknown_stream(mc):
    other = MemoryChannel("other")
    s = other.create_stream("x")
    with pytest.raises(StreamNotFoundError) as ei:
        mc.get_stream_writer(s)([StreamInstance(t(1), 1)])
    assert "x" in str(ei.value)


def test_window_reads_match_brute_force(mc):
    rng = random.Random(11)
    s = mc.create_stream("x")
    # integer-second instants, some written twice with the same value, in random order
    ks = rng.sample(range(0, 2000), 700)
    model = {k: rng.random() for k in ks}
    items = [StreamInstance(t(k), model[k]) for k in ks]
    rng.shuffle(items)
    for i in range(0, len(items), 50):
        s.writer(items[i:i + 50] + items[max(0, i - 5):i])
    for _ in range(300):
        a = rng.randrange(-5, 2005)
        b = rng.randrange(a + 1, 2010)
        # endpoints exactly on data points half the time, in between otherwise
        if rng.random() < 0.5:
            a, b = a + 0.5, b + 0.5
        view = s.window(TimeInterval(t(a), t(b)))
        expected = [StreamInstance(t(k), model[k]) for k in sorted(model) if a < k <= b]
        assert view.items() == expected
        assert view.count() == len(expected)
        assert view.first() == (expected[0] if expected else None)
        assert view.last() == (expected[-1] if expected else None)


def test_columns_follow_new_writes(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1), 1.0), StreamInstance(t(3), 3.0)])
    assert s.window().columns()[1].tolist() == [1.0, 3.0]
    assert s.window().summary(1).count.tolist() == [2]
    s.writer([StreamInstance(t(2), 2.0)])
    assert s.window().columns()[1].tolist() == [1.0, 2.0, 3.0]
    assert s.window(TimeInterval(t(0), t(3))).summary(3).count.tolist() == [1, 1, 1]
    mc.purge_interval("x", TimeInterval(t(1.5), t(2.5)))
    assert s.window().columns()[1].tolist() == [1.0, 3.0]


def test_check_calculation_times(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1), 1), StreamInstance(t(5), 5)])
    s.calculated_intervals = TimeInterval(t(0), t(10))
    assert mc.check_calculation_times() == []
    s.calculated_intervals = TimeInterval(t(0), t(3))
    assert mc.check_calculation_times() == [StreamId("x")]


# ---------------------------------------------------------------------------
# ReadOnlyMemoryChannel
# ---------------------------------------------------------------------------

class Readings(ReadOnlyMemoryChannel):
    """A read-only channel of two streams with one instance per hour at k hours after T0."""

    def update_streams(self, up_to_timestamp):
        for name in ("a", "b"):
            insts = [StreamInstance(T0 + timedelta(hours=k), f"{name}{k}") for k in range(0, 48)
                     if T0 + timedelta(hours=k) <= up_to_timestamp]
            self._add_instances(StreamId(name), insts, replace=True)


def test_read_only_update_state_marks_every_stream_calculated():
    ch = Readings("ro")
    assert len(ch) == 0
    up_to = T0 + timedelta(hours=10, minutes=30)
    ch.update_state(up_to)
    assert len(ch) == 2
    for s in ch:
        assert list(s.calculated_intervals) == [TimeInterval(MIN_DATE, up_to)]
        assert len(s.window().items()) == 11
    later = T0 + timedelta(hours=20)
    ch.update_state(later)
    for s in ch:
        assert list(s.calculated_intervals) == [TimeInterval(MIN_DATE, later)]
        assert s.window().values()[-1].endswith("20")


def test_read_only_constructed_up_to_a_time():
    up_to = T0 + timedelta(hours=5)
    ch = Readings("ro", up_to_timestamp=up_to)
    assert ch["a"].calculated_intervals == TimeInterval(MIN_DATE, up_to)
    assert ch["b"].window().values() == [f"b{k}" for k in range(6)]


def test_read_only_channel_refuses_create_write_purge():
    ch = Readings("ro", up_to_timestamp=T0 + timedelta(hours=5))
    before = ch["a"].window().items()
    with pytest.raises(ReadOnlyChannelError) as ei:
        ch.create_stream(StreamId("new"))
    assert "'ro'" in str(ei.value) and "new" in str(ei.value)
    with pytest.raises(ReadOnlyChannelError) as ei:
        ch["a"].writer([StreamInstance(t(1), 1)])
    assert "'ro'" in str(ei.value)
    with pytest.raises(ReadOnlyChannelError):
        ch.get_stream_writer(ch["a"])
    with pytest.raises(ReadOnlyChannelError):
        ch.write_chunk(ch["a"], [StreamInstance(t(1), 1)], TimeInterval(t(0), t(1)))
    with pytest.raises(ReadOnlyChannelError):
        ch.purge_stream("a")
    with pytest.raises(ReadOnlyChannelError):
        ch["a"].purge()
    with pytest.raises(ReadOnlyChannelError):
        ch.purge_node("a")
    with pytest.raises(ReadOnlyChannelError):
        ch.purge_interval("a", TimeInterval(T0, T0 + timedelta(hours=1)))
    with pytest.raises(ReadOnlyChannelError):
        ch.get_or_create_stream("new")
    with pytest.raises(StreamNotFoundError):
        ch.get_or_create_stream("new", try_create=False)
    assert "new" not in ch
    assert ch["a"].window().items() == before


def test_read_only_rejects_naive_up_to():
    ch = Readings("ro")
    with pytest.raises(TimeError) as ei:
        ch.update_state(datetime(2017, 6, 20, 5))
    assert "2017-06-20T05:00:00" in str(ei.value)
    with pytest.raises(TimeError):
        Readings("ro2", up_to_timestamp=datetime(2017, 6, 20, 5))


def test_read_only_base_requires_update_streams():
    with pytest.raises(NotImplementedError):
        ReadOnlyMemoryChannel("ro", up_to_timestamp=T0)
    assert ReadOnlyMemoryChannel("ro").up_to_timestamp == MIN_DATE


def test_memory_channel_accepts_max_date_window(mc):
    s = mc.create_stream("x")
    s.writer([StreamInstance(t(1), 1)])
    assert s.window(TimeInterval(MIN_DATE, MAX_DATE)).values() == [1]
    assert s.window(TimeIntervals([TimeInterval(MIN_DATE, MAX_DATE)]).span).values() == [1]


def test_a_summary_while_the_stream_is_rewritten_is_of_the_stream_as_it_is_then(monkeypatch):
    """The arrays are built outside the lock from the series' own lists; an insert in the middle meanwhile (not
    an append) makes the read build them again from the series as it is, so no instance is missed or doubled."""
    import channels.memory_channel as memory_channel
    t0, sec = T0, timedelta(seconds=1)
    ch = MemoryChannel("mem")
    s = ch.create_stream("x")
    s.writer([StreamInstance(t0 + sec * (2 * i + 2), float(i)) for i in range(1000)])
    real = memory_channel._values_in_steps
    wrote = []

    def insert_meanwhile(insts, n, component):
        if not wrote:
            wrote.append(1)
            s.writer([StreamInstance(t0 + sec * 3, 5000.0)])   # between the first two: the lists shift
        return real(insts, n, component)
    monkeypatch.setattr(memory_channel, "_values_in_steps", insert_meanwhile)
    ms, vals = s.window(TimeInterval(t0, t0 + sec * 3000)).columns()
    assert len(ms) == 1001 and (ms[1:] > ms[:-1]).all() and vals[1] == 5000.0 and vals[-1] == 999.0
