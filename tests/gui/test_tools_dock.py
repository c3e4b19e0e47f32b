"""Tools dock: tool channels → tools → versions, description pane, filter, run request (headless)."""
from __future__ import annotations

import textwrap

import pytest
from PySide6.QtCore import Qt

from channels.channel_manager import ChannelManager
from channels.config import Config
from hsgui.compute.tools_dock import ROLE_KIND, ROLE_TOOL, ToolsDock

PLUGIN_V1 = '''
from channels.tools import Tool


class Doubler(Tool):
    """Doubles every value (old version)."""

    def __init__(self, factor: float = 2.0):
        super().__init__(factor=factor)
'''

PLUGIN_V2 = '''
from channels.tools import Tool, check_input_stream_count


class Doubler(Tool):
    """Multiplies every value of the input stream by ``factor``.

    :param factor: The multiplier.
    """

    def __init__(self, factor: float = 2.0):
        super().__init__(factor=factor)

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        for t, v in sources[0].window(interval):
            yield t, v * self.factor
'''


@pytest.fixture
def manager(tmp_path):
    folder = tmp_path / "plugin_tools" / "doubler"
    folder.mkdir(parents=True)
    (folder / "2025-01-01_v0.1.0.py").write_text(textwrap.dedent(PLUGIN_V1))
    (folder / "2025-06-01_v0.2.0.py").write_text(textwrap.dedent(PLUGIN_V2))
    m = ChannelManager(config=Config(tool_paths=[str(tmp_path / "plugin_tools")]))
    yield m
    m.close()


@pytest.fixture
def dock(qtbot, manager):
    d = ToolsDock(manager)
    qtbot.addWidget(d)
    d.show()
    return d


def tool_item(dock, channel_id, name):
    for i in range(dock.tree.topLevelItemCount()):
        ch = dock.tree.topLevelItem(i)
        if ch.text(0) != channel_id:
            continue
        for j in range(ch.childCount()):
            if ch.child(j).data(0, ROLE_TOOL) == name and ch.child(j).data(0, ROLE_KIND) == "tool":
                return ch.child(j)
    raise AssertionError(f"no tool {name!r} in {channel_id!r}")


def test_lists_builtin_and_plugin_tools_with_versions(dock, manager):
    channels = [dock.tree.topLevelItem(i).text(0) for i in range(dock.tree.topLevelItemCount())]
    assert channels == ["tools", "tools_plugin_tools"]
    builtin = {name for _c, name in dock.visible_tools() if _c == "tools"}
    assert {"clock", "sliding_window", "aggregate"} <= builtin
    assert builtin == set(manager.get_channel("tools").list_tools())
    doubler = tool_item(dock, "tools_plugin_tools", "doubler")
    assert doubler.text(1) == "v0.2.0"                                   # newest version on the tool row
    assert [doubler.child(k).text(0) for k in range(doubler.childCount())] == ["v0.2.0", "v0.1.0"]
    assert dock.count_label.text() == f"{len(builtin) + 1} tools"


def test_selection_shows_docstring_source_and_parameters(dock, manager):
    clock = tool_item(dock, "tools", "clock")
    dock.tree.setCurrentItem(clock)
    text = dock.info.toPlainText()
    tv = manager.get_channel("tools").find_tool_version("clock")
    assert "Ticks every" in text                                          # the class docstring
    assert f"source: {tv.path}" in text
    assert "stride" in text and "timedelta" in text and "1s" in text      # parameter table with defaults
    assert dock.run_button.isEnabled()

    old = tool_item(dock, "tools_plugin_tools", "doubler").child(1)
    dock.tree.setCurrentItem(old)
    text = dock.info.toPlainText()
    assert "Doubles every value (old version)." in text
    assert "2025-01-01_v0.1.0.py" in text
    dock.tree.setCurrentItem(tool_item(dock, "tools_plugin_tools", "doubler"))
    assert "input streams: 1" in dock.info.toPlainText()

    dock.tree.setCurrentItem(dock.tree.topLevelItem(0))                  # a channel row: no run
    assert not dock.run_button.isEnabled()
    assert "tool channel tools" in dock.info.toPlainText()


def test_filter_box(qtbot, dock):
    qtbot.keyClicks(dock.filter_edit, "SLID")
    shown = dock.visible_tools()
    assert ("tools", "sliding_window") in shown
    assert ("tools", "sliding_apply") in shown
    assert ("tools", "clock") not in shown
    assert all("slid" in name for _c, name in shown)
    assert dock.count_label.text().startswith(f"{len(shown)} of ")
    plugin = dock.tree.topLevelItem(1)
    assert plugin.isHidden()                                             # no match in the plugin channel
    dock.filter_edit.clear()
    assert ("tools", "clock") in dock.visible_tools()
    assert not plugin.isHidden()


def test_double_click_and_run_button_request_a_run(qtbot, dock):
    item = tool_item(dock, "tools", "sliding_window")
    rect = dock.tree.visualItemRect(item)
    assert rect.isValid()
    qtbot.mouseClick(dock.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dock.tree.currentItem() is item
    with qtbot.waitSignal(dock.sigRunTool) as blocker:
        qtbot.mouseDClick(dock.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == ["tools", "sliding_window", ""]

    version = tool_item(dock, "tools_plugin_tools", "doubler").child(1)
    dock.tree.setCurrentItem(version)
    with qtbot.waitSignal(dock.sigRunTool) as blocker:
        qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["tools_plugin_tools", "doubler", "0.1.0"]
    assert dock.select_tool("tools", "clock")
    assert dock.tree.currentItem().data(0, ROLE_TOOL) == "clock"


def test_docstring_is_reflowed_not_shown_with_the_source_line_breaks(dock):
    from hsgui.compute.tools_dock import reflow_docstring
    doc = ("Averages the input over\nsliding windows, the way\nthe dashboards do.\n\n"
           ":param width: window length,\n    at least one second\n:param func: aggregation\n\n"
           "Example::\n\n    sliding(width=60)\n    sliding(width=5)\n\n- one\n  item\n- two")
    assert reflow_docstring(doc) == [
        ("text", "Averages the input over sliding windows, the way the dashboards do."),
        ("text", ":param width: window length, at least one second\n:param func: aggregation"),
        ("text", "Example::"),
        ("literal", "sliding(width=60)\nsliding(width=5)"),
        ("text", "- one item\n- two"),
    ]
    dock.tree.setCurrentItem(tool_item(dock, "tools_plugin_tools", "doubler"))
    lines = dock.info.toPlainText().splitlines()
    assert "Multiplies every value of the input stream by factor." in lines   # one line, ``factor`` as code
    assert ":param factor: The multiplier." in lines
