"""Each built-in tool (resources/tools) on known inputs, with the expected outputs worked out by hand."""
import math
import os
from datetime import datetime, timedelta

import pytest

from channels import MemoryChannel, StreamId, StreamInstance, TimeInterval, TimeIntervals, ToolChannel, UTC
from channels.errors import IncorrectInputCountError, ToolExecutionError
from channels.tools.functions import FUNCTIONS, FunctionNotFoundError, function_docs, get_function
from channels.tools import MemoryRunHistory, load_tool
from channels.utils import utcnow

TOOLS = os.path.join(os.path.dirname(__file__), os.pardir, "resources", "tools")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = MemoryRunHistory()


def sec(n):
    return T0 + timedelta(seconds=n)


@pytest.fixture(scope="module")
def tools():
    return ToolChannel("tools", TOOLS, up_to_timestamp=utcnow())


@pytest.fixture
def ch():
    return MemoryChannel("mem")


def stream_with(ch, name, pairs, interval=None):
    s = ch.create_stream(name)
    insts = [StreamInstance(t, v) for t, v in pairs]
    ch.write_chunk(s, insts, TimeIntervals([interval or TimeInterval(T0 - timedelta(days=1), T0 + timedelta(days=1))]))
    return s


def run(tools, name, params, sources, sink, interval, **kw):
    load_tool(tools, name, params).execute(sources, sink, interval, history=H, **kw)
    return sink.window(interval).items()


# -- generators ------------------------------------------------------------------------------------------
def test_clock(tools, ch):
    out = run(tools, "clock", {"first": sec(0), "stride": "2s"}, [], ch.create_stream("c"),
              TimeInterval(sec(-5), sec(9)))
    assert out == [StreamInstance(sec(t), sec(t)) for t in (0, 2, 4, 6, 8)]  # first tick at `first` itself
    out = run(tools, "clock", {"first": sec(0), "stride": 2}, [], ch.create_stream("c2"),
              TimeInterval(sec(4), sec(9)))
    assert [i.timestamp for i in out] == [sec(6), sec(8)]  # 4 is excluded from (4, 9]


def test_sliding_window(tools, ch):
    out = run(tools, "sliding_window", {"first": sec(0), "lower": -60, "upper": 0, "increment": 60}, [],
              ch.create_stream("w"), TimeInterval(sec(0), sec(180)))
    assert out == [StreamInstance(sec(e), TimeInterval(sec(e - 60), sec(e))) for e in (60, 120, 180)]
    # offset windows: (r-90, r-30] for r = first + k*60, only those starting at or after first (k >= 2)
    out = run(tools, "sliding_window", {"first": sec(0), "lower": "-90s", "upper": "-30s", "increment": "1m"}, [],
              ch.create_stream("w2"), TimeInterval(sec(0), sec(200)))
    assert out == [StreamInstance(sec(e), TimeInterval(sec(e - 60), sec(e))) for e in (90, 150)]


def test_sliding_window_rejects_lower_not_below_upper(tools):
    with pytest.raises(Exception) as err:
        load_tool(tools, "sliding_window", {"lower": 0, "upper": 0})
    assert "lower" in str(err.value)


def test_clock_window_mean_pipeline_over_an_hour(tools, ch):
    hour = TimeInterval(sec(0), sec(3600))
    clock, windows, means = ch.create_stream("clock"), ch.create_stream("win"), ch.create_stream("mean")
    load_tool(tools, "clock", {"first": sec(0), "stride": 1}).execute([], clock, hour, history=H)
    load_tool(tools, "sliding_window", {"first": sec(0), "lower": -60, "upper": 0, "increment": 60}).execute(
        [], windows, hour, history=H)
    load_tool(tools, "aggregate", {"func": "mean"}).execute([clock], means, hour, alignment_stream=windows,
                                                            chunk=timedelta(minutes=7), history=H)
    out = means.window(hour).items()
    # the window ending at e holds the ticks e-59 s ... e, whose mean is e - 29.5 s
    assert out == [StreamInstance(sec(60 * k), sec(60 * k) - timedelta(seconds=29.5)) for k in range(1, 61)]
    # the same over numbers: epoch seconds of each tick, mean per window = epoch(e) - 29.5
    nums, num_means = ch.create_stream("nums"), ch.create_stream("num_means")
    load_tool(tools, "apply", {"func": "epoch_seconds"}).execute([clock], nums, hour, history=H)
    load_tool(tools, "sliding_apply", {"func": "mean"}).execute([windows, nums], num_means, hour, history=H)
    epoch0 = (T0 - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    assert num_means.window(hour).values() == [epoch0 + 60 * k - 29.5 for k in range(1, 61)]


# -- window functions -----------------------------------------------------------------------------------
@pytest.fixture
def data_and_windows(ch):
    # windows (0,10], (10,20], (20,30]; data: 1,2,3 in the first, "x" and None only in the second, 4 and 10 in the third
    data = stream_with(ch, "data", [(sec(1), 1), (sec(5), 2.0), (sec(10), 3), (sec(12), "x"), (sec(15), None),
                                    (sec(25), 4), (sec(30), 10)])
    windows = stream_with(ch, "windows", [(sec(e), TimeInterval(sec(e - 10), sec(e))) for e in (10, 20, 30)])
    return data, windows


@pytest.mark.parametrize("func, expected", [
    ("mean", [2.0, 7.0]), ("sum", [6, 14]), ("min", [1, 4]), ("max", [3, 10]), ("median", [2.0, 7.0]),
    ("range", [2, 6]), ("std", [math.sqrt(2 / 3), 3.0]), ("var", [2 / 3, 9.0]),
])
def test_aggregate_numeric_functions(tools, ch, data_and_windows, func, expected):
    data, windows = data_and_windows
    out = run(tools, "aggregate", {"func": func}, [data], ch.create_stream("agg"), TimeInterval(sec(0), sec(30)),
              alignment_stream=windows)
    assert [i.timestamp for i in out] == [sec(10), sec(30)]  # the middle window has no numbers -> None -> skipped
    assert [i.value for i in out] == pytest.approx(expected)


def test_aggregate_any_type_functions_and_empty_windows(tools, ch, data_and_windows):
    data, windows = data_and_windows
    iv = TimeInterval(sec(0), sec(30))
    assert run(tools, "aggregate", {"func": "count"}, [data], ch.create_stream("n"), iv,
               alignment_stream=windows) == [StreamInstance(sec(10), 3), StreamInstance(sec(20), 1),
                                              StreamInstance(sec(30), 2)]
    assert run(tools, "aggregate", {"func": "last"}, [data, windows], ch.create_stream("l"), iv) == [
        StreamInstance(sec(10), 3), StreamInstance(sec(30), 10)]  # the middle window's last value is None
    assert run(tools, "aggregate", {"func": "first", "include_empty": "true"}, [data], ch.create_stream("f"), iv,
               alignment_stream=windows) == [StreamInstance(sec(10), 1), StreamInstance(sec(20), "x"),
                                             StreamInstance(sec(30), 4)]
    assert run(tools, "aggregate", {"func": "mean", "include_empty": True}, [data], ch.create_stream("m"), iv,
               alignment_stream=windows) == [StreamInstance(sec(10), 2.0), StreamInstance(sec(20), None),
                                             StreamInstance(sec(30), 7.0)]


def test_aggregate_needs_windows(tools, ch, data_and_windows):
    data, _ = data_and_windows
    with pytest.raises(IncorrectInputCountError, match="alignment"):
        load_tool(tools, "aggregate", {}).execute([data], ch.create_stream("x"), TimeInterval(sec(0), sec(30)),
                                                  history=H)
    with pytest.raises(ToolExecutionError, match="expected a TimeInterval"):
        load_tool(tools, "aggregate", {}).execute([data], ch.create_stream("y"), TimeInterval(sec(0), sec(30)),
                                                  alignment_stream=data, history=H)


def test_sliding_apply_is_windows_then_data(tools, ch, data_and_windows):
    data, windows = data_and_windows
    out = run(tools, "sliding_apply", {"func": "max"}, [windows, data], ch.create_stream("sa"),
              TimeInterval(sec(0), sec(30)))
    assert out == [StreamInstance(sec(10), 3), StreamInstance(sec(30), 10)]
    with pytest.raises(IncorrectInputCountError):
        load_tool(tools, "sliding_apply", {}).execute([windows], ch.create_stream("z"),
                                                      TimeInterval(sec(0), sec(30)), history=H)


# -- per-instance tools ------------------------------------------------------------------------------------
def test_apply(tools, ch):
    src = stream_with(ch, "src", [(sec(1), -4), (sec(2), 9.0), (sec(3), "text"), (sec(4), True)])
    iv = TimeInterval(sec(0), sec(10))
    assert run(tools, "apply", {"func": "abs"}, [src], ch.create_stream("a"), iv) == [
        StreamInstance(sec(1), 4), StreamInstance(sec(2), 9.0)]
    assert run(tools, "apply", {"func": "sqrt", "drop_none": "false"}, [src], ch.create_stream("b"), iv) == [
        StreamInstance(sec(1), None), StreamInstance(sec(2), 3.0), StreamInstance(sec(3), None),
        StreamInstance(sec(4), None)]
    assert run(tools, "apply", {"func": "bool_to_int"}, [src], ch.create_stream("c"), iv) == [
        StreamInstance(sec(4), 1)]


def test_component_and_component_filter(tools, ch):
    src = stream_with(ch, "src", [(sec(1), {"room": "kitchen", "t": 20.5}), (sec(2), {"room": 1, "t": 19}),
                                  (sec(3), {"t": 18}), (sec(4), 7), (sec(5), {"room": "hall", "t": 21})])
    iv = TimeInterval(sec(0), sec(10))
    assert run(tools, "component", {"key": "room"}, [src], ch.create_stream("a"), iv) == [
        StreamInstance(sec(1), "kitchen"), StreamInstance(sec(2), 1), StreamInstance(sec(5), "hall")]
    assert [i.timestamp for i in run(tools, "component_filter", {"key": "room", "values": "kitchen, 1"}, [src],
                                     ch.create_stream("b"), iv)] == [sec(1), sec(2)]
    assert run(tools, "component_filter", {"key": "room", "values": ["kitchen", "1"], "complement": True}, [src],
               ch.create_stream("c"), iv) == [StreamInstance(sec(5), {"room": "hall", "t": 21})]


def test_aligned_merge(tools, ch):
    a = stream_with(ch, "a", [(sec(1), 1), (sec(2), 2), (sec(3), 3)])
    b = stream_with(ch, "b", [(sec(2), "two"), (sec(3), "three"), (sec(4), "four")])
    iv = TimeInterval(sec(0), sec(10))
    assert run(tools, "aligned_merge", {"names": '["x", "y"]'}, [a, b], ch.create_stream("m"), iv) == [
        StreamInstance(sec(2), {"x": 2, "y": "two"}), StreamInstance(sec(3), {"x": 3, "y": "three"})]
    assert run(tools, "aligned_merge", {}, [a, b], ch.create_stream("m2"), iv) == [
        StreamInstance(sec(2), [2, "two"]), StreamInstance(sec(3), [3, "three"])]
    with pytest.raises(IncorrectInputCountError, match="expects 3 input streams, got 2"):
        load_tool(tools, "aligned_merge", {"names": ["x", "y", "z"]}).execute([a, b], ch.create_stream("m3"), iv,
                                                                             history=H)


def test_splitter_writes_sibling_streams(tools, ch):
    src = stream_with(ch, "src", [(sec(1), {"room": "kitchen", "t": 20}), (sec(2), {"room": "hall", "t": 19}),
                                  (sec(3), {"t": 18}), (sec(4), {"room": "kitchen", "t": 21}),
                                  (sec(15), {"room": "attic", "t": 5})])
    sink = ch.create_stream(StreamId("temp", {"house": "1"}))
    iv = TimeInterval(sec(0), sec(20))
    run_ = load_tool(tools, "splitter", {"element": "room"}).execute([src], sink, iv, chunk=10, history=H)
    kitchen = ch[StreamId("temp", {"house": "1", "room": "kitchen"})]
    hall = ch[StreamId("temp", {"room": "hall", "house": "1"})]
    attic = ch[StreamId("temp", {"house": "1", "room": "attic"})]
    assert kitchen.window(iv).items() == [StreamInstance(sec(1), {"t": 20}), StreamInstance(sec(4), {"t": 21})]
    assert hall.window(iv).items() == [StreamInstance(sec(2), {"t": 19})]
    assert attic.window(iv).items() == [StreamInstance(sec(15), {"t": 5})]
    assert sink.window(iv).items() == []
    assert run_.instances_written == 4
    everything = TimeIntervals([iv])
    assert sink.calculated_intervals == everything
    assert kitchen.calculated_intervals == everything and hall.calculated_intervals == everything
    assert attic.calculated_intervals == everything  # first seen in the second chunk, computed over both
    # mapping: only mapped values, renamed; meta key chosen
    sink2 = ch.create_stream("t2")
    load_tool(tools, "splitter", {"element": "room", "mapping": '{"kitchen": "k"}', "meta_key": "area"}).execute(
        [src], sink2, iv, history=H)
    assert ch[StreamId("t2", {"area": "k"})].window(iv).values() == [{"t": 20}, {"t": 21}]
    assert [s.stream_id for s in ch.find_streams(name="t2")] == [StreamId("t2"), StreamId("t2", {"area": "k"})]


def test_csv_reader(tools, ch, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text("time,temp,label\n"
                    "2026-01-01T00:00:05Z,20.5,a\n"
                    "2026-01-01 01:00:10,21,b\n"       # no offset: read in the given zone (UTC+1 here)
                    "2026-01-01T00:00:30+00:00,,c\n"
                    "2026-01-01T02:00:00Z,99,outside\n")
    iv = TimeInterval(sec(0), sec(60))
    out = run(tools, "csv_reader", {"path": str(path), "timestamp_column": "time", "time_zone": "Europe/Paris",
                                    "value_columns": "temp"}, [], ch.create_stream("a"), iv)
    assert out == [StreamInstance(sec(5), 20.5), StreamInstance(sec(10), 21.0), StreamInstance(sec(30), None)]
    out = run(tools, "csv_reader", {"path": str(path), "timestamp_column": "time", "time_zone": "Europe/Paris"}, [],
              ch.create_stream("b"), TimeInterval(sec(0), sec(7)))
    assert out == [StreamInstance(sec(5), {"temp": 20.5, "label": "a"})]
    fmt = tmp_path / "fmt.csv"
    fmt.write_text("when;v\n01/01/2026 00:00:02;1\n01/01/2026 00:00:03;2\n")
    out = run(tools, "csv_reader", {"path": str(fmt), "timestamp_column": "when", "delimiter": ";",
                                    "timestamp_format": "%d/%m/%Y %H:%M:%S", "as_dict": True}, [],
              ch.create_stream("c"), TimeInterval(sec(0), sec(60)))
    assert out == [StreamInstance(sec(2), {"v": 1.0}), StreamInstance(sec(3), {"v": 2.0})]
    with pytest.raises(ToolExecutionError, match="no column 'timestamp'"):
        load_tool(tools, "csv_reader", {"path": str(path)}).execute([], ch.create_stream("d"), iv, history=H)


# -- random generators --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params", [
    ("gauss", {"mu": 10, "sigma": 2}), ("uniform", {"low": -1, "high": 1}), ("randint", {"low": 1, "high": 6}),
])
def test_random_tools_are_deterministic_and_chunking_independent(tools, name, params):
    iv = TimeInterval(sec(0), sec(600))
    results = []
    for seed, chunk in ((7, None), (7, 7), (7, timedelta(seconds=61)), (8, None)):
        ch = MemoryChannel("r")
        sink = ch.create_stream("s")
        load_tool(tools, name, dict(params, seed=seed, stride="1s")).execute([], sink, iv, chunk=chunk, history=H)
        results.append(sink.window(iv).items())
    assert len(results[0]) == 600
    assert results[0] == results[1] == results[2]
    assert [i.value for i in results[0]] != [i.value for i in results[3]]  # another seed, another stream


def test_random_tool_distributions(tools):
    iv = TimeInterval(sec(0), sec(20000))
    values = {}
    for name, params in (("gauss", {"mu": 10, "sigma": 2}), ("uniform", {"low": -1, "high": 1}),
                         ("randint", {"low": 1, "high": 6})):
        sink = MemoryChannel("r").create_stream("s")
        load_tool(tools, name, dict(params, seed=1)).execute([], sink, iv, history=H)
        values[name] = sink.window(iv).values()
    g = values["gauss"]
    assert abs(get_function("mean")(g) - 10) < 0.1 and abs(get_function("std")(g) - 2) < 0.1
    u = values["uniform"]
    assert min(u) >= -1 and max(u) < 1 and abs(get_function("mean")(u)) < 0.05
    r = values["randint"]
    assert set(r) == {1, 2, 3, 4, 5, 6} and all(isinstance(v, int) for v in r)


# -- the function registry ------------------------------------------------------------------------------------
def test_function_registry():
    assert get_function("mean")([]) is None and get_function("sum")([]) is None and get_function("max")([]) is None
    assert get_function("count")([]) == 0 and get_function("first")([]) is None
    assert get_function("mean")([1, "a", None, {"x": 1}, 3, True, float("nan")]) == 2.0  # non-numbers ignored
    assert get_function("median")([5, 1, 4, 2]) == 3.0
    assert get_function("round")(2.5) == 2 and get_function("log")(0) is None and get_function("negate")("x") is None
    with pytest.raises(FunctionNotFoundError) as err:
        get_function("average")
    assert "'average'" in str(err.value) and "mean" in str(err.value) and "median" in str(err.value)
    with pytest.raises(FunctionNotFoundError):
        get_function("abs", "aggregate")
    docs = function_docs()
    assert set(docs) == set(FUNCTIONS) and all(docs.values())
    assert {"mean", "sum", "min", "max", "median", "std", "var", "count", "first", "last", "range"} <= set(
        function_docs("aggregate"))


def test_every_builtin_tool_says_how_many_inputs_it_takes(tools):
    """A declared count (check_input_stream_count) or, for tools that accept alternatives, Tool.inputs_doc."""
    from channels.tools import Tool
    assert Tool.inputs_doc is None
    names = sorted(tools.list_tools())
    assert {"aggregate", "aligned_merge", "clock", "sliding_apply"} <= set(names)
    for name in names:
        cls = tools.get_tool_class(name)
        count = getattr(cls._execute, "expected_input_count", None)
        doc = cls.inputs_doc
        assert (count is None) != (doc is None), f"{name}: count {count!r}, inputs_doc {doc!r}"
        assert doc is None or (isinstance(doc, str) and doc.strip()), name
    assert tools.get_tool_class("aggregate").inputs_doc == \
        "1 data stream + windows as alignment stream, or 2 streams: data, windows"
    assert tools.get_tool_class("aligned_merge").inputs_doc.startswith("1 or more streams sharing timestamps")
