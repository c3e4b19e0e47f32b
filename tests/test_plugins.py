"""HyperStream plugin tool folders load unchanged through the hyperstream_names() import hook."""
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import channels.tools
from channels import MemoryChannel, StreamInstance, TimeInterval, ToolChannel, UTC
from channels.errors import ToolInitialisationError
from channels.hyperstream.compat import hyperstream_names
from channels.tools import MemoryRunHistory, load_tool, scan_tools
from channels.utils import utcnow

T0 = datetime(2026, 1, 1, tzinfo=UTC)

HYPERSTREAM_TOOL = textwrap.dedent('''
    from hyperstream.tool import Tool, check_input_stream_count
    from hyperstream.stream import StreamInstance
    from hyperstream.utils import MIN_DATE, get_timedelta
    from hyperstream import TimeInterval


    class Ticker(Tool):
        def __init__(self, first=MIN_DATE, stride=1.0, label="tick"):
            """
            A HyperStream-style clock with a label
            :param first: Start of the clock
            :param stride: Tick stride
            :param label: Text value prefix
            """
            super(Ticker, self).__init__(first=first, stride=stride, label=label)
            self._stride = get_timedelta(stride)

        @check_input_stream_count(0)
        def _execute(self, sources, alignment_stream, interval):
            assert isinstance(interval, TimeInterval)
            if interval.start < self.first:
                interval.start = self.first
            n_strides = int((interval.start - self.first).total_seconds() // self._stride.total_seconds())
            t = self.first + n_strides * self._stride
            while t <= interval.end:
                if t > interval.start:
                    yield StreamInstance(t, "{}-{}".format(self.label, t.second))
                t += self._stride
''')

BROKEN_TOOL = textwrap.dedent('''
    from hyperstream.tool import Tool
    raise RuntimeError("this plugin is broken on purpose")
''')


def no_hyperstream_modules():
    return [m for m in sys.modules if m == "hyperstream" or m.startswith("hyperstream.")]


@pytest.fixture
def plugin(tmp_path):
    tools = tmp_path / "my_plugin" / "tools"
    (tools / "ticker").mkdir(parents=True)
    (tools / "ticker" / "2016-07-11T1209Z_v0.1.0.py").write_text(HYPERSTREAM_TOOL)
    (tools / "broken").mkdir()
    (tools / "broken" / "2016-07-11T1209Z_v0.1.0.py").write_text(BROKEN_TOOL)
    return tools


def test_hyperstream_plugin_loads_and_runs(plugin):
    assert no_hyperstream_modules() == []
    tc = ToolChannel("plugin_tools", str(plugin), up_to_timestamp=utcnow())
    assert sorted(tc.list_tools()) == ["broken", "ticker"]
    tool = load_tool(tc, "ticker", {"first": "2026-01-01T00:00:00Z", "stride": "2", "label": "x"})
    assert tool.tool_version == "0.1.0" and tool.tool_source.endswith("2016-07-11T1209Z_v0.1.0.py")
    sink = MemoryChannel("mem").create_stream("ticks")
    interval = TimeInterval(T0, T0 + timedelta(seconds=10))
    history = MemoryRunHistory()
    tool.execute([], sink, interval, chunk=timedelta(seconds=4), history=history)
    assert sink.window(interval).items() == [StreamInstance(T0 + timedelta(seconds=s), f"x-{s}")
                                             for s in (2, 4, 6, 8, 10)]
    assert (interval.start, interval.end) == (T0, T0 + timedelta(seconds=10))
    assert history.list()[0].tool == "ticker" and history.list()[0].tool_version == "0.1.0"
    assert no_hyperstream_modules() == []


FRESH_PROCESS = r"""
import json, sys
from channels.time_interval import TimeInterval
from channels.tool_channel import ToolChannel
from channels.utils import MIN_DATE, utcnow
tc = ToolChannel("plugin_tools", sys.argv[1], up_to_timestamp=utcnow())
not_yet = sorted(m for m in ("channels.tools", "channels.tools.engine", "channels.hyperstream",
                             "channels.channel_manager") if m in sys.modules)
by_name = tc.get_tool_class("ticker")                                  # a tool looked up by name
stream = next(s for s in tc.streams.values() if s.stream_id.name == "manager_user")
by_stream = tc.last_instance(stream, TimeInterval(MIN_DATE, utcnow())).value   # HyperStream's way
from channels.tools import Tool
print(json.dumps({"not_yet": not_yet, "by_name": by_name.__name__, "is_tool": issubclass(by_name, Tool),
                  "by_stream": by_stream.__name__, "manager": by_stream.manager_class.__name__,
                  "left": sorted(m for m in sys.modules if m.split(".")[0] == "hyperstream")}))
"""

MANAGER_USER_TOOL = textwrap.dedent('''
    from hyperstream import ChannelManager
    from hyperstream.tool import Tool


    class ManagerUser(Tool):
        manager_class = ChannelManager
''')


def test_a_plugin_loads_in_a_process_that_imported_only_the_tool_channel(plugin):
    """``import channels`` no longer imports the tool machinery (start-up, issue 25); a tool file importing
    ``hyperstream.tool`` and ``hyperstream.ChannelManager`` still loads, by name and as a stream's instance."""
    (plugin / "manager_user").mkdir()
    (plugin / "manager_user" / "2016-07-11T1209Z_v0.1.0.py").write_text(MANAGER_USER_TOOL)
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(plugin)], capture_output=True, text=True,
                         env=env, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    assert shown["not_yet"] == []            # nothing loaded the tool machinery or the stand-in before the tool did
    assert shown["by_name"] == "Ticker" and shown["is_tool"]
    assert shown["by_stream"] == "ManagerUser" and shown["manager"] == "ChannelManager"
    assert shown["left"] == []


def test_broken_plugin_is_reported_with_path_and_error(plugin):
    tc = ToolChannel("plugin_tools", str(plugin), up_to_timestamp=utcnow())
    with pytest.raises(ToolInitialisationError) as err:
        tc.get_tool_class("broken")
    assert str(plugin / "broken" / "2016-07-11T1209Z_v0.1.0.py") in str(err.value)
    assert "broken on purpose" in str(err.value)
    infos = {i.name: i for i in scan_tools(tc)}
    assert infos["ticker"].ok and infos["ticker"].tool_class.__name__ == "Ticker"
    assert not infos["broken"].ok
    assert str(plugin / "broken") in infos["broken"].error and "broken on purpose" in infos["broken"].error
    assert no_hyperstream_modules() == []


def test_hyperstream_names_restores_sys_modules_exactly():
    sentinel = type(sys)("hyperstream.something_else")
    sys.modules["hyperstream.something_else"] = sentinel
    try:
        before = dict(sys.modules)
        with hyperstream_names():
            import hyperstream
            from hyperstream.tool import Tool
            from hyperstream.utils import MIN_DATE
            # HyperStream's Tool is ours, except that its runs are not split into chunks by default
            assert issubclass(Tool, channels.tools.Tool) and Tool.chunkable is False and MIN_DATE.year == 1
            assert sys.modules["hyperstream"] is hyperstream
            with hyperstream_names():  # nested use keeps the outer names
                assert "hyperstream.tool" in sys.modules
            assert "hyperstream.tool" in sys.modules
        assert dict(sys.modules) == before
        assert sys.modules["hyperstream.something_else"] is sentinel
    finally:
        del sys.modules["hyperstream.something_else"]
    assert no_hyperstream_modules() == []


# A tool in the style of HyperStream's own sliding_window: windows are aligned on the *start of the
# interval it is asked for*, so splitting a run into chunks would change its output.
HS_WINDOWS_TOOL = textwrap.dedent('''
    from hyperstream import Tool, StreamInstance, TimeInterval
    from hyperstream.utils import check_input_stream_count, unix2datetime
    from plugins.example.helpers import seconds


    class HsWindows(Tool):
        def __init__(self, lower=-3, upper=0, increment=1):
            super(HsWindows, self).__init__(lower=lower, upper=upper, increment=increment)

        @check_input_stream_count(0)
        def _execute(self, sources, alignment_stream, interval):
            assert unix2datetime(0).year == 1970
            t = interval.start + seconds(self.upper - self.lower)  # first full window after the start
            while t <= interval.end:
                yield StreamInstance(t, TimeInterval(t + seconds(self.lower), t + seconds(self.upper)))
                t += seconds(self.increment)
''')


def test_hyperstream_style_plugin_with_its_own_helpers_runs_unchunked(tmp_path):
    """``from hyperstream import Tool``, ``from hyperstream.utils import check_input_stream_count`` and the
    plugin's own ``plugins.<name>.helpers`` module all resolve, as under HyperStream; the run is not split
    into chunks, so the output equals one pass over the whole interval."""
    import json
    from channels import ChannelManager, Config, TimeIntervals
    project = tmp_path / "project"
    tools = project / "plugins" / "example" / "tools" / "hs_windows"
    tools.mkdir(parents=True)
    (project / "plugins" / "__init__.py").write_text("")
    (project / "plugins" / "example" / "__init__.py").write_text("")
    (project / "plugins" / "example" / "helpers.py").write_text(
        "from datetime import timedelta\n\ndef seconds(s):\n    return timedelta(seconds=s)\n")
    (tools / "2016-11-14_v0.1.0.py").write_text(HS_WINDOWS_TOOL)
    cfg = project / "hyperstream_config.json"
    cfg.write_text(json.dumps({"plugins": [{"path": "plugins/example", "channel_id_prefix": "example",
                                            "has_tools": True, "has_assets": False}]}))
    manager = ChannelManager(config=Config.load(str(cfg)))
    tc = manager.get_channel("example_tools")
    tool = load_tool(tc, "hs_windows", {})
    assert tool.chunkable is False
    interval = TimeInterval(T0, T0 + timedelta(seconds=10))
    sink = manager.memory.create_stream("windows")
    tool.execute([], sink, interval, history=MemoryRunHistory())
    # one pass: the first window ends 3 s after the interval start, then one every second up to the end
    assert [i.timestamp for i in sink.window()] == [T0 + timedelta(seconds=s) for s in range(3, 11)]
    assert sink.calculated_intervals == TimeIntervals([interval])
    # asking for chunks explicitly does split it — and changes this tool's output, which is why it is not the default
    chunked = manager.memory.create_stream("windows_chunked")
    tool.execute([], chunked, interval, chunk=timedelta(seconds=4), history=MemoryRunHistory())
    assert len(chunked.window().items()) < 8
    assert no_hyperstream_modules() == []
    assert not any(p.endswith("project") for p in sys.path)
