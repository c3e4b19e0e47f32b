"""HyperStream's manager/view API, its window() default, out-of-interval instances, asset files, plugin channels."""
import json
import logging
import textwrap
from datetime import datetime, timedelta

import pytest

import channels.tools  # noqa: F401
from channels import (AssetsFileChannel, ChannelManager, Config, MemoryChannel, StreamId, StreamInstance,
                      TimeInterval, TimeIntervals, ToolChannel, UTC)
from channels.errors import ToolExecutionError
from channels.tools import MemoryRunHistory, Tool, load_tool
from channels.utils import utcnow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sec(s):
    return T0 + timedelta(seconds=s)


def test_window_without_interval_is_the_last_calculated_interval():
    s = MemoryChannel("m").create_stream(StreamId("x"))
    s.writer([StreamInstance(sec(i), i) for i in range(1, 11)])
    assert s.window().values() == list(range(1, 11))  # nothing calculated: all time
    s.calculated_intervals = TimeIntervals([TimeInterval(sec(0), sec(3)), TimeInterval(sec(5), sec(8))])
    assert s.window().values() == [6, 7, 8]
    assert s.window().time_interval == TimeInterval(sec(5), sec(8))
    assert list(s.window(TimeInterval(T0, sec(2))).itervalues()) == [1, 2]
    assert list(s.window(TimeInterval(T0, sec(2))).itertimestamps()) == [sec(1), sec(2)]


OVERSHOOT = {
    "overshoot": '''
        from datetime import timedelta
        from hyperstream.tool import Tool, check_input_stream_count
        from hyperstream.stream import StreamInstance

        class Overshoot(Tool):
            @check_input_stream_count(0)
            def _execute(self, sources, alignment_stream, interval):
                t = interval.start - timedelta(seconds=2)          # HyperStream would write these too
                while t <= interval.end + timedelta(seconds=2):
                    yield StreamInstance(t, 1)
                    t += timedelta(seconds=1)
    ''',
}


def test_hyperstream_tool_instances_outside_the_interval_are_dropped_and_counted(tmp_path, caplog):
    tools = tmp_path / "p" / "tools" / "overshoot"
    tools.mkdir(parents=True)
    (tools / "2017-01-01_v0.1.0.py").write_text(textwrap.dedent(OVERSHOOT["overshoot"]))
    tc = ToolChannel("p_tools", str(tmp_path / "p" / "tools"), up_to_timestamp=utcnow())
    tool = load_tool(tc, "overshoot", {})
    sink = MemoryChannel("m").create_stream(StreamId("o"))
    interval = TimeInterval(sec(10), sec(15))
    with caplog.at_level(logging.WARNING):
        run = tool.execute([], sink, interval, history=MemoryRunHistory())
    assert run.outcome == "ok" and run.instances_written == 5 and run.dropped_instances == 5
    assert [i.timestamp for i in sink.window(TimeInterval.all_time())] == [sec(s) for s in range(11, 16)]
    assert sink.calculated_intervals == TimeIntervals([interval])
    assert len([r for r in caplog.records if "outside the interval" in r.getMessage()]) == 1
    assert run.to_dict()["dropped_instances"] == 5

    class Ours(Tool):  # a channels tool keeps the hard error
        def _execute(self, sources, alignment_stream, interval):
            yield StreamInstance(interval.start, 1)

    with pytest.raises(ToolExecutionError, match="outside the interval"):
        Ours().execute([], MemoryChannel("m2").create_stream(StreamId("o")), interval, history=MemoryRunHistory())


def test_manager_offers_hyperstreams_api(tmp_path):
    from channels.stores.sqlite_store import SQLiteStore
    tools = tmp_path / "tools" / "const"
    tools.mkdir(parents=True)
    (tools / "2017-01-01_v0.1.0.py").write_text(textwrap.dedent('''
        from hyperstream import Tool, StreamInstance
        class Const(Tool):
            def __init__(self, value=1):
                super(Const, self).__init__(value=value)
            def _execute(self, sources, alignment_stream, interval):
                yield StreamInstance(interval.end, self.value)
    '''))
    (tools / "2017-02-01_v0.2.0.py").write_text((tools / "2017-01-01_v0.1.0.py").read_text())
    m = ChannelManager(SQLiteStore(str(tmp_path / "s.sqlite")), builtin_tools=str(tmp_path / "tools"))
    assert m.mongo is m["mongo"] and m.assets is m["assets"] and m.tools is m["tools"] and m.memory is m["memory"]
    assert set(m.values()) == set(m) and m.keys() == list(m.channels)
    with pytest.raises(AttributeError, match="no attribute or channel 'nope'"):
        m.nope
    assert m.get_tool_class("const").__name__ == "Const"
    tool = m.get_tool("const", {"value": 7})
    assert tool.value == 7 and tool.tool_version == "0.2.0"
    assert m.get_tool("const", {"value": 3}, version="0.1.0").tool_version == "0.1.0"
    sink = m.memory.create_stream(StreamId("c"))
    tool.execute([], sink, TimeInterval(T0, sec(1)), history=MemoryRunHistory())
    assert sink.window().values() == [7]
    m.close()


def test_assets_file_channel_reads_hyperstreams_file_names(tmp_path):
    folder = tmp_path / "assets" / "houses"
    folder.mkdir(parents=True)
    names = {"2017-06-12T10-05-59.000Z.json": {"v": 1}, "2017-06-12T10:06:00.250Z.json": {"v": 2},
             "2017-07-06.json": [1, 2, 3], "2017-08-01T120000.000Z.json": "ours",
             "not-a-date.json": 0}
    for name, value in names.items():
        (folder / name).write_text(json.dumps(value))
    ch = AssetsFileChannel("a", str(tmp_path / "assets"))
    items = ch[StreamId("houses")].window(TimeInterval.all_time()).items()
    assert items == [StreamInstance(datetime(2017, 6, 12, 10, 5, 59, tzinfo=UTC), {"v": 1}),
                     StreamInstance(datetime(2017, 6, 12, 10, 6, 0, 250000, tzinfo=UTC), {"v": 2}),
                     StreamInstance(datetime(2017, 7, 6, tzinfo=UTC), [1, 2, 3]),
                     StreamInstance(datetime(2017, 8, 1, 12, tzinfo=UTC), "ours")]
    assert [p for p, _ in ch.skipped] == [str(folder / "not-a-date.json")]
    # purging an interval deletes those files, whatever their name form
    ch.purge_interval(StreamId("houses"), TimeInterval(datetime(2017, 6, 1, tzinfo=UTC), datetime(2017, 7, 7, tzinfo=UTC)))
    assert sorted(p.name for p in folder.iterdir()) == ["2017-08-01T120000.000Z.json", "not-a-date.json"]


def test_plugin_channel_names_are_loaded_or_reported(tmp_path, caplog):
    project = tmp_path / "project"
    chans = project / "plugins" / "demo" / "channels"
    chans.mkdir(parents=True)
    (chans / "demo_channel.py").write_text(textwrap.dedent('''
        from hyperstream.channels.memory_channel import MemoryChannel
        class DemoChannel(MemoryChannel):
            def __init__(self, channel_id, up_to_timestamp=None):
                super(DemoChannel, self).__init__(channel_id=channel_id)
                self.create_stream("hello")
    '''))
    (chans / "broken_channel.py").write_text("raise RuntimeError('broken on purpose')\n")
    (chans / "wrong_channel.py").write_text("class WrongChannel(object):\n    def __init__(self, channel_id):\n"
                                            "        pass\n")
    cfg = project / "hyperstream_config.json"
    cfg.write_text(json.dumps({"plugins": [{"path": "plugins/demo", "channel_id_prefix": "demo", "has_tools": False,
                                            "has_assets": False,
                                            "channel_names": ["demo_channel", "broken_channel", "wrong_channel",
                                                              "missing_channel"]}]}))
    with caplog.at_level(logging.WARNING):
        m = ChannelManager(config=Config.load(str(cfg)), builtin_tools=False)
    assert "demo" in m and StreamId("hello") in m.demo
    errors = dict(m.load_errors)
    assert set(errors) == {f"channel {n!r} of plugin 'demo' ({chans / (n + '.py')})"
                           for n in ("broken_channel", "wrong_channel", "missing_channel")}
    assert all(v.startswith("not loaded:") for v in errors.values())
    assert "broken on purpose" in " ".join(errors.values()) and "BaseChannel" in " ".join(errors.values())
    assert sum("not loaded" in r.getMessage() for r in caplog.records) == 3
