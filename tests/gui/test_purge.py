"""Purge dialog: scopes, background count, confirmation, background purge, tree update (headless)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from channels.channel_manager import ChannelManager
from channels.stream import StreamId
from channels.time_interval import TimeInterval, TimeIntervals
from channels.tools import load_tool
from channels.utils import UTC
from hsgui.compute.purge_dialog import SCOPE_ALL, SCOPE_DEFINITION, SCOPE_RANGE, PurgeDialog
from hsgui.browse.stream_tree import StreamTreeWidget

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = TimeInterval(T0, T0 + timedelta(hours=1))
MIN = timedelta(minutes=1)

try:
    import channels.stores.sqlite_store  # noqa: F401
    HAVE_STORE = True
except ImportError:  # pragma: no cover
    HAVE_STORE = False


@pytest.fixture
def manager(tmp_path):
    m = ChannelManager.open(str(tmp_path / "s.sqlite")) if HAVE_STORE else ChannelManager()
    yield m
    m.close()


@pytest.fixture
def channel(manager):
    return manager.get_channel("mongo" if "mongo" in manager.channels else "memory")


def make_clock_stream(manager, channel, sid):
    """A stream with one instance per minute over HOUR, written by the real clock tool."""
    stream = channel.get_or_create_stream(sid)
    tool = load_tool(manager.get_channel("tools"), "clock", {"first": T0, "stride": "60s"})
    tool.execute([], stream, HOUR, history=manager.run_history)
    assert stream.window(HOUR).count() == 60
    return stream


def open_dialog(qtbot, runner, streams, interval=HOUR):
    dlg = PurgeDialog(runner, streams, interval)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.counts is not None, timeout=5000)
    return dlg


def purge_and_wait(qtbot, dlg):
    assert not dlg.purge_button.isEnabled()             # confirmation first
    dlg.confirm_box.setChecked(True)
    assert dlg.purge_button.isEnabled()
    with qtbot.waitSignal(dlg.sigPurged, timeout=10000) as blocker:
        qtbot.mouseClick(dlg.purge_button, Qt.MouseButton.LeftButton)
    assert dlg.outcome == "ok", dlg.error
    return blocker.args


def test_purge_range_removes_exactly_start_exclusive_end_inclusive(qtbot, manager, runner, channel):
    stream = make_clock_stream(manager, channel, StreamId("ticks", {"house": "1"}))
    rng = TimeInterval(T0 + 10 * MIN, T0 + 20 * MIN)
    dlg = open_dialog(qtbot, runner, [stream], rng)
    assert dlg.stream_list.count() == 1
    assert dlg.stream_list.item(0).text() == f"{channel.channel_id} / ticks: [house=1]"
    assert "<b>60</b> instances will be deleted from 1 stream" in dlg.count_label.text()
    dlg.set_scope(SCOPE_RANGE)
    assert dlg.instances_to_delete() == 10
    assert "<b>10</b> instances will be deleted in the time range" in dlg.count_label.text()

    ids, removed_definition = purge_and_wait(qtbot, dlg)
    assert ids == [stream.stream_id] and removed_definition is False
    assert dlg.outcome == "ok"
    stamps = [i.timestamp for i in stream.window(HOUR)]
    assert len(stamps) == 50
    assert T0 + 10 * MIN in stamps                         # the start is exclusive: kept
    assert T0 + 11 * MIN not in stamps and T0 + 20 * MIN not in stamps   # (start, end] gone
    assert T0 + 21 * MIN in stamps
    assert stream.calculated_intervals == TimeIntervals([TimeInterval(T0, rng.start), TimeInterval(rng.end, HOUR.end)])
    if HAVE_STORE:  # what a fresh connection reads back from the store
        again = ChannelManager.open(manager.store.path)
        s2 = again.get_channel(channel.channel_id)[stream.stream_id]
        assert s2.calculated_intervals == stream.calculated_intervals
        assert s2.window(HOUR).count() == 50
        again.close()


def test_purge_all_data_of_a_name_node_keeps_definitions(qtbot, manager, runner, channel):
    streams = [make_clock_stream(manager, channel, StreamId("temp", {"room": r})) for r in ("hall", "kitchen")]
    other = make_clock_stream(manager, channel, StreamId("humidity"))
    tree = StreamTreeWidget(runner)
    qtbot.addWidget(tree)
    tree.set_manager(manager)
    node = tree.model.find_index(channel.channel_id, name="temp")
    below = tree.model.streams_for_index(node)                 # what the tree hands over for a name node
    assert {s.stream_id for s in below} == {s.stream_id for s in streams}

    dlg = open_dialog(qtbot, runner, below)
    assert dlg.scope == SCOPE_ALL
    assert dlg.instances_to_delete() == 120
    assert {dlg.stream_list.item(i).text() for i in range(2)} == {
        f"{channel.channel_id} / temp: [room=hall]", f"{channel.channel_id} / temp: [room=kitchen]"}
    ids, removed_definition = purge_and_wait(qtbot, dlg)
    assert set(ids) == {s.stream_id for s in streams} and not removed_definition
    for s in streams:
        assert s.stream_id in channel.streams
        assert s.window(HOUR).count() == 0
        assert s.calculated_intervals.is_empty
    assert other.window(HOUR).count() == 60                   # streams not below the node are untouched


def test_purge_with_definition_removes_stream_from_tree(qtbot, manager, runner, channel):
    gone = make_clock_stream(manager, channel, StreamId("old", {"v": "1"}))
    kept = make_clock_stream(manager, channel, StreamId("old", {"v": "2"}))
    tree = StreamTreeWidget(runner)
    qtbot.addWidget(tree)
    tree.set_manager(manager)
    assert tree.model.find_index(channel.channel_id, gone.stream_id).isValid()

    dlg = open_dialog(qtbot, runner, [gone])
    dlg.sigPurged.connect(lambda *_: tree.model.reload())   # what the main window does afterwards
    dlg.set_scope(SCOPE_DEFINITION)
    assert "and the definitions of 1 stream" in dlg.count_label.text()
    ids, removed_definition = purge_and_wait(qtbot, dlg)
    assert ids == [gone.stream_id] and removed_definition is True
    assert gone.stream_id not in channel.streams
    assert not tree.model.find_index(channel.channel_id, gone.stream_id).isValid()
    assert tree.model.find_index(channel.channel_id, kept.stream_id).isValid()
    assert kept.window(HOUR).count() == 60
    if HAVE_STORE:
        assert manager.store.get_definition(gone.stream_id) is None
    # the dialog is done: it does not offer a second purge
    assert not dlg.purge_button.isEnabled()


def test_read_only_channels_offer_no_purge(qtbot, manager, runner):
    tool_streams = list(manager.get_channel("tools").streams.values())
    assert tool_streams
    dlg = PurgeDialog(runner, tool_streams[:2], HOUR)
    qtbot.addWidget(dlg)
    assert dlg.streams == []
    assert "read-only channels offer no purge" in dlg.count_label.text()
    assert not dlg.confirm_box.isEnabled()
    assert not dlg.purge_button.isEnabled()
    assert dlg.purge() is None


def test_cancel_before_the_purge_runs_deletes_nothing(qtbot, manager, runner, channel):
    a = make_clock_stream(manager, channel, StreamId("a"))
    b = make_clock_stream(manager, channel, StreamId("b"))
    dlg = open_dialog(qtbot, runner, [a, b])
    dlg.confirm_box.setChecked(True)
    # occupy every worker so the purge job is still queued when Cancel is pressed
    gate = threading.Event()
    blockers = [runner.submit("block", lambda ctx: gate.wait(5)) for _ in range(runner.pool.maxThreadCount())]
    job = dlg.purge()
    assert dlg.cancel_button.isEnabled()
    with qtbot.waitSignal(job.cancelled, timeout=10000):
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
    for j in blockers:
        j.wait(5)
    assert dlg.outcome == "cancelled"
    assert "0 of 2" in dlg.status_label.text()
    assert a.window(HOUR).count() == 60 and b.window(HOUR).count() == 60
    assert a.calculated_intervals == TimeIntervals([HOUR])


def test_purge_refused_while_a_job_writes_the_stream_then_allowed(qtbot, manager, runner, channel):
    """A purge and a running job that writes the same stream would race over its data and calculated
    intervals: the dialog refuses, naming the job; once the job is over the purge runs."""
    stream = make_clock_stream(manager, channel, StreamId("busy"))
    other = make_clock_stream(manager, channel, StreamId("idle"))
    release = threading.Event()
    job = runner.submit("run clock → busy", lambda ctx: release.wait(10), kind="tool",
                        writes=[(channel.channel_id, stream.stream_id)])
    qtbot.waitUntil(lambda: job.started_at is not None, timeout=5000)
    try:
        dlg = open_dialog(qtbot, runner, [stream])
        dlg.confirm_box.setChecked(True)
        qtbot.mouseClick(dlg.purge_button, Qt.MouseButton.LeftButton)
        assert dlg.job is None and dlg.outcome is None                     # nothing started
        assert dlg.error_label.isVisible()
        text = dlg.error_label.text()
        assert "Not purged" in text and "run clock → busy" in text and "cancel" in text
        assert stream.window(HOUR).count() == 60
        # a stream the job does not write can be purged meanwhile
        dlg2 = open_dialog(qtbot, runner, [other])
        purge_and_wait(qtbot, dlg2)
        assert other.window(HOUR).count() == 0
    finally:
        release.set()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    qtbot.mouseClick(dlg.purge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.outcome is not None, timeout=10000)
    assert dlg.outcome == "ok" and not dlg.error_label.isVisible()
    assert stream.window(HOUR).count() == 0


def test_a_writing_job_that_declares_no_streams_blocks_every_purge(qtbot, manager, runner, channel):
    stream = make_clock_stream(manager, channel, StreamId("any"))
    release = threading.Event()
    job = runner.submit("Import data.csv", lambda ctx: release.wait(10), kind="write")
    qtbot.waitUntil(lambda: job.started_at is not None, timeout=5000)
    try:
        dlg = open_dialog(qtbot, runner, [stream])
        dlg.confirm_box.setChecked(True)
        qtbot.mouseClick(dlg.purge_button, Qt.MouseButton.LeftButton)
        assert dlg.job is None and "Import data.csv" in dlg.error_label.text()
        assert stream.window(HOUR).count() == 60
    finally:
        release.set()
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
