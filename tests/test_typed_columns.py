"""Typed columnar reads (``channel.get_typed_columns``): floats, datetimes and intervals come back as arrays equal to
what the instance read gives; a stream whose window mixes kinds is not columnar (None), and tools then read
instances."""
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import UTC, StreamInstance, TimeInterval
from channels.database_channel import DatabaseChannel
from channels.stores.sqlite_store import SQLiteStore
from channels.utils import to_ms

T0 = datetime(1969, 12, 31, 23, 59, tzinfo=UTC)  # the window crosses the epoch: negative epoch ms too
ALL = TimeInterval(T0 - timedelta(days=1), T0 + timedelta(days=1))


@pytest.fixture
def channel(tmp_path):
    store = SQLiteStore(str(tmp_path / "t.sqlite"))
    yield DatabaseChannel("db", store)
    store.close()


def at(k):
    return T0 + timedelta(seconds=30 * k, milliseconds=k)


def test_datetimes_and_intervals_read_as_arrays_equal_to_the_instances(channel):
    dts = channel.create_stream("dts")
    dts.writer([StreamInstance(at(k), at(k) - timedelta(days=400 * k, milliseconds=7)) for k in range(1, 6)])
    ivs = channel.create_stream("ivs")
    ivs.writer([StreamInstance(at(k), TimeInterval(at(k) - timedelta(hours=k), at(k))) for k in range(1, 6)])
    flt = channel.create_stream("flt")
    flt.writer([StreamInstance(at(k), v) for k, v in enumerate([-0.5, float("nan"), 1e300, -0.0, -3.0], start=1)])

    c = channel.get_typed_columns(dts, ALL)
    assert c.kind == "datetime"
    assert c.ms.tolist() == [to_ms(i.timestamp) for i in dts.window(ALL).items()]
    assert c.values.tolist() == [to_ms(i.value) for i in dts.window(ALL).items()]
    c = channel.get_typed_columns(ivs, ALL)
    assert c.kind == "interval"
    assert c.starts.tolist() == [to_ms(i.value.start) for i in ivs.window(ALL).items()]
    assert c.values.tolist() == [to_ms(i.value.end) for i in ivs.window(ALL).items()]
    c = channel.get_typed_columns(flt, ALL)
    assert c.kind == "float" and np.array_equal(c.values, [-0.5, np.nan, 1e300, -0.0, -3.0], equal_nan=True)
    assert np.signbit(c.values).tolist() == [True, False, False, True, True]  # -0.0 keeps its sign
    # a part of the window only
    part = TimeInterval(at(2), at(4))
    assert channel.get_typed_columns(dts, part).ms.tolist() == [to_ms(at(3)), to_ms(at(4))]


@pytest.mark.parametrize("values", [
    [1.0, at(0)],                                         # float first, then a datetime
    [at(0), 2.0],                                         # datetime first, then a float
    [at(0), TimeInterval(at(-2), at(-1))],                # datetime, then an interval
    [TimeInterval(at(-2), at(-1)), at(0)],                # interval, then a datetime
    [at(0), {"$t": "dt", "ms": 5}],                       # a user dict that looks like a tag
    [TimeInterval(at(-2), at(-1)), "text"],
    [2.0, {"a": 1.0}],
])
def test_a_window_of_mixed_kinds_is_not_columnar(channel, values):
    s = channel.create_stream("mixed")
    s.writer([StreamInstance(at(k), v) for k, v in enumerate(values, start=1)])
    assert channel.get_typed_columns(s, ALL) is None
    # the instance read still gives every value back as written
    assert [i.value for i in s.window(ALL).items()] == values
