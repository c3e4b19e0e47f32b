"""Plot panes: what a user sees after dropping streams, zooming, changing zone, exporting."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta

import numpy as np
import pytest
import pytz
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.common.background import JobRunner, JobState
from hsgui.common.mime import streams_to_mime
from hsgui.common.timefmt import datetime_to_seconds
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
N_BIG = 40_000


def _fill(stream, values, step=timedelta(minutes=1), start=T0):
    stream.writer([StreamInstance._make((start + step * (i + 1), v)) for i, v in enumerate(values)])


@pytest.fixture(scope="module")
def channel():
    ch = MemoryChannel("mem")
    _fill(ch.create_stream("small"), [float(i) for i in range(40)], step=timedelta(hours=1))
    _fill(ch.create_stream("other"), [float(i * i) for i in range(40)], step=timedelta(hours=1))
    _fill(ch.create_stream("env"), [{"temp": 20 + i * 0.1, "hum": 40 + i % 7, "room": "kitchen"}
                                     for i in range(30)], step=timedelta(hours=1))
    rng = np.random.default_rng(1)
    _fill(ch.create_stream("big"), (np.sin(np.arange(N_BIG) / 500) + rng.random(N_BIG) * 0.1).tolist(),
          step=timedelta(seconds=10))
    _fill(ch.create_stream("door"), ["open" if i % 2 else "closed" for i in range(12)], step=timedelta(hours=2))
    gappy = ch.create_stream("gappy")
    _fill(gappy, [1.0, 2.0, 3.0], step=timedelta(hours=1))
    _fill(gappy, [7.0, 8.0, 9.0], step=timedelta(hours=1), start=T0 + timedelta(hours=10))
    gappy.calculated_intervals = [TimeInterval(T0, T0 + timedelta(hours=3)),
                                  TimeInterval(T0 + timedelta(hours=10), T0 + timedelta(hours=13))]
    return ch


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown(5000)


@pytest.fixture
def area(qtbot, runner, channel):
    a = PlotArea(runner, lambda cid, sid: channel[sid])
    qtbot.addWidget(a)
    a.resize(900, 600)
    a.show()
    qtbot.waitExposed(a)
    return a


def settle(qtbot, area, n=None, timeout=5000):
    """Wait until every curve has data and no read is in flight."""
    def done():
        cs = area.curves()
        assert n is None or len(cs) == n
        assert cs and all(c.mode is not None for c in cs)
        assert not area.busy and not area._debounce.isActive()
    qtbot.waitUntil(done, timeout=timeout)


def curve(area, name, component=None):
    return next(c for c in area.curves() if c.stream.stream_id.name == name and c.component == component)


def drop(widget, mime):
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(QPoint(int(pos.x()), int(pos.y())), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    ev = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, ev)
    return ev


def test_dropping_a_stream_adds_a_curve_with_every_point(qtbot, area, channel):
    pane = area.panes[0]
    ev = drop(pane.plot_widget.viewport(), streams_to_mime([channel["small"]]))
    assert ev.isAccepted()
    settle(qtbot, area, 1)
    c = curve(area, "small")
    assert (c.mode, c.points, c.visible) == ("raw", 40, True)
    x, y = c.curve.line.getData()
    assert len(x) == 40 and y[0] == 0.0 and y[-1] == 39.0
    # the curve is on screen: y fits the data (the auto-range follows on the next paint)
    qtbot.waitUntil(lambda: pane.view_box.viewRange()[1][0] <= 0.0 and pane.view_box.viewRange()[1][1] >= 39.0,
                    timeout=3000)
    # the range was fitted to the data: first and last instance are visible
    iv = area.interval()
    assert iv.start < T0 + timedelta(hours=1) and iv.end >= T0 + timedelta(hours=40)
    # the legend names the stream
    assert [label.text for _s, label in pane.plot_item.legend.items] == ["small"]


def test_drop_of_foreign_data_is_refused(qtbot, area):
    from PySide6.QtCore import QMimeData
    md = QMimeData()
    md.setText("hello")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(area.panes[0].plot_widget.viewport(), enter)
    assert not enter.isAccepted()
    assert area.curves() == []


def test_several_streams_per_pane_get_distinct_colours_and_can_be_hidden_or_removed(qtbot, area, channel):
    area.add_stream(channel["small"])
    area.add_stream(channel["other"])
    settle(qtbot, area, 2)
    a, b = curve(area, "small"), curve(area, "other")
    assert a.curve.colour != b.curve.colour
    b.curve.set_visible(False)
    assert {c.label: c.visible for c in area.curves()} == {"small": True, "other": False}
    assert not b.curve.envelope.isVisible()
    area.panes[0].remove_curve(a.curve)
    assert [c.label for c in area.curves()] == ["other"]
    assert len(area.panes[0].plot_item.legend.items) == 1


def test_linked_panes_share_the_x_range_and_a_zoom_is_reported_once(qtbot, area, channel):
    top = area.panes[0]
    bottom = area.add_pane()
    area.add_stream(channel["small"], pane=top)
    area.add_stream(channel["other"], pane=bottom)
    settle(qtbot, area, 2)
    iv = TimeInterval(T0 + timedelta(hours=5), T0 + timedelta(hours=15))
    with qtbot.assertNotEmitted(area.sigRangeChanged, wait=300):
        area.set_interval(iv)
    x = (datetime_to_seconds(iv.start), datetime_to_seconds(iv.end))
    assert top.x_range() == pytest.approx(x, abs=1e-3) and bottom.x_range() == pytest.approx(x, abs=1e-3)
    assert area.interval() == iv

    # the user zooms the bottom pane: the top follows, and one debounced signal reports it
    received = []
    area.sigRangeChanged.connect(received.append)
    z0, z1 = datetime_to_seconds(T0 + timedelta(hours=8)), datetime_to_seconds(T0 + timedelta(hours=12))
    for k in range(5):  # a burst of wheel steps
        bottom.view_box.setXRange(z0 - (5 - k) * 60, z1, padding=0)
    assert top.x_range() == pytest.approx((z0 - 60, z1), abs=1e-3)
    qtbot.waitUntil(lambda: len(received) == 1, timeout=2000)
    qtbot.wait(250)
    assert len(received) == 1
    assert received[0] == TimeInterval(T0 + timedelta(hours=8) - timedelta(minutes=1), T0 + timedelta(hours=12))
    settle(qtbot, area, 2)
    # each pane shows only the instances around the new range (plus the pre-fetched margins)
    assert curve(area, "small").points < 40


def test_removing_the_first_pane_keeps_the_others_linked(qtbot, area, channel):
    second = area.add_pane()
    third = area.add_pane()
    area.set_interval(TimeInterval(T0, T0 + timedelta(hours=5)))
    area.remove_pane(area.panes[0])
    assert area.panes == [second, third]
    third.view_box.setXRange(datetime_to_seconds(T0), datetime_to_seconds(T0 + timedelta(hours=2)), padding=0)
    assert second.x_range() == pytest.approx(third.x_range(), abs=1e-3)


def test_time_zone_change_relabels_the_axis_but_keeps_the_interval(qtbot, area, channel):
    area.add_stream(channel["small"])
    settle(qtbot, area, 1)
    iv = TimeInterval(T0 + timedelta(hours=2), T0 + timedelta(hours=8))
    area.set_interval(iv)
    axis = area.panes[0].axis
    x = datetime_to_seconds(T0 + timedelta(hours=4))
    values = axis.tickValues(datetime_to_seconds(iv.start), datetime_to_seconds(iv.end), 800)
    hour_spacing = next(sp for sp, ticks in values if ticks)
    assert axis.tickStrings([x], 1, hour_spacing) == ["04:00"]
    area.set_time_zone(pytz.timezone("Asia/Kolkata"))
    assert axis.tickStrings([x], 1, hour_spacing) == ["09:30"]
    assert "times in Asia/Kolkata" in area.panes[0].readout.text()
    qtbot.wait(200)
    assert area.interval() == iv
    # the cursor read-out shows times in the zone too
    area.set_cursor(x)
    assert area.panes[0].readout.text().startswith("2024-03-01 09:30:00.000 IST")


def test_dict_stream_offers_its_numeric_components(qtbot, area, channel):
    stream = channel["env"]
    area.add_stream(stream)
    settle(qtbot, area, 2)
    assert area.components_of(stream) == ["temp", "hum"]
    assert sorted((c.component, c.points) for c in area.curves()) == [("hum", 30), ("temp", 30)]
    t = curve(area, "env", "temp").curve
    assert t.line.getData()[1][0] == pytest.approx(20.0)
    pane = area.panes[0]
    pane._fill_curves_menu()
    comp_menu = next(a.menu() for a in pane.curves_menu.actions() if a.menu() and "components" in a.text())
    toggles = {a.text(): a for a in comp_menu.actions()}
    assert set(toggles) == {"temp", "hum"} and all(a.isCheckable() and a.isChecked() for a in toggles.values())
    toggles["hum"].setChecked(False)
    assert [c.component for c in area.curves()] == ["temp"]
    toggles["hum"].setChecked(True)
    settle(qtbot, area, 2)
    assert curve(area, "env", "hum").points == 30


def test_dict_stream_with_a_given_component_plots_only_that(qtbot, area, channel):
    area.add_stream(channel["env"], component="hum")
    settle(qtbot, area, 1)
    assert [(c.component, c.points) for c in area.curves()] == [("hum", 30)]


def test_large_stream_is_drawn_as_a_summary_of_at_most_two_points_per_pixel(qtbot, area, channel):
    area.add_stream(channel["big"])
    settle(qtbot, area, 1)
    c = curve(area, "big")
    width = area.panes[0].pixel_width()
    assert c.mode == "summary"
    assert width / 2 < c.points <= 2 * width
    d = c.curve.data
    # an envelope: every bucket's min <= mean <= max, drawn as the area between maxima and minima
    ok = np.isfinite(d.y)
    assert np.all(d.lo[ok] <= d.y[ok]) and np.all(d.y[ok] <= d.hi[ok])
    _x, hi = c.curve.env_hi.getData()
    _x, lo = c.curve.env_lo.getData()
    assert np.isfinite(hi).sum() == np.isfinite(lo).sum() == c.points
    assert c.curve.envelope.isVisible() and not c.curve.envelope.path().isEmpty()
    # zoom into ~200 instances: the pane switches to the raw points
    start = T0 + timedelta(seconds=10 * 20_000)
    area.set_interval(TimeInterval(start, start + timedelta(seconds=10 * 200)))
    settle(qtbot, area, 1)
    c = curve(area, "big")
    assert c.mode == "raw" and c.points == 300  # 200 visible + 25 % fetched beyond each side
    assert not c.curve.envelope.isVisible()


def test_a_stale_result_never_overwrites_a_newer_one(qtbot, area, channel):
    area.add_stream(channel["big"])
    settle(qtbot, area, 1)
    c = curve(area, "big").curve
    first = TimeInterval(T0, T0 + timedelta(days=1))
    second = TimeInterval(T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    c.request(area.runner, first, 500)
    job_first = c.read_job
    c.request(area.runner, second, 500)
    job_first.wait(5)
    c.read_job.wait(5)
    qtbot.waitUntil(lambda: c.data.interval == second and not c.busy, timeout=3000)
    qtbot.wait(100)
    assert c.data.interval == second


def test_gaps_between_calculated_intervals_are_breaks(qtbot, area, channel):
    area.add_stream(channel["gappy"])
    settle(qtbot, area, 1)
    c = curve(area, "gappy")
    x, y = c.curve.line.getData()
    assert c.points == 6
    assert np.isnan(y).sum() == 1 and np.isnan(y[3])


def test_string_events_are_markers_with_their_text_in_the_readout(qtbot, area, channel):
    area.add_stream(channel["door"])
    settle(qtbot, area, 1)
    c = curve(area, "door")
    assert (c.kind, c.points) == ("event", 12)
    x, y = c.curve.line.getData()
    assert set(y.tolist()) == {0.0, 1.0}  # one level per state, labelled with its text
    assert area.panes[0].plot_item.getAxis("left")._tickLevels == [[(0.0, "closed"), (1.0, "open")]]
    area.set_cursor(datetime_to_seconds(T0 + timedelta(hours=4, minutes=30)))
    assert "open" in area.panes[0].readout.text()


def test_cursor_shows_each_curves_value_in_every_pane(qtbot, area, channel):
    area.add_stream(channel["small"])
    area.add_stream(channel["other"], pane=area.add_pane())
    settle(qtbot, area, 2)
    area.set_cursor(datetime_to_seconds(T0 + timedelta(hours=6, minutes=10)))
    top, bottom = area.panes
    assert "small</span> 5" in top.readout.text()
    assert "other</span> 25" in bottom.readout.text()
    assert top.cursor.value() == bottom.cursor.value()


def test_fit_to_data_shows_every_stream(qtbot, area, channel):
    area.add_stream(channel["small"])
    settle(qtbot, area, 1)
    area.set_interval(TimeInterval(T0, T0 + timedelta(hours=1)))
    with qtbot.waitSignal(area.sigRangeChanged) as sig:
        area.fit_to_data()
    iv = sig.args[0]
    assert iv.start <= T0 + timedelta(hours=1) and iv.end >= T0 + timedelta(hours=40)
    assert area.interval() == iv


def test_export_writes_png_svg_and_the_visible_rows_as_csv(qtbot, area, channel, tmp_path):
    area.add_stream(channel["small"])
    settle(qtbot, area, 1)
    area.set_interval(TimeInterval(T0 + timedelta(hours=10), T0 + timedelta(hours=20)))
    settle(qtbot, area, 1)
    png, svg, out = tmp_path / "pane.png", tmp_path / "pane.svg", tmp_path / "small.csv"
    area.export_image(area.panes[0], str(png))
    area.export_image(area.panes[0], str(svg))
    # the view still scales y to the visible values (hours 11..20 -> 10..19) after the export
    qtbot.waitUntil(lambda: area.panes[0].view_box.viewRange()[1][0] <= 10.0
                    and area.panes[0].view_box.viewRange()[1][1] >= 19.0, timeout=15000)
    img = QImage(str(png))
    assert img.width() >= 400 and img.height() > 100
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    # the curve is drawn where it belongs: its 10 visible points have 10 distinct page x coordinates spread over
    # the plot (epoch-second coordinates written with 6 significant digits would all collapse onto one x)
    import re
    paths = [re.findall(r"(-?[\d.]+(?:e[+-]?\d+)?),(-?[\d.]+(?:e[+-]?\d+)?)", d)
             for d in re.findall(r'\sd="([^"]+)"', svg.read_text())]
    curve = max(paths, key=len)
    xs = sorted({round(float(x), 1) for x, _y in curve})
    width = float(re.search(r'viewBox\s*="0 0 ([\d.]+)', svg.read_text()).group(1))
    on_page = [x for x in xs if 0 <= x <= width]  # points fetched beyond the view (for panning) fall off the page
    assert len(on_page) >= 10 and on_page[-1] - on_page[0] > 0.5 * width
    job = area.export_curve_csv(area.curves()[0], str(out))
    qtbot.waitUntil(lambda: job.is_finished, timeout=30000)   # a shared, loaded machine: no fixed wait
    assert job.state is JobState.DONE
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time", "epoch_ms", "value"]
    assert [float(r[2]) for r in rows[1:]] == [float(v) for v in range(10, 20)]  # hours 11..20 -> values 10..19
    assert rows[1][0] == "2024-03-01T11:00:00.000+00:00"


def test_refresh_stream_rereads_after_new_data(qtbot, area):
    ch = MemoryChannel("fresh")
    s = ch.create_stream("growing")
    _fill(s, [1.0, 2.0, 3.0], step=timedelta(hours=1))
    area.add_stream(s)
    settle(qtbot, area, 1)
    area.set_interval(TimeInterval(T0, T0 + timedelta(hours=10)))
    settle(qtbot, area, 1)
    _fill(s, [4.0, 5.0], step=timedelta(hours=1), start=T0 + timedelta(hours=3))
    area.refresh_stream(s)
    settle(qtbot, area, 1)
    assert area.curves()[0].points == 5


def test_clear_leaves_one_empty_pane(qtbot, area, channel):
    area.add_stream(channel["small"])
    area.add_stream(channel["other"], pane=area.add_pane())
    settle(qtbot, area, 2)
    area.clear()
    assert len(area.panes) == 1 and area.curves() == []


def test_cursor_readout_tells_variants_apart_and_shows_booleans(qtbot, runner):
    from channels import StreamId
    ch = MemoryChannel("variants")
    a_, b_ = ch.create_stream(StreamId("temp", {"house": 1})), ch.create_stream(StreamId("temp", {"house": 2}))
    flag = ch.create_stream("flag")
    _fill(a_, [1.5, 2.5], step=timedelta(hours=1))
    _fill(b_, [7.5, 8.5], step=timedelta(hours=1))
    _fill(flag, [True, False], step=timedelta(hours=1))
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    qtbot.addWidget(area)
    area.resize(900, 400)
    area.show()
    for s in (a_, b_, flag):
        area.add_stream(s)
    settle(qtbot, area, 3)
    area.set_cursor(datetime_to_seconds(T0 + timedelta(hours=1, minutes=30)))
    text = area.panes[0].readout.text()
    assert "temp [1]</span> 1.5" in text and "temp [2]</span> 7.5" in text
    assert "flag</span> true" in text
    assert area.panes[0].readout.wordWrap()
