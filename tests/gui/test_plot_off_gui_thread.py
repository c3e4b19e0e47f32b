"""Plotting a large memory-channel stream: everything the picture needs is computed in a job, what is drawn is
bounded by the pane's pixels, and the drawn line breaks only at the calculated intervals' gap."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
import pytest

import channels.memory_channel as memory_channel
from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval, TimeIntervals
from channels.utils import UTC
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SEC = timedelta(seconds=1)


def settled(area):
    return bool(area.curves()) and area.curves()[0].mode is not None and not area.busy


@pytest.fixture
def area(qtbot, runner):
    made = {}
    a = PlotArea(runner, lambda cid, sid: made["channel"][sid])
    a.channel_holder = made
    qtbot.addWidget(a)
    a.resize(900, 500)
    a.show()
    qtbot.waitExposed(a)
    yield a
    a.close()


def test_the_summary_and_its_arrays_are_built_in_a_job_and_drawn_bounded_by_pixels(qtbot, area, monkeypatch):
    n = 200_000
    ch = MemoryChannel("mem")
    area.channel_holder["channel"] = ch
    s = ch.create_stream("big")
    s.writer([StreamInstance._make((T0 + SEC * (i + 1), float(i % 977))) for i in range(n)])
    gui = threading.current_thread()
    calls = []
    for name in ("summarise_with_blocks", "_ms_in_steps", "_values_in_steps"):
        real = getattr(memory_channel, name)

        def spy(*a, _real=real, _name=name, **k):
            calls.append((_name, threading.current_thread()))
            return _real(*a, **k)
        monkeypatch.setattr(memory_channel, name, spy)

    area.add_stream(s)
    qtbot.waitUntil(lambda: settled(area), timeout=20000)
    area.set_interval(TimeInterval(T0 + SEC * 50_000, T0 + SEC * 150_000))   # zoomed: a new summary
    qtbot.waitUntil(lambda: settled(area) and area.curves()[0].curve.data.interval.start > T0, timeout=20000)

    names = {c[0] for c in calls}
    assert {"summarise_with_blocks", "_ms_in_steps", "_values_in_steps"} <= names
    assert all(t is not gui for _n, t in calls), [n for n, t in calls if t is gui]
    curve = area.curves()[0].curve
    assert curve.data.mode == "summary"
    x, y = curve.line.xData, curve.line.yData
    assert x.dtype == np.float64 and y.dtype == np.float64
    pixels = curve.pane.pixel_width()
    assert len(x) <= 2 * pixels      # ~1.5 buckets per pixel (the view plus what is fetched beyond it)
    assert np.nanmax(curve.data.hi) == 976.0


def test_a_write_while_the_arrays_are_built_is_not_lost(monkeypatch):
    """The arrays are built outside the channel's lock; a write that lands meanwhile is seen by the next read."""
    ch = MemoryChannel("mem")
    s = ch.create_stream("x")
    s.writer([StreamInstance(T0 + SEC * (i + 1), float(i)) for i in range(1000)])
    real = memory_channel._values_in_steps
    wrote = []

    def write_meanwhile(insts, n, component):
        if not wrote:
            wrote.append(1)
            s.writer([StreamInstance(T0 + SEC * 2000, 5000.0)])   # the lock is free: this does not wait
        return real(insts, n, component)
    monkeypatch.setattr(memory_channel, "_values_in_steps", write_meanwhile)
    everything = TimeInterval(T0, T0 + SEC * 3000)
    first = s.window(everything).summary(3)
    assert first.total == 1000           # as the stream was when the read began
    second = s.window(everything).summary(3)
    assert second.total == 1001 and np.nanmax(second.max) == 5000.0
    ms, vals = s.window(everything).columns()
    assert len(ms) == 1001 and vals[-1] == 5000.0


def test_the_overview_of_a_stream_with_one_gap_breaks_once_at_every_zoom(qtbot, area):
    """The reported case: a 300,000 s stream whose calculated intervals have one 60 s gap."""
    ch = MemoryChannel("mem")
    area.channel_holder["channel"] = ch
    s = ch.create_stream("gappy")
    gap = 150_000
    ch.write_chunk(s, [StreamInstance(T0 + SEC * t, float(t % 977)) for t in range(5, gap + 1, 5)],
                   TimeInterval(T0, T0 + SEC * gap))
    ch.write_chunk(s, [StreamInstance(T0 + SEC * t, float(t % 977)) for t in range(gap + 65, 300_001, 5)],
                   TimeInterval(T0 + SEC * (gap + 60), T0 + SEC * 300_000))
    s.set_calculated_intervals_silently(TimeIntervals([TimeInterval(T0, T0 + SEC * gap),
                                                       TimeInterval(T0 + SEC * (gap + 60), T0 + SEC * 300_000)]))
    area.add_stream(s)
    views = [None, (0, 300_000), (gap - 40_000, gap + 20_000), (gap - 1_000, gap + 1_000), (gap - 100, gap + 200)]
    for v in views:
        if v is not None:
            area.set_interval(TimeInterval(T0 + SEC * v[0], T0 + SEC * v[1]))
            qtbot.waitUntil(lambda: not area.busy, timeout=20000)
        # settled with data drawn (the first read may come before the view fitted the stream and re-read it)
        qtbot.waitUntil(lambda: settled(area) and area.curves()[0].points > 0, timeout=20000)
        curve = area.curves()[0].curve
        x, y = curve.line.xData - T0.timestamp(), curve.line.yData
        drawn = np.flatnonzero(np.isfinite(y))
        holes = [(x[drawn[j]], x[drawn[j + 1]]) for j in np.flatnonzero(np.diff(drawn) > 1)]
        d = curve.data
        slack = (d.interval.width.total_seconds() / d.buckets / 2 if d.mode == "summary" else 0) + 0.01
        assert len(holes) == 1, (v, d.mode, holes)
        assert holes[0][0] - slack <= gap and gap + 60 <= holes[0][1] + slack, (v, d.mode, holes)
