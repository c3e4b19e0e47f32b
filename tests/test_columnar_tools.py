"""Columnar tool execution gives exactly the results of the instance path (same inputs, several chunkings).

The columnar path (``Tool._execute_columns``) runs when the tool has it and every input's and the sink's
channel supports columns; ``tool.use_columns = False`` forces the instance path for comparison.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels import MemoryChannel, TimeInterval, ToolChannel
from channels.columnar import Columns
from channels.database_channel import DatabaseChannel
from channels.stores.sqlite_store import SQLiteStore
from channels.stream import StreamInstance
from channels.tools import MemoryRunHistory, load_tool
from channels.utils import UTC, utcnow

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "resources", "tools")
T0 = datetime(2024, 5, 1, tzinfo=UTC)
IV = TimeInterval(T0, T0 + timedelta(hours=2))


@pytest.fixture(scope="module")
def tc():
    return ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())


@pytest.fixture(params=["memory", "sqlite"])
def channel(request, tmp_path):
    if request.param == "memory":
        yield MemoryChannel("memory")
        return
    store = SQLiteStore(tmp_path / "s.sqlite")
    yield DatabaseChannel("mongo", store)
    store.close()


def run(tc, name, params, sources, sink, columnar, chunk=None, alignment=None, calls=None):
    tool = load_tool(tc, name, params)
    tool.use_columns = columnar
    if calls is not None:
        original = tool._execute_columns

        def spy(*a, **k):
            out = original(*a, **k)
            calls.append(out is not None)
            return out
        tool._execute_columns = spy
    tool.execute(sources, sink, IV, alignment_stream=alignment, chunk=chunk, history=MemoryRunHistory())


def items(stream):
    return [(i.timestamp, i.value, type(i.value)) for i in stream.window(IV).items()]


@pytest.mark.parametrize("chunk", [None, 7, 600])
@pytest.mark.parametrize("func", ["mean", "min", "max", "first", "last", "sum", "count"])
def test_clock_windows_aggregate_same_results_both_paths(tc, channel, chunk, func):
    out = {}
    for columnar in (True, False):
        tag = "c" if columnar else "i"
        clock = channel.get_or_create_stream(f"clock_{tag}")
        wins = channel.get_or_create_stream(f"wins_{tag}")
        means = channel.get_or_create_stream(f"agg_{tag}")
        calls = []
        run(tc, "clock", {"first": T0, "stride": 3}, [], clock, columnar, chunk, calls=calls)
        run(tc, "sliding_window", {"first": T0, "lower": -50, "upper": 10, "increment": 45}, [], wins, columnar,
            chunk)
        run(tc, "aggregate", {"func": func}, [clock], means, columnar, chunk, alignment=wins)
        if columnar:
            assert calls and all(calls), "the columnar path did not run for clock"
        else:
            assert not calls
        out[tag] = (items(clock), items(wins), items(means), clock.calculated_intervals,
                    means.calculated_intervals)
    assert out["c"] == out["i"]
    assert len(out["c"][2]) > 100 or func == "sum"  # sum ignores datetimes: nothing either way


@pytest.mark.parametrize("func", ["mean", "max", "median", "count"])
def test_sliding_apply_on_float_data_same_results_both_paths(tc, channel, func):
    out = {}
    rng = np.random.default_rng(1)
    for columnar in (True, False):
        tag = "c" if columnar else "i"
        data = channel.get_or_create_stream(f"data_{tag}")
        ms = np.arange(1, 7200, 2)
        vals = rng.normal(0, 1, len(ms))
        vals[::17] = np.nan
        data.writer([StreamInstance(T0 + timedelta(seconds=int(s)), float(v)) for s, v in zip(ms, vals)])
        rng = np.random.default_rng(1)
        wins = channel.get_or_create_stream(f"wins_{tag}")
        res = channel.get_or_create_stream(f"res_{tag}")
        run(tc, "sliding_window", {"first": T0, "lower": -60, "upper": 0, "increment": 30}, [], wins, columnar)
        run(tc, "sliding_apply", {"func": func}, [wins, data], res, columnar, chunk=500)
        out[tag] = items(res)
    assert out["c"] == out["i"] and len(out["c"]) > 100


def test_columnar_output_outside_the_chunk_is_an_error(tc):
    from channels.errors import ToolExecutionError
    ch = MemoryChannel("memory")
    sink = ch.get_or_create_stream("bad")
    tool = load_tool(tc, "clock", {"first": T0, "stride": 60})
    tool._execute_columns = lambda sources, alignment_stream, interval: Columns(
        np.array([0], dtype=np.int64), "float", np.array([1.0]))
    with pytest.raises(ToolExecutionError, match="outside the interval"):
        tool.execute([], sink, IV, history=MemoryRunHistory())
    assert sink.window(IV).count() == 0 and sink.calculated_intervals.is_empty


def test_memory_columns_are_made_instances_lazily_and_reads_agree(tc):
    ch = MemoryChannel("memory")
    clock = ch.get_or_create_stream("clock")
    run(tc, "clock", {"first": T0, "stride": 1}, [], clock, True)
    view = clock.window(TimeInterval(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)))
    assert view.count() == 600
    first = view.first()
    assert first.timestamp == T0 + timedelta(minutes=10, seconds=1) and first.value == first.timestamp
    assert first.timestamp.tzinfo is UTC
    # a later instance write in the middle (same value) is a no-op; a different value is refused
    assert clock.writer([StreamInstance(first.timestamp, first.value)]) == 0
    from channels.errors import DuplicateInstanceError
    with pytest.raises(DuplicateInstanceError):
        clock.writer([StreamInstance(first.timestamp, 1.0)])


@pytest.mark.parametrize("func", ["epoch_seconds", "identity", "sqrt", "round"])
def test_apply_same_results_both_paths(tc, channel, func):
    out = {}
    for columnar in (True, False):
        tag = "c" if columnar else "i"
        clock = channel.get_or_create_stream(f"clock_{tag}")
        secs = channel.get_or_create_stream(f"secs_{tag}")
        res = channel.get_or_create_stream(f"res_{tag}")
        run(tc, "clock", {"first": T0, "stride": 1.5}, [], clock, columnar, chunk=333)
        run(tc, "apply", {"func": "epoch_seconds"}, [clock], secs, columnar, chunk=333)
        neg = channel.get_or_create_stream(f"neg_{tag}")
        run(tc, "apply", {"func": "negate"}, [secs], neg, columnar)
        run(tc, "apply", {"func": func}, [neg if func == "sqrt" else secs], res, columnar)
        out[tag] = (items(secs), items(neg), items(res))
    assert out["c"] == out["i"] and len(out["c"][0]) == 4800
