"""Switching stores: nothing bound to the previous store stays on screen."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.common.background import JobKind, JobState
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


def test_a_job_on_the_old_store_ends_before_the_store_is_closed_and_its_late_error_is_not_shown(
        qtbot, window, tmp_path):
    """Issue 26: jobs of a closed connection kept running on it. A store switch cancels every job that uses
    the open store and closes it only once they ended; one that fails on its way out shows no error."""
    connect(qtbot, window, make_sqlite_store(tmp_path / "first.sqlite"))
    old = window.manager
    stream = old.get_channel("mongo")[StreamId("events")]
    closes = []                                       # for each close: had the job ended by then?
    real_close = old.close
    old.close = lambda: (closes.append(ended.is_set()), real_close())
    started, proceed, ended = threading.Event(), threading.Event(), threading.Event()

    def slow_run(ctx):   # a tool run reading the store, which does not stop at once when cancelled
        started.set()
        try:
            while not ctx.cancelled and not proceed.is_set():
                stream.window(TimeInterval.all_time()).count()
                proceed.wait(0.01)
            proceed.wait(10)
            stream.window(TimeInterval.all_time()).count()     # the store is still open: this works
            raise RuntimeError("late failure on the previous store")
        finally:
            ended.set()

    job = window.runner.submit("Slow run on the first store", slow_run, kind=JobKind.TOOL)
    assert started.wait(10)
    second = str(tmp_path / "second.sqlite")
    ChannelManager.open(second).close()
    connect(qtbot, window, second)
    closing = next(j for j in window.runner.jobs if j.title == "Close previous connection")
    qtbot.waitUntil(lambda: closing.state is JobState.RUNNING, timeout=10000)
    assert job.cancel_event.is_set() and closes == []        # the close waits for the job
    proceed.set()
    qtbot.waitUntil(lambda: closing.is_finished and job.is_finished, timeout=15000)
    assert closes == [True]
    assert job.state is JobState.CANCELLED and closing.state is JobState.DONE
    qtbot.wait(50)
    assert window.error_bar.text() == ""


def test_after_reconnecting_no_lineage_job_runs_on_the_closed_store(qtbot, window, tmp_path, monkeypatch):
    """Issue 26: after reconnecting, "Lineage of …" jobs failed with "Cannot use MongoClient after close"."""
    from hsgui.workflows import lineage_view
    used = []
    real = lineage_view.lineage_job
    monkeypatch.setattr(lineage_view, "lineage_job", lambda ctx, manager, *a: (used.append(manager),
                                                                              real(ctx, manager, *a))[1])
    connect(qtbot, window, make_sqlite_store(tmp_path / "first.sqlite"))
    old = window.manager
    assert window.tree.select_stream("mongo", StreamId("events"))
    qtbot.waitUntil(lambda: window.lineage.lineage is not None, timeout=10000)
    used.clear()
    connect(qtbot, window, make_sqlite_store(tmp_path / "second.sqlite"))
    qtbot.waitUntil(lambda: not window.runner.active, timeout=15000)
    assert old not in used
    assert not [j.title for j in window.runner.jobs if j.state is JobState.FAILED]
