"""HyperStream code runs unchanged: stand-in names, plate-style tools, naive datetimes, interval arithmetic.

Each test writes its own small plugin in HyperStream's layout ``<plugin>/tools/<tool>/<date>_v<semver>.py``.
"""
import sys
import textwrap
from datetime import datetime, timedelta

import pytest

import channels.tools  # noqa: F401  (installs the import hook)
from channels import (MemoryChannel, RelativeTimeInterval, StreamId, StreamInstance, TimeError, TimeInterval,
                      TimeIntervals, ToolChannel, UTC)
from channels.tools import MemoryRunHistory, load_tool
from channels.hyperstream.compat import hyperstream_names
from channels.utils import utcnow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sec(s):
    return T0 + timedelta(seconds=s)


def plugin_channel(tmp_path, files: dict) -> ToolChannel:
    tools = tmp_path / "my_plugin" / "tools"
    for name, source in files.items():
        (tools / name).mkdir(parents=True)
        (tools / name / "2017-06-12_v0.1.0.py").write_text(textwrap.dedent(source))
    return ToolChannel("my_plugin_tools", str(tools), up_to_timestamp=utcnow())


# The public names of HyperStream 0.3.8's modules (listed from the installed package with dir()).
HS_NAMES = {
    "hyperstream": "AggregateTool ChannelAlreadyExistsError ChannelManager ChannelNotFoundError Client DatabaseStream "
                   "FactorAlreadyExistsError FactorDefinitionError HyperStream HyperStreamConfig "
                   "IncompatiblePlatesError LinkageError MIN_DATE MultiOutputTool MultipleStreamsFoundError "
                   "NodeAlreadyExistsError OnlineEngine PlateCreationTool PlateDefinitionError PlateEmptyError "
                   "PlateManager RelativeTimeInterval SelectorTool Stream StreamAlreadyExistsError "
                   "StreamDataNotAvailableError StreamDict StreamId StreamInstance StreamInstanceCollection "
                   "StreamMetaInstance StreamNotAvailableError StreamNotFoundError StreamView TimeInterval "
                   "TimeIntervals Tool ToolExecutionError ToolNotFoundError UTC Workflow WorkflowManager",
    "hyperstream.utils": "ChannelAlreadyExistsError ChannelNotFoundError ConfigurationError FactorAlreadyExistsError "
                         "FactorContainer FactorDefinitionError FrozenKeyDict Hashable HyperStreamLogger "
                         "IncompatiblePlatesError IncompatibleToolError LinkageError MAX_DATE MIN_DATE MetaDataTree "
                         "MultipleStreamsFoundError NodeAlreadyExistsError NodeDefinitionError PlateDefinitionError "
                         "PlateEmptyError PlateNotFoundError PluginContainer PluginWrapper Printable Singleton "
                         "StreamAlreadyExistsError StreamDataNotAvailableError StreamNotAvailableError "
                         "StreamNotFoundError ToolContainer ToolExecutionError ToolInitialisationError "
                         "ToolNotFoundError TypedBiDict TypedFrozenKeyDict UTC camel_to_snake "
                         "check_input_stream_count check_output_format check_tool_defined construct_experiment_id "
                         "datetime2unix duration2str func_dump func_load get_timedelta handle_exception histogram "
                         "is_naive percentile reconstruct_interval remove_microseconds snake_to_camel timeit touch "
                         "unix2datetime utcnow",
    "hyperstream.stream": "AssetStream DatabaseStream Stream StreamDict StreamId StreamInstance "
                          "StreamInstanceCollection StreamMetaInstance StreamView get_stream_id",
    "hyperstream.tool": "AggregateTool BaseTool MultiOutputTool PlateCreationTool SelectorTool Tool "
                        "check_input_stream_count",
    "hyperstream.time_interval": "MAX_DATE MIN_DATE Printable RelativeTimeInterval TimeInterval TimeIntervals UTC "
                                 "date datetime get_timedelta is_naive namedtuple parse_time_tuple profile "
                                 "remove_microseconds timedelta utcnow",
    "hyperstream.channels": "AssetsChannel AssetsFileChannel BaseChannel ChannelManager DatabaseChannel FileChannel "
                            "MemoryChannel ModuleChannel ReadOnlyMemoryChannel ToolChannel",
}


def test_stand_in_offers_every_public_name_of_hyperstream_0_3_8():
    import importlib
    with hyperstream_names():
        for mod_name, names in HS_NAMES.items():
            mod = importlib.import_module(mod_name)
            missing = [n for n in names.split() if not hasattr(mod, n)]
            assert missing == [], f"{mod_name} lacks {missing}"
        import hyperstream
        from hyperstream import ToolExecutionError
        from hyperstream.utils import histogram, percentile
        assert issubclass(ToolExecutionError, channels.errors.ToolExecutionError)
        assert percentile([[10, 7, 4], [3, 2, 1]], 50) == 3.5 and percentile(list(range(40)), 25) == 9.75
        assert percentile([1, 2, 3], [0, 100]) == [1.0, 3.0] and percentile([], 5) is None
        assert histogram([0.5, 1.5, 1.7, 2.5], [0, 1, 2, 3])[0][:2] == [1, 2]
        # session, plates and workflows import, and say clearly that they are not supported when used
        with pytest.raises(hyperstream.NotSupportedError, match="workflows are not supported"):
            hyperstream.Workflow()
        with pytest.raises(NotImplementedError, match="HyperStream session"):
            hyperstream.HyperStream()


def test_stream_instance_collection_refuses_a_second_value():
    with hyperstream_names():
        from hyperstream import StreamInstanceCollection, StreamInstance
        c = StreamInstanceCollection()
        c.extend([StreamInstance(sec(1), 1), StreamInstance(sec(2), 2), StreamInstance(sec(1), 1)])
        assert c == {sec(1): 1, sec(2): 2}
        with pytest.raises(KeyError, match="already been set"):
            c.append(StreamInstance(sec(1), 5))


PLATE_TOOLS = {
    # HyperStream's splitter shape: the output plate's meta_data_id comes from the caller
    "my_splitter": '''
        from copy import deepcopy
        from hyperstream.tool import MultiOutputTool
        from hyperstream.stream import StreamMetaInstance

        class MySplitter(MultiOutputTool):
            def __init__(self, element, mapping):
                super(MySplitter, self).__init__(element=element, mapping=mapping)

            def _execute(self, source, splitting_stream, interval, meta_data_id, output_plate_values):
                for timestamp, value in source.window(interval, force_calculation=True):
                    value = deepcopy(value)
                    key = str(value.pop(self.element))
                    if key in self.mapping:
                        yield StreamMetaInstance((timestamp, value), (meta_data_id, self.mapping[key]))
    ''',
    # stream_broadcaster's shape: one copy per output plate value
    "my_broadcaster": '''
        from hyperstream.tool import MultiOutputTool
        from hyperstream.stream import StreamInstance, StreamMetaInstance

        class MyBroadcaster(MultiOutputTool):
            def __init__(self, factor=1):
                super(MyBroadcaster, self).__init__(factor=factor)

            def _execute(self, source, splitting_stream, interval, meta_data_id, output_plate_values):
                for doc in source.window(interval, force_calculation=True):
                    for vv in output_plate_values:
                        yield StreamMetaInstance(StreamInstance(doc.timestamp, doc.value * self.factor), vv)
    ''',
    # index_of's shape
    "my_index_of": '''
        from hyperstream.tool import SelectorTool
        from hyperstream.stream import StreamMetaInstance

        class MyIndexOf(SelectorTool):
            def __init__(self, index, selector_meta_data):
                super(MyIndexOf, self).__init__(index=index, selector_meta_data=selector_meta_data)

            def _execute(self, sources, interval):
                for source in sources:
                    if (self.selector_meta_data, self.index) in source.stream_id.meta_data:
                        meta = tuple(x for x in source.stream_id.meta_data if x != (self.selector_meta_data, self.index))
                        for item in source.window(interval, force_calculation=True):
                            yield StreamMetaInstance(item, meta)
    ''',
}


def test_plate_style_multi_output_tool_writes_one_stream_per_plate_value(tmp_path):
    tc = plugin_channel(tmp_path, PLATE_TOOLS)
    mem = MemoryChannel("mem")
    src = mem.create_stream(StreamId("readings"))
    src.writer([StreamInstance(sec(i), {"room": r, "v": i}) for i, r in enumerate("kbkxk", start=1)])
    splitter = load_tool(tc, "my_splitter", {"element": "room", "mapping": {"k": "kitchen", "b": "bath", "x": "x"}},
                         coerce=False)
    sink = mem.create_stream(StreamId("split"))
    interval = TimeInterval(T0, sec(10))
    history = MemoryRunHistory()
    run = splitter.execute([src], sink, interval, meta_data_id="room", output_plate_values=["kitchen", "bath"],
                           history=history)
    kitchen = mem[StreamId("split", {"room": "kitchen"})]
    bath = mem[StreamId("split", {"room": "bath"})]
    assert kitchen.window(interval).items() == [StreamInstance(sec(i), {"v": i}) for i in (1, 3, 5)]
    assert bath.window(interval).items() == [StreamInstance(sec(2), {"v": 2})]
    assert StreamId("split", {"room": "x"}) not in mem  # "x" is not a value of the output plate: not written
    assert run.outcome == "ok" and run.instances_written == 4
    # the input was written with ``writer`` (no calculated intervals): it counts as calculated from its first to
    # its last instance, and the outputs are marked calculated only there (issue 26 item 4)
    assert kitchen.calculated_intervals == bath.calculated_intervals == TimeIntervals(
        [TimeInterval(sec(1) - timedelta(milliseconds=1), sec(5))])
    # only-missing: running again computes nothing
    assert splitter.execute([src], sink, interval, meta_data_id="room", output_plate_values=["kitchen", "bath"],
                            history=history).instances_written == 0

    # HyperStream's own call: execute(source, splitting_stream, sinks, interval, meta_data_id, output_plate_values)
    broadcaster = load_tool(tc, "my_broadcaster", {"factor": 10}, coerce=False)
    numbers = mem.create_stream(StreamId("numbers"))
    numbers.writer([StreamInstance(sec(i), i) for i in (1, 2)])
    sinks = [mem.create_stream(StreamId("copies", {"house": h})) for h in ("1", "2")]
    broadcaster.execute(numbers, None, sinks, interval, "house", [(("house", "1"),), (("house", "2"),)])
    for s in sinks:
        assert s.window(interval).items() == [StreamInstance(sec(1), 10), StreamInstance(sec(2), 20)]
        # ``numbers`` was written with ``writer``: calculated only from its first to its last instance (issue 26)
        assert s.calculated_intervals == TimeIntervals([TimeInterval(sec(1) - timedelta(milliseconds=1), sec(2))])


def test_selector_tool_selects_one_plate_value(tmp_path):
    tc = plugin_channel(tmp_path, PLATE_TOOLS)
    mem = MemoryChannel("mem")
    sources = []
    for h in ("1", "2"):
        for r in ("alice", "bob"):
            s = mem.create_stream(StreamId("steps", {"house": h, "resident": r}))
            s.writer([StreamInstance(sec(1), f"{h}-{r}")])
            sources.append(s)
    tool = load_tool(tc, "my_index_of", {"index": "2", "selector_meta_data": "house"}, coerce=False)
    interval = TimeInterval(T0, sec(5))
    tool.execute(sources, mem.create_stream(StreamId("house2")), interval, history=MemoryRunHistory())
    assert mem[StreamId("house2", {"resident": "alice"})].window(interval).values() == ["2-alice"]
    assert mem[StreamId("house2", {"resident": "bob"})].window(interval).values() == ["2-bob"]
    # HyperStream's call with a list of sinks: only those sinks are written
    sinks = [mem.create_stream(StreamId("h1", {"resident": "bob"}))]
    load_tool(tc, "my_index_of", {"index": "1", "selector_meta_data": "house"}, coerce=False).execute(
        sources, sinks, interval, history=MemoryRunHistory())
    assert sinks[0].window(interval).values() == ["1-bob"]
    assert StreamId("h1", {"resident": "alice"}) not in mem


NAIVE_TOOL = {
    "naive_clock": '''
        from datetime import datetime, timedelta
        from hyperstream.tool import Tool, check_input_stream_count
        from hyperstream.stream import StreamInstance
        from hyperstream import TimeInterval

        class NaiveClock(Tool):
            def __init__(self, first=datetime(2026, 1, 1)):          # naive: UTC, as in HyperStream
                super(NaiveClock, self).__init__(first=first)

            @check_input_stream_count(0)
            def _execute(self, sources, alignment_stream, interval):
                whole = TimeInterval(datetime(2026, 1, 1), datetime(2026, 1, 2))   # naive ends
                assert interval.start in whole or interval.start == whole.start
                if interval.start < self.first.replace(tzinfo=interval.start.tzinfo):
                    interval.start = self.first                                      # naive assignment
                t = datetime(2026, 1, 1) + timedelta(seconds=1)
                while t.replace(tzinfo=interval.end.tzinfo) <= interval.end:
                    yield StreamInstance(t, t.second)                               # naive timestamp
                    yield (t + timedelta(milliseconds=500), -1)                     # naive plain tuple
                    t += timedelta(seconds=1)
    ''',
}


def test_naive_datetimes_mean_utc_in_hyperstream_code_only(tmp_path):
    tc = plugin_channel(tmp_path, NAIVE_TOOL)
    tool = load_tool(tc, "naive_clock", {}, coerce=False)
    sink = MemoryChannel("mem").create_stream(StreamId("ticks"))
    interval = TimeInterval(T0, sec(3))
    tool.execute([], sink, interval, history=MemoryRunHistory())
    assert sink.window(interval).items() == [StreamInstance(T0 + timedelta(milliseconds=ms), v) for ms, v in
                                             ((1000, 1), (1500, -1), (2000, 2), (2500, -1), (3000, 3))]
    # the channels API keeps refusing naive datetimes with a clear error
    with pytest.raises(TimeError, match="naive"):
        TimeInterval(datetime(2026, 1, 1), sec(1))
    with pytest.raises(TimeError, match="naive"):
        StreamInstance(datetime(2026, 1, 1), 1)
    with hyperstream_names():
        from hyperstream import TimeInterval as HsTimeInterval, StreamInstance as HsStreamInstance
        assert HsTimeInterval(datetime(2026, 1, 1), datetime(2026, 1, 2)) == TimeInterval(T0, T0 + timedelta(days=1))
        assert HsStreamInstance(datetime(2026, 1, 1), 1).timestamp == T0


def test_interval_arithmetic_as_in_hyperstream():
    iv = TimeInterval(sec(10), sec(20))
    assert iv + timedelta(seconds=5) == TimeInterval(sec(15), sec(25))
    assert iv - timedelta(seconds=5) == TimeInterval(sec(5), sec(15))
    assert iv + RelativeTimeInterval(-5, 0) == TimeInterval(sec(5), sec(20))
    assert iv + (-5, 2) == TimeInterval(sec(5), sec(22))
    assert iv + TimeInterval(sec(20), sec(30)) == TimeIntervals([TimeInterval(sec(10), sec(30))])  # still a union
    assert (iv[0], iv[1]) == (sec(10), sec(20)) and iv.to_tuple() == (sec(10), sec(20)) and len(iv) == 2
    r = RelativeTimeInterval(-60, 0)
    assert (r.start_seconds, r.end_seconds) == (-60.0, 0.0)
    with hyperstream_names():
        from hyperstream import RelativeTimeInterval as HsRelative
        hr = HsRelative(-60, 0)
        assert (hr.start, hr.end) == (-60.0, 0.0)          # seconds, as HyperStream has them
        assert iv + hr == TimeInterval(sec(-50), sec(20))
    tis = TimeIntervals([TimeInterval(sec(0), sec(10)), TimeInterval(sec(20), sec(30))])
    tis.split([sec(5), sec(25), sec(15)])
    assert tis.intervals == [TimeInterval(sec(0), sec(5)), TimeInterval(sec(5), sec(10)),
                             TimeInterval(sec(20), sec(25)), TimeInterval(sec(25), sec(30))]
    assert tis.total_width == timedelta(seconds=20)
    tis.compress()
    assert tis.intervals == [TimeInterval(sec(0), sec(10)), TimeInterval(sec(20), sec(30))]
    tis.intervals = [TimeInterval(sec(0), sec(1)), TimeInterval(sec(1), sec(2))]
    assert tis == TimeIntervals([TimeInterval(sec(0), sec(2))])


RELATIVE_WINDOW = {
    # relative_window's shape: reads data_stream.window(interval + self.relative_interval)
    "my_relative_window": '''
        from datetime import timedelta
        from hyperstream import RelativeTimeInterval
        from hyperstream.stream import StreamInstance
        from hyperstream.tool import Tool, check_input_stream_count

        class MyRelativeWindow(Tool):
            def __init__(self, relative_start, relative_end):
                super(MyRelativeWindow, self).__init__(relative_start=relative_start, relative_end=relative_end)
                self.relative_interval = RelativeTimeInterval(start=relative_start, end=relative_end)

            @check_input_stream_count(1)
            def _execute(self, sources, alignment_stream, interval):
                data = sources[0].window(interval + self.relative_interval).items()
                for t, _ in alignment_stream.window(interval, force_calculation=True):
                    lo = t + timedelta(seconds=self.relative_interval.start)
                    hi = t + timedelta(seconds=self.relative_interval.end)
                    yield StreamInstance(t, [v for (ts, v) in data if lo < ts <= hi])
    ''',
}


def test_relative_window_style_tool_runs(tmp_path):
    tc = plugin_channel(tmp_path, RELATIVE_WINDOW)
    mem = MemoryChannel("mem")
    data = mem.create_stream(StreamId("data"))
    data.writer([StreamInstance(sec(i), i) for i in range(1, 11)])
    ticks = mem.create_stream(StreamId("ticks"))
    ticks.writer([StreamInstance(sec(i), None) for i in (5, 10)])
    sink = mem.create_stream(StreamId("windows"))
    tool = load_tool(tc, "my_relative_window", {"relative_start": -3, "relative_end": 0}, coerce=False)
    tool.execute([data], sink, TimeInterval(sec(3), sec(10)), alignment_stream=ticks, history=MemoryRunHistory())
    assert sink.window(TimeInterval(T0, sec(10))).values() == [[3, 4, 5], [8, 9, 10]]


def test_no_hyperstream_modules_left_behind():
    assert [m for m in sys.modules if m == "hyperstream" or m.startswith("hyperstream.")] == []


def test_calculated_intervals_added_one_by_one_lose_nothing():
    """HyperStream 0.3.8 gives (5,10] U (11,14] for this sequence (it loses (14,17]); ours is exact."""
    acc = TimeIntervals()
    for a, b in ((11, 14), (14, 17), (7, 10), (5, 8)):
        acc = acc + TimeInterval(sec(a), sec(b))
    assert acc == TimeIntervals([TimeInterval(sec(5), sec(10)), TimeInterval(sec(11), sec(17))])
    with hyperstream_names():
        from hyperstream import TimeIntervals as HsTimeIntervals, TimeInterval as HsTimeInterval
        acc = HsTimeIntervals()
        for a, b in ((11, 14), (14, 17), (7, 10), (5, 8)):
            acc += HsTimeInterval(sec(a), sec(b))
        assert acc.intervals == [TimeInterval(sec(5), sec(10)), TimeInterval(sec(11), sec(17))]
