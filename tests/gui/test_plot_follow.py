"""Zooming and panning: the curves follow the moving view (reads start during the gesture, one at a time per
curve, the newest range next), and a summary of a large memory stream comes from its blocks."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from channels.memory_channel import MemoryChannel
from channels.time_interval import TimeInterval
from channels.utils import UTC, to_ms
from hsgui.common.timefmt import interval_from_seconds
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
N = 100_000


class GatedChannel(MemoryChannel):
    """A memory channel whose summaries wait for ``gate`` (a slow store, made deterministic)."""

    def __init__(self, channel_id):
        super().__init__(channel_id)
        self.gate = threading.Event()
        self.gate.set()
        self.summaries = 0

    def get_summary(self, stream, time_interval, buckets, component=None):
        self.summaries += 1
        assert self.gate.wait(20), "the test never opened the gate"
        return super().get_summary(stream, time_interval, buckets, component)


@pytest.fixture
def channel():
    ch = GatedChannel("mem")
    s = ch.create_stream("big")
    k = np.arange(N)
    ch.insert_arrays(s, to_ms(T0) + (k + 1) * 1000, np.sin(k / 500.0))
    return ch


@pytest.fixture
def area(qtbot, runner, channel):
    a = PlotArea(runner, lambda cid, sid: channel[sid])
    qtbot.addWidget(a)
    a.resize(900, 500)
    a.show()
    qtbot.waitExposed(a)
    a.add_stream(channel["big"])
    qtbot.waitUntil(lambda: bool(a.curves()) and a.curves()[0].mode is not None and not a.busy, timeout=10000)
    return a


def covers_view(area) -> bool:
    """The curve's data covers the visible range at one bucket per pixel (what "new detail on screen" means)."""
    pane = area.panes[0]
    c = area.curves()[0].curve
    return not c.needs(interval_from_seconds(*pane.x_range()), pane.pixel_width())


def wheel(qtbot, area, notches: int):
    pane = area.panes[0]
    vp = pane.plot_widget.viewport()
    r = pane.view_box.sceneBoundingRect()
    pos = QPointF(pane.plot_widget.mapFromScene(r.center()))
    for _ in range(notches):
        qtbot.wait(5)
        ev = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos)), QPoint(), QPoint(0, 120), Qt.NoButton, Qt.NoModifier,
                         Qt.NoScrollPhase, False)
        vp.setFocus()
        from PySide6.QtWidgets import QApplication
        QApplication.sendEvent(vp, ev)


def test_a_zoom_reads_the_new_detail_before_the_range_is_reported_settled(qtbot, area, runner):
    order = []
    runner.jobAdded.connect(lambda job: order.append("read") if job.title.startswith("plot ") else None)
    area.sigRangeChanged.connect(lambda iv: order.append("settled"))
    wheel(qtbot, area, 3)
    qtbot.waitUntil(lambda: "settled" in order and not area.busy, timeout=10000)
    assert order[0] == "read"          # the read of the new range started while the gesture went on
    assert covers_view(area)


def test_moves_during_a_read_wait_for_it_then_the_newest_range_is_read_once(qtbot, area, channel, runner):
    reads = []
    runner.jobAdded.connect(lambda job: reads.append(job) if job.title.startswith("plot ") else None)
    channel.gate.clear()                # the store is slow: the first read of the gesture does not deliver yet
    vb = area.panes[0].view_box
    x0, x1 = vb.viewRange()[0]
    w = x1 - x0
    for i in range(1, 6):               # a gesture: five zoom steps into the middle
        w /= 2
        vb.setXRange((x0 + x1) / 2 - w / 2, (x0 + x1) / 2 + w / 2, padding=0)
        qtbot.wait(20)
    assert len(reads) == 1              # one read in flight; the later moves only marked the curve
    assert not covers_view(area)
    channel.gate.set()
    qtbot.waitUntil(lambda: not area.busy and covers_view(area), timeout=10000)
    assert len(reads) == 2              # then exactly one more: the range the view shows now
    assert area.curves()[0].curve.data.interval.start.timestamp() <= vb.viewRange()[0][0]


def test_a_memory_summary_from_blocks_is_the_direct_summary_and_sees_new_data(channel):
    from channels.lod import summarise_arrays
    s = channel["big"]
    k = np.arange(N)
    ms, vals = to_ms(T0) + (k + 1) * 1000, np.sin(k / 500.0)
    for lo, hi, b in ((0, N, 900), (1234, 98_765, 700), (5, 40_000, 13)):
        iv = TimeInterval(T0 + timedelta(seconds=lo) + timedelta(milliseconds=300),
                          T0 + timedelta(seconds=hi) + timedelta(milliseconds=700))
        got = s.window(iv).summary(b)
        want = summarise_arrays(ms, vals, to_ms(iv.start), to_ms(iv.end), b)
        assert (got.count == want.count).all() and (got.first_ms == want.first_ms).all()
        np.testing.assert_allclose(got.mean, want.mean, rtol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(got.max, want.max)
    channel.insert_arrays(s, [to_ms(T0) + (N + 1) * 1000], [99.0])   # a write after the blocks were built
    everything = TimeInterval(T0, T0 + timedelta(seconds=N + 2))
    assert s.window(everything).summary(10).max[-1] == 99.0


def test_a_pan_at_raw_zoom_shows_the_coarse_level_at_once_and_the_raw_points_after(qtbot, area, channel):
    start = T0 + timedelta(seconds=50_000)
    area.set_interval(TimeInterval(start, start + timedelta(seconds=600)))    # 600 instances: raw points
    qtbot.waitUntil(lambda: not area.busy and area.curves()[0].mode == "raw", timeout=10000)
    c = area.curves()[0].curve
    held_end = c.data.interval.end.timestamp()
    channel.gate.clear()                 # the store is slow: the pan's read does not deliver yet
    vb = area.panes[0].view_box
    x0, x1 = vb.viewRange()[0]
    vb.setXRange(x0 + (x1 - x0) * 0.9, x1 + (x1 - x0) * 0.9, padding=0)     # drag 90 % of the width onwards
    qtbot.wait(50)
    x, y = c.backdrop.getData()
    strip = (x > held_end) & (x <= x1 + (x1 - x0) * 0.9)
    assert c.backdrop.isVisible() and np.isfinite(y[strip]).sum() > 10   # the new strip: the coarser level
    assert c.data.mode == "raw" and c.data.interval.end.timestamp() == held_end
    channel.gate.set()
    qtbot.waitUntil(lambda: not area.busy and covers_view(area), timeout=10000)
    assert c.data.mode == "raw" and c.data.interval.end.timestamp() >= vb.viewRange()[0][1]   # then the detail
    x, y = c.backdrop.getData()
    inside = (x >= c.data.interval.start.timestamp()) & (x <= c.data.interval.end.timestamp())
    assert not np.isfinite(y[inside]).any()    # where raw points are, no coarse stand-in
