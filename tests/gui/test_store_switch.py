"""Switching stores: nothing bound to the previous store stays on screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.common.background import JobState
from hsgui.common.timefmt import datetime_to_seconds

from hsgui_test_stores import HOUR, T0, make_sqlite_store


@pytest.fixture
def window(make_main_window):
    return make_main_window(size=(1300, 850))


def connect(qtbot, window, target):
    job = window.open_target(target)
    qtbot.waitUntil(lambda: job.is_finished and window.state.opening is None, timeout=15000)
    return job


def test_switching_stores_clears_asset_editor_plot_readout_and_old_error(qtbot, window, tmp_path):
    first = make_sqlite_store(tmp_path / "first.sqlite")
    second = str(tmp_path / "second.sqlite")
    other = ChannelManager.open(second)        # another store, without the "houses" asset
    other.channels["mongo"].create_stream(StreamId("pressure"))
    other.close()
    connect(qtbot, window, first)
    window.picker.set_interval(TimeInterval(T0, T0 + 48 * HOUR), emit=True)
    # the asset editor shows the first store's asset
    assert window.tree.select_stream("assets", StreamId("houses"))
    qtbot.waitUntil(lambda: window.asset_editor.stream is not None and window.asset_editor.form.isEnabled(),
                    timeout=10000)
    # a curve with the cursor over it: its name is in the read-out
    events = window.manager.get_channel("mongo")[StreamId("temperature", {"house": 1, "resident": "alice"})]
    window.plot_streams([events])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1 and not window.plot_area.busy, timeout=10000)
    window.plot_area.set_cursor(datetime_to_seconds(T0 + 5 * HOUR))
    pane = window.plot_area.panes[0]
    assert "temperature" in pane.readout.text()
    # a failed connect shows the banner
    job = connect(qtbot, window, str(tmp_path / "missing" / "nope.sqlite"))
    assert job.state == JobState.FAILED
    qtbot.waitUntil(lambda: window.error_bar.text() != "", timeout=3000)

    connect(qtbot, window, second)
    assert window.manager is not None and window.target == second
    assert window.error_bar.text() == ""                       # the earlier failure is not the state any more
    assert window.asset_editor.stream is None and not window.asset_editor.form.isEnabled()
    assert window.asset_editor.title_label.text() == "No asset selected"
    assert window.plot_area.curves() == []
    assert "temperature" not in pane.readout.text()
    assert window.windowTitle().count("HyperStream Studio") == 1
    assert window.windowTitle().endswith("HyperStream Studio")  # Qt does not append the name again


def test_removing_a_curve_or_moving_the_range_updates_the_readout_at_once(qtbot, window, tmp_path):
    connect(qtbot, window, make_sqlite_store(tmp_path / "s.sqlite"))
    window.picker.set_interval(TimeInterval(T0, T0 + 48 * HOUR), emit=True)
    s = window.manager.get_channel("mongo")[StreamId("events")]
    window.plot_streams([s])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 1 and not window.plot_area.busy, timeout=10000)
    pane = window.plot_area.panes[0]
    window.plot_area.set_cursor(datetime_to_seconds(T0 + 2 * HOUR))
    assert "events" in pane.readout.text() and "2024-03-01 02:00" in pane.readout.text()
    # the range moves past the cursor time: the read-out no longer shows a time outside the view
    window.picker.set_interval(TimeInterval(T0 + 24 * HOUR, T0 + 48 * HOUR), emit=True)
    qtbot.waitUntil(lambda: "2024-03-01 02:00" not in pane.readout.text(), timeout=3000)
    window.plot_area.set_cursor(datetime_to_seconds(T0 + 30 * HOUR))
    assert "events" in pane.readout.text()
    pane.remove_curve(pane.curves[0])
    assert "events" not in pane.readout.text()
