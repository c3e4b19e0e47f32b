"""What a plot reads from a memory stream (summary, numeric columns, the window's instances): the same numbers
however the stream was written, and a stream written as arrays is plotted from its arrays without making a
StreamInstance per point (10,000,000 of them took seconds and 1.6 GB before the first curve)."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import MemoryChannel, StreamInstance, TimeInterval, UTC
from channels.columnar import Columns
from channels.lod import numeric_or_nan, summarise_arrays
from channels.memory_channel import NUMERIC_STEP
from channels.utils import to_ms

T0 = datetime(2020, 3, 1, tzinfo=UTC)
N = 3 * NUMERIC_STEP + 17     # several conversion steps and a ragged last one


def _arrays(n=N):
    k = np.arange(n)
    ms = to_ms(T0) + (k + 1) * 1000
    return ms, np.sin(k / 50.0) * 10


def _by_instances(mc, name, ms, vals):
    s = mc.create_stream(name)
    s.writer([StreamInstance(T0 + timedelta(milliseconds=int(m - to_ms(T0))), float(v)) for m, v in zip(ms, vals)])
    return s


@pytest.fixture
def no_instances(monkeypatch):
    """Making instances of columnar batches fails the test (a plot read must not need them)."""
    def refuse(self):
        raise AssertionError("a plot read made StreamInstances of a columnar batch")
    monkeypatch.setattr(Columns, "instances", refuse)


def _interval(a_s: float, b_s: float) -> TimeInterval:
    return TimeInterval(T0 + timedelta(seconds=a_s), T0 + timedelta(seconds=b_s))


# windows with edges on instance times and between them (microseconds), and the whole stream
WINDOWS = [(0, N + 5), (100, 9000.0005), (100.0004, 101.0009), (N - 3, N + 1), (4096.25, 12289.75)]


@pytest.mark.parametrize("write", ["insert_arrays", "write_columns_chunk"])
def test_a_stream_written_as_arrays_is_summarised_from_its_arrays(write, no_instances):
    ms, vals = _arrays()
    mc = MemoryChannel("mem")
    s = mc.create_stream("cols")
    half = N // 2     # two batches: the second appended to the first
    for a, b in ((0, half), (half, N)):
        if write == "insert_arrays":
            s.channel.insert_arrays(s, ms[a:b], vals[a:b])
        else:
            s.channel.write_columns_chunk(s, Columns(ms[a:b], "float", vals[a:b]))
    for a, b in WINDOWS:
        iv = _interval(a, b)
        got_ms, got_v = s.window(iv).columns()
        keep = (ms > to_ms(iv.start)) & (ms <= to_ms(iv.end))
        np.testing.assert_array_equal(got_ms, ms[keep])
        np.testing.assert_array_equal(got_v, vals[keep])
        got = s.window(iv).summary(37)
        want = summarise_arrays(ms, vals, to_ms(iv.start), to_ms(iv.end), 37)
        np.testing.assert_array_equal(got.count, want.count)
        np.testing.assert_allclose(got.mean, want.mean, equal_nan=True)
        np.testing.assert_array_equal(got.min, want.min)
        np.testing.assert_array_equal(got.max, want.max)


def test_arrays_and_instances_give_the_same_plot_reads():
    ms, vals = _arrays()
    mc = MemoryChannel("mem")
    cols = mc.create_stream("cols")
    mc.insert_arrays(cols, ms, vals)
    insts = _by_instances(mc, "insts", ms, vals)
    for a, b in WINDOWS:
        iv = _interval(a, b)
        for s in (cols, insts):
            assert s.window(iv).count() == insts.window(iv).count()
        np.testing.assert_array_equal(cols.window(iv).columns()[0], insts.window(iv).columns()[0])
        np.testing.assert_array_equal(cols.window(iv).columns()[1], insts.window(iv).columns()[1])
        sc, si = cols.window(iv).summary(50), insts.window(iv).summary(50)
        for f in ("count", "min", "max", "first_ms", "last_ms"):
            np.testing.assert_array_equal(getattr(sc, f), getattr(si, f))
        np.testing.assert_allclose(sc.mean, si.mean, equal_nan=True)
    # the instances themselves, once something asks for them, are those the arrays say
    got = cols.window(_interval(0, N + 5)).items()
    assert got == insts.window(_interval(0, N + 5)).items()


def test_int_and_record_columns_plot_as_floats(no_instances):
    ms, _ = _arrays(1000)
    mc = MemoryChannel("mem")
    ints = mc.create_stream("ints")
    mc.write_columns_chunk(ints, Columns(ms, "int", np.arange(1000) * 3))
    np.testing.assert_array_equal(ints.window(_interval(0, 2000)).columns()[1], np.arange(1000) * 3.0)
    rec = mc.create_stream("rec")
    mc.write_columns_chunk(rec, Columns(ms, "record", [np.arange(1000.0), np.arange(1000) * 2], names=["a", "b"]))
    np.testing.assert_array_equal(rec.window(_interval(0, 2000)).columns("b")[1], np.arange(1000) * 2.0)
    assert rec.window(_interval(0, 2000)).summary(10, "a").total == 1000


def test_a_write_after_a_plot_read_shows_in_the_next_one():
    ms, vals = _arrays(2000)
    mc = MemoryChannel("mem")
    s = mc.create_stream("cols")
    mc.insert_arrays(s, ms[:1000], vals[:1000])
    everything = _interval(0, 5000)
    assert s.window(everything).summary(10).total == 1000
    mc.insert_arrays(s, ms[1000:], vals[1000:])               # appended: still columns
    assert s.window(everything).summary(10).total == 2000
    mc.write_chunk(s, [StreamInstance(T0 + timedelta(seconds=0.5), 99.0)])   # before the others: instances
    got_ms, got_v = s.window(everything).columns()
    assert len(got_ms) == 2001 and got_v[0] == 99.0 and got_ms[0] == to_ms(T0) + 500


def test_mixed_values_are_numbers_or_nan_as_before():
    """The quick path for plain numbers must leave every other value to numeric_or_nan (a numeric string is not
    a number, a bool is 0/1, None and dicts are NaN)."""
    values = [1.5, 2, True, None, "1.5", {"a": 1}, float("nan"), -7, 3.25] * (NUMERIC_STEP // 4)
    mc = MemoryChannel("mem")
    s = mc.create_stream("mixed")
    s.writer([StreamInstance(T0 + timedelta(seconds=i + 1), v) for i, v in enumerate(values)])
    _ms, got = mc.numeric_window(s, _interval(0, len(values) + 1))
    want = np.array([numeric_or_nan(v) for v in values])
    np.testing.assert_array_equal(got, want)
    plain = mc.create_stream("plain")            # a whole step of plain numbers, then one that is not
    plain.writer([StreamInstance(T0 + timedelta(seconds=i + 1), v)
                  for i, v in enumerate([1, 2.5, False] * NUMERIC_STEP + ["x"])])
    _ms, got = mc.numeric_window(plain, _interval(0, 4 * NUMERIC_STEP))
    assert np.isnan(got[-1]) and got[:3].tolist() == [1.0, 2.5, 0.0] and not np.isnan(got[:-1]).any()


def test_a_long_window_lists_every_instance_in_order():
    ms, vals = _arrays()
    mc = MemoryChannel("mem")
    s = _by_instances(mc, "insts", ms, vals)
    got = list(s.window(_interval(10.5, N - 10)))
    assert [to_ms(i.timestamp) for i in got] == ms[(ms > to_ms(T0) + 10500) & (ms <= to_ms(T0) + (N - 10) * 1000)].tolist()
    assert [i.value for i in got] == [float(v) for v in vals[10:N - 10]]


def test_reads_of_a_part_of_an_array_stream_make_only_that_parts_instances(monkeypatch):
    """What plotting asks first (first, last, a sample after the first, the count) and then the summary make the
    instances of what they return, never of the whole stream."""
    made = []
    instances = Columns.instances

    def counted(self):
        made.append(len(self))
        return instances(self)
    monkeypatch.setattr(Columns, "instances", counted)
    ms, vals = _arrays()
    mc = MemoryChannel("mem")
    s = mc.create_stream("cols")
    mc.insert_arrays(s, ms[:N // 2], vals[:N // 2])
    mc.insert_arrays(s, ms[N // 2:], vals[N // 2:])
    view = s.window(_interval(0, N + 5))
    first, last = view.first(), view.last()
    assert (to_ms(first.timestamp), first.value) == (ms[0], vals[0])
    assert (to_ms(last.timestamp), last.value) == (ms[-1], vals[-1])
    assert [i.value for i in s.window(_interval(0.5, 40)).head(50)] == vals[:40].tolist()
    assert view.count() == N and s.window(_interval(10, 20)).count() == 10
    assert view.summary(100).total == N
    assert max(made) <= 50
    # the whole window still gives every instance (made once, then kept)
    assert [i.value for i in view] == vals.tolist()
    assert list(view) == view.items()


def test_listing_and_purging_an_array_stream_make_no_instances(no_instances):
    ms, vals = _arrays(1000)
    mc = MemoryChannel("mem")
    s = mc.create_stream("cols")
    mc.insert_arrays(s, ms, vals)
    assert mc.non_empty_streams == [s.stream_id]
    mc.purge_stream(s.stream_id)
    assert mc.non_empty_streams == [] and s.window(_interval(0, 2000)).count() == 0
    purge = mc.list_changes(s.stream_id)[-1]
    assert (to_ms(purge.interval.start), to_ms(purge.interval.end)) == (ms[0] - 1, ms[-1])
