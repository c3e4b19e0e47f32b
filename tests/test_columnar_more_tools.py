"""The columnar path of gauss, uniform, randint, component and aligned_merge gives exactly the results of the
instance path (same timestamps, values and value types), on memory and SQLite sinks and over chunked runs; ints
and records (merged dicts/lists) round-trip through every store."""
from __future__ import annotations

import math
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
from channels.utils import UTC, to_ms, utcnow

from stores_fixtures import store  # noqa: F401  (the parametrised fixture)

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "resources", "tools")
T0 = datetime(2024, 5, 1, tzinfo=UTC)
DAY = TimeInterval(T0, T0 + timedelta(days=1))
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
    yield DatabaseChannel("db", store)
    store.close()


def run(tc, name, params, sources, sink, columnar, interval=IV, chunk=None):
    """Run a tool; return, per chunk, whether its columnar path produced the chunk."""
    tool = load_tool(tc, name, params)
    tool.use_columns = columnar
    calls = []
    original = tool._execute_columns

    def spy(*a, **k):
        out = original(*a, **k)
        calls.append(out is not None)
        return out
    tool._execute_columns = spy
    tool.execute(sources, sink, interval, chunk=chunk, history=MemoryRunHistory())
    return calls


def items(stream, interval=IV):
    """(timestamp, value, type of value) with floats by repr, so -0.0 and NaN compare exactly."""
    def key(v):
        if isinstance(v, dict):
            return {k: (repr(x), type(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [(repr(x), type(x)) for x in v]
        return repr(v)
    return [(i.timestamp, key(i.value), type(i.value)) for i in stream.window(interval).items()]


def both_paths(channel, build):
    """``build(tag, columnar)`` on fresh streams for each path; the two results must be equal."""
    out = {}
    for columnar in (True, False):
        out[columnar] = build("c" if columnar else "i", columnar)
    assert out[True] == out[False]
    return out[True]


@pytest.mark.parametrize("name,params", [
    ("gauss", {"mu": 3.0, "sigma": 2.5, "seed": 7}),
    ("uniform", {"low": -1.0, "high": 1e-5, "seed": 3}),
    ("randint", {"low": -5, "high": 1000, "seed": 11}),
])
@pytest.mark.parametrize("chunk", [None, 3 * 3600 + 7])
def test_random_tick_tools_over_a_day_same_results_both_paths(tc, channel, name, params, chunk):
    def build(tag, columnar):
        s = channel.get_or_create_stream(f"{name}_{tag}")
        calls = run(tc, name, dict(params, first=T0, stride=1), [], s, columnar, DAY, chunk)
        assert calls and all(calls) if columnar else not calls
        return items(s, DAY), s.calculated_intervals
    got, _ = both_paths(channel, build)
    assert len(got) == 86400
    want = float if name != "randint" else int
    assert {t for _, _, t in got} == {want}


def test_int_columns_round_trip_through_every_store(store):
    ch = DatabaseChannel("db", store)
    ms = to_ms(T0) + np.arange(1, 200, dtype=np.int64) * 1000
    vals = np.array([0, -1, 2 ** 63 - 1, -(2 ** 63), 2 ** 53 + 1] + list(range(194)), dtype=np.int64)
    cols_s, inst_s = ch.get_or_create_stream("cols"), ch.get_or_create_stream("insts")
    ch.write_columns_chunk(cols_s, Columns(ms, "int", vals), [IV])
    inst_s.writer(Columns(ms, "int", vals).instances())
    a, b = cols_s.window(IV).items(), inst_s.window(IV).items()
    assert a == b and [v for _, v in a] == vals.tolist() and {type(v) for _, v in a} == {int}
    typed = ch.get_typed_columns(cols_s, IV)
    assert typed.kind == "int" and typed.python_values() == vals.tolist()


def dict_source(channel, name, values):
    s = channel.get_or_create_stream(name)
    s.writer([StreamInstance(T0 + timedelta(seconds=i + 1), v) for i, v in enumerate(values)])
    return s


@pytest.mark.parametrize("chunk", [None, 97])
def test_component_with_missing_keys_same_results_both_paths(tc, channel, chunk):
    rng = np.random.default_rng(5)
    values = []
    for i in range(3000):
        r = i % 10
        if r == 3:
            values.append({"b": 1.0})            # no key: skipped
        elif r == 5:
            values.append(float(i))              # not a dict: skipped
        elif r == 7:
            values.append({"a": [-0.0, math.nan, math.inf][i % 3], "b": "text"})
        else:
            values.append({"a": float(rng.normal()), "b": i})

    def build(tag, columnar):
        src = dict_source(channel, f"src_{tag}", values)
        out = channel.get_or_create_stream(f"a_{tag}")
        calls = run(tc, "component", {"key": "a"}, [src], out, columnar, chunk=chunk)
        assert all(calls) if columnar else not calls
        outb = channel.get_or_create_stream(f"b_{tag}")
        callsb = run(tc, "component", {"key": "b"}, [src], outb, columnar, chunk=chunk)
        assert not all(callsb) if columnar else not callsb  # ints and text under "b": the instance path runs
        return items(out), items(outb)
    a, _ = both_paths(channel, build)
    assert len(a) == 2400 and any(v == "-0.0" for _, v, _ in a) and any(v == "nan" for _, v, _ in a)


def test_component_of_ints_and_of_non_numbers(tc, channel):
    def build(tag, columnar):
        src = dict_source(channel, f"src_{tag}", [{"n": i, "s": str(i), "f": True} for i in range(500)])
        res = []
        for key, columnar_ok in (("n", True), ("s", False), ("f", False), ("zz", True)):
            out = channel.get_or_create_stream(f"comp_{key}_{tag}")
            calls = run(tc, "component", {"key": key}, [src], out, columnar)
            assert all(calls) == columnar_ok if columnar else not calls
            res.append(items(out))
        return res
    n, s, f, zz = both_paths(channel, build)
    assert {t for _, _, t in n} == {int} and len(s) == len(f) == 500 and zz == []


@pytest.mark.parametrize("names", [None, ["x", "y", "z"], []])
@pytest.mark.parametrize("chunk", [None, 61])
def test_aligned_merge_partial_overlap_same_results_both_paths(tc, channel, names, chunk):
    def build(tag, columnar):
        u = channel.get_or_create_stream(f"u_{tag}")
        g = channel.get_or_create_stream(f"g_{tag}")
        r = channel.get_or_create_stream(f"r_{tag}")
        run(tc, "uniform", {"first": T0, "stride": 2, "seed": 1}, [], u, columnar)
        run(tc, "gauss", {"first": T0 + timedelta(seconds=1), "stride": 3, "seed": 2}, [], g, columnar)
        run(tc, "randint", {"first": T0, "stride": 5, "low": -3, "high": 3}, [], r, columnar)
        out = channel.get_or_create_stream(f"m_{tag}")
        params = {} if names is None else {"names": names}
        calls = run(tc, "aligned_merge", params, [u, g, r], out, columnar, chunk=chunk)
        assert all(calls) if columnar else not calls
        return items(out)
    got = both_paths(channel, build)
    assert len(got) == 7200 // 30  # timestamps common to strides 2, 3 (offset 1) and 5
    assert {t for _, _, t in got} == {dict if names else list}


def test_aligned_merge_then_component_same_results_both_paths(tc, channel):
    def build(tag, columnar):
        u = channel.get_or_create_stream(f"u_{tag}")
        r = channel.get_or_create_stream(f"r_{tag}")
        run(tc, "uniform", {"first": T0, "stride": 1, "seed": 4}, [], u, columnar)
        run(tc, "randint", {"first": T0, "stride": 2}, [], r, columnar)
        m = channel.get_or_create_stream(f"m_{tag}")
        run(tc, "aligned_merge", {"names": ["u", "r"]}, [u, r], m, columnar, chunk=1000)
        res = []
        for key in ("u", "r", "nope"):
            out = channel.get_or_create_stream(f"comp_{key}_{tag}")
            calls = run(tc, "component", {"key": key}, [m], out, columnar, chunk=777)
            assert all(calls) if columnar else not calls
            res.append(items(out))
        return res
    u, r, nope = both_paths(channel, build)
    assert len(u) == len(r) == 3600 and nope == [] and {t for _, _, t in r} == {int}


def test_aligned_merge_declines_for_values_that_are_not_numbers(tc, channel):
    def build(tag, columnar):
        a = dict_source(channel, f"a_{tag}", [f"t{i}" for i in range(50)])
        b = dict_source(channel, f"b_{tag}", [float(i) for i in range(0, 50)])
        out = channel.get_or_create_stream(f"m_{tag}")
        calls = run(tc, "aligned_merge", {"names": ["a", "b"]}, [a, b], out, columnar)
        assert calls[0] is False if columnar else not calls  # the chunk with the data: the instance path
        return items(out)
    assert len(both_paths(channel, build)) == 50


@pytest.mark.parametrize("escaped", [False, True])
def test_component_on_every_store_same_results_both_paths(tc, store, escaped):
    ch = DatabaseChannel("db", store)
    others = [3.0, [{"a": 1.0}], "a", TimeInterval(T0, T0 + timedelta(seconds=1)), 2 ** 70, {"b": 1}, None]
    values = []
    for i in range(300):
        values.append({"a": [-0.0, math.nan, 0.5 * i][i % 3], "b": i} if i % 2 else others[i // 2 % len(others)])
    if escaped:  # a user dict MongoDB stores escaped (a '$' key), and SQLite too (the tag key)
        values[10] = {"$t": 1, "$x": 2, "a": 9.0}

    def build(tag, columnar):
        src = dict_source(ch, f"src_{tag}", values)
        out = ch.get_or_create_stream(f"comp_{tag}")
        calls = run(tc, "component", {"key": "a"}, [src], out, columnar)
        if columnar and not escaped:
            assert all(calls)
        return items(out)
    got = both_paths(ch, build)
    assert len(got) == 150 + escaped and any(v == "-0.0" for _, v, _ in got)


@pytest.mark.parametrize("func", ["mean", "sum", "max", "count"])
def test_window_aggregates_and_apply_of_ints_same_results_both_paths(tc, channel, func):
    def build(tag, columnar):
        r = channel.get_or_create_stream(f"r_{tag}")
        w = channel.get_or_create_stream(f"w_{tag}")
        a = channel.get_or_create_stream(f"a_{tag}")
        p = channel.get_or_create_stream(f"p_{tag}")
        run(tc, "randint", {"first": T0, "stride": 1, "low": -9, "high": 9}, [], r, columnar)
        run(tc, "sliding_window", {"first": T0, "lower": -60, "upper": 0, "increment": 60}, [], w, columnar)
        agg = load_tool(tc, "aggregate", {"func": func})
        agg.use_columns = columnar
        agg.execute([r], a, IV, alignment_stream=w, history=MemoryRunHistory())
        run(tc, "apply", {"func": "square"}, [r], p, columnar)
        return items(a), items(p)
    a, p = both_paths(channel, build)
    assert len(a) == 120 and len(p) == 7200


def test_int_and_record_columns_as_python_values():
    ms = np.array([1, 2, 3], dtype=np.int64)
    ints = Columns(ms, "int", [5, -(2 ** 63), 2 ** 63 - 1])
    assert ints.python_values() == [5, -(2 ** 63), 2 ** 63 - 1] and {type(v) for v in ints.python_values()} == {int}
    rec = Columns(ms, "record", [np.array([0.5, -0.0, math.inf]), np.array([1, 2, 3], dtype=np.int64)],
                  names=("f", "i"))
    assert [repr(v) for v in rec.python_values()] == ["{'f': 0.5, 'i': 1}", "{'f': -0.0, 'i': 2}",
                                                       "{'f': inf, 'i': 3}"]
    lists = Columns(ms, "record", rec.values)
    assert lists.select(np.array([True, False, True])).python_values() == [[0.5, 1], [math.inf, 3]]
    with pytest.raises(ValueError, match="2 fields but 1 names"):
        Columns(ms, "record", rec.values, names=("f",))
    from channels.columnar import columns_from_instances
    from channels.utils import from_ms
    insts = [(from_ms(10 ** 12 + k), v) for k, v in enumerate([1, 2, 3])]
    assert columns_from_instances(insts).kind == "int"
    assert columns_from_instances(insts[:2] + [(insts[2][0], 2 ** 63)]) is None  # beyond int64
    assert columns_from_instances(insts[:2] + [(insts[2][0], True)]) is None     # a bool is not an int here
