"""XY panes: one stream against another, paired on time over the visible range, as a user makes and uses them."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import numpy as np
import pytest
from hsgui_test_stores import HOUR, make_sqlite_store
from hsgui_test_stores import T0 as STORE_T0
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from channels.memory_channel import MemoryChannel
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.common.background import JobRunner
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
DOCS = os.environ.get("HSGUI_SCREENSHOTS")


def at(i):
    return T0 + MIN * (i + 1)


XS = [float(i % 97) - 40.0 for i in range(600)]


def has_y(i):
    return i % 10 != 0 and not 300 <= i < 360


def expected_pairs(lo, hi):
    """X minute i in [lo, hi) with the latest Y at or before it, no older than the Y spacing (1 min)."""
    out, dropped = [], 0
    for i in range(lo, hi):
        j = next((j for j in (i, i - 1) if j >= 0 and has_y(j)), None)
        if j is None:
            dropped += 1
        else:
            out.append((XS[i], 2 * XS[j] + 1))
    return out, dropped


@pytest.fixture
def area(qtbot):
    ch = MemoryChannel("mem")
    # X every minute for 10 h; Y = 2 X + 1 at the same minutes except every 10th minute and the 6th hour
    ch.create_stream("x").writer([StreamInstance._make((at(i), v)) for i, v in enumerate(XS)])
    ch.create_stream("y").writer([StreamInstance._make((at(i), 2 * v + 1)) for i, v in enumerate(XS) if has_y(i)])
    ch.create_stream("env").writer([StreamInstance._make((at(i), {"temp": 20 + i / 100, "hum": 50 - i / 50,
                                                                  "room": "hall"})) for i in range(600)])
    ch.create_stream("text").writer([StreamInstance._make((at(i), "door open")) for i in range(5)])
    runner = JobRunner()
    a = PlotArea(runner, lambda cid, sid: ch[sid] if sid in ch.streams else None)
    a.channel = ch
    qtbot.addWidget(a)
    a.resize(900, 700)
    a.show()
    qtbot.waitExposed(a)
    a.set_interval(TimeInterval(T0, T0 + 10 * HOUR))
    yield a
    a.close()
    assert runner.shutdown(10000)


def settled(qtbot, area):
    qtbot.waitUntil(lambda: not area.busy, timeout=10000)


def drawn(xy):
    x, y = xy.scatter.getData()
    return np.asarray(x), np.asarray(y)


def test_y_against_x_pairs_on_time_and_counts_what_found_no_partner(qtbot, area):
    ch = area.channel
    xy = area.add_xy_pane(ch["x"], ch["y"])
    settled(qtbot, area)
    x, y = drawn(xy)
    want, dropped = expected_pairs(0, 600)
    assert list(zip(x.tolist(), y.tolist())) == want and (len(want), dropped) == (539, 61)
    assert "539 points" in xy.count_label.text() and "61 X without a Y" in xy.count_label.text()
    assert xy.plot_item.getAxis("bottom").labelText == "x" and xy.plot_item.getAxis("left").labelText == "y"
    # a narrower time range re-reads: the 6th hour's X minutes (but the first, paired with the Y just before
    # the range) have no Y within a minute
    area.set_interval(TimeInterval(T0 + 5 * HOUR, T0 + 6 * HOUR))
    want, dropped = expected_pairs(300, 360)
    qtbot.waitUntil(lambda: len(drawn(xy)[0]) == len(want) == 1, timeout=10000)
    assert f"{dropped} X without a Y" in xy.count_label.text() and dropped == 59


def test_hovering_a_point_reads_out_its_time_and_both_values(qtbot, area):
    ch = area.channel
    xy = area.add_xy_pane(ch["x"], ch["y"])
    settled(qtbot, area)
    qtbot.waitUntil(lambda: xy.view_box.width() > 100, timeout=3000)
    qtbot.wait(50)
    vx, vy, t = xy._shown
    i = int(np.argmax(vx))                     # the rightmost point: alone at its place
    scene = xy.view_box.mapViewToScene(pg_point(vx[i], vy[i]))
    pos = xy.plot_widget.mapFromScene(scene)
    QTest.mouseMove(xy.plot_widget.viewport(), pos + QPoint(2, 1))
    qtbot.waitUntil(lambda: "X <b>" in xy.readout.text(), timeout=3000)
    text = xy.readout.text()
    assert f"X <b>{vx[i]:.6g}</b>" in text and f"Y <b>{vy[i]:.6g}</b>" in text
    assert datetime.fromtimestamp(t[i] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") in text
    mx, my = xy.marker.getData()
    assert list(mx) == [vx[i]] and list(my) == [vy[i]]


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(float(x), float(y))


def test_dict_streams_take_their_first_number_and_the_component_can_be_changed(qtbot, area):
    ch = area.channel
    xy = area.add_xy_pane(ch["x"], ch["env"])
    settled(qtbot, area)
    assert xy.y_component == "temp" and xy.y_components == ["temp", "hum"]
    assert xy.plot_item.getAxis("left").labelText == "env · temp"
    xy.options_menu.aboutToShow.emit()
    sub = next(a.menu() for a in xy.options_menu.actions() if a.text() == "Y component")
    next(a for a in sub.actions() if a.text() == "hum").trigger()
    settled(qtbot, area)
    _x, y = drawn(xy)
    assert xy.y_component == "hum" and y.max() <= 50 and y.min() < 40


def test_swap_log_axes_and_a_note_when_nothing_is_positive(qtbot, area):
    ch = area.channel
    xy = area.add_xy_pane(ch["x"], ch["y"])
    settled(qtbot, area)
    qtbot.mouseClick(next(b for b in xy.findChildren(type(xy.close_button)) if b.text() == "Swap X/Y"),
                     Qt.MouseButton.LeftButton)
    settled(qtbot, area)
    x, y = drawn(xy)
    assert xy.x_stream is ch["y"] and xy.plot_item.getAxis("bottom").labelText == "y"
    assert np.array_equal(x[y % 97 != 17], 2 * y[y % 97 != 17] + 1)
    xy.set_log(True, False)                                        # x > 0 only: y = (x-1)/2 with x in (0, ...]
    x, _y = drawn(xy)
    assert xy.plot_item.getAxis("bottom").logMode and np.all(np.isfinite(x))
    assert "not on the log axis" in xy.count_label.text()
    neg = area.add_xy_pane(ch["x"], ch["y"], options={"log_y": True})
    area.set_interval(TimeInterval(T0, T0 + 40 * MIN))             # x = -40 .. -1, y = 2x+1 < 0 throughout
    settled(qtbot, area)
    assert len(drawn(neg)[0]) == 0 and "Every value is ≤ 0" in neg.readout.text()


def test_a_text_stream_is_refused_with_a_message_naming_it(qtbot, area):
    xy = area.add_xy_pane(area.channel["x"], area.channel["text"])
    settled(qtbot, area)
    assert "Y: text holds text or events, not numbers" in xy.readout.text()


def test_close_button_removes_it_and_workspace_states_keep_it(qtbot, area):
    ch = area.channel
    xy = area.add_xy_pane(ch["x"], ch["env"], y_component="hum", options={"log_x": False, "log_y": True})
    settled(qtbot, area)
    states = area.pane_states()
    assert [s["kind"] for s in states] == ["time", "xy"]
    assert [(c["name"], c["component"]) for c in states[1]["curves"]] == [("x", None), ("env", "hum")]
    assert states[1]["options"]["log_y"] is True
    qtbot.mouseClick(xy.close_button, Qt.MouseButton.LeftButton)
    assert area.xy_panes == [] and [s["kind"] for s in area.pane_states()] == ["time"]
    missing = area.restore_panes(states)
    assert missing == []
    settled(qtbot, area)
    (back,) = area.xy_panes
    assert back.y_component == "hum" and back.log_y and back.x_stream is ch["x"]
    states[1]["curves"][0]["name"] = "gone"
    assert area.restore_panes(states) == ["mem/gone"] and area.xy_panes == []


# -- in the window: the tree's context menu, the pane's Curves menu, a workspace file ------------------------
@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"), size=(1300, 900),
                            interval=TimeInterval(STORE_T0, STORE_T0 + 48 * HOUR))


def test_from_the_tree_menu_with_two_streams_and_through_a_workspace(qtbot, window, tmp_path):
    db = window.manager.get_channel("mongo")
    alice = db[StreamId("temperature", {"house": 1, "resident": "alice"})]
    env = db[StreamId("environment", {"house": 1})]
    menu = window.tree.build_context_menu([alice, env])
    action = next(a for a in menu.actions() if a.text() == "XY pane: environment against temperature")
    action.trigger()
    qtbot.waitUntil(lambda: len(window.plot_area.xy_panes) == 1 and not window.plot_area.busy, timeout=10000)
    xy = window.plot_area.xy_panes[0]
    assert xy.x_stream is alice and xy.y_component == "temp"
    # environment has 24 hourly instances at alice's first 24 hours; hour 25 still pairs with the last (an hour
    # old, the Y spacing), the 23 after it do not
    assert len(drawn(xy)[0]) == 25 and "23 X without a Y" in xy.count_label.text()
    assert not any(a.text().startswith("XY pane") for a in window.tree.build_context_menu([alice]).actions())
    path = str(tmp_path / "ws.json")
    window.workspaces.save(path)
    with open(path, encoding="utf-8") as fh:
        assert json.load(fh)["panes"][-1]["kind"] == "xy"
    window.plot_area.clear()
    window.workspaces.open(path)
    qtbot.waitUntil(lambda: len(window.plot_area.xy_panes) == 1 and not window.plot_area.busy, timeout=10000)
    assert len(drawn(window.plot_area.xy_panes[0])[0]) == 25


def test_from_a_pane_curves_menu(qtbot, window):
    db = window.manager.get_channel("mongo")
    a = db[StreamId("temperature", {"house": 1, "resident": "alice"})]
    b = db[StreamId("temperature", {"house": 2, "resident": "bob"})]
    window.plot_streams([a, b])
    qtbot.waitUntil(lambda: len(window.plot_area.curves()) == 2 and not window.plot_area.busy, timeout=10000)
    pane = window.plot_area.panes[0]
    pane.curves_menu.aboutToShow.emit()
    sub = next(x.menu() for x in pane.curves_menu.actions() if x.text() == "New XY pane of…")
    labels = [x.text() for x in sub.actions()]
    assert len(labels) == 2
    next(x for x in sub.actions() if x.text().startswith("temperature [2, bob]")).trigger()
    qtbot.waitUntil(lambda: len(window.plot_area.xy_panes) == 1 and not window.plot_area.busy, timeout=10000)
    x, y = drawn(window.plot_area.xy_panes[0])
    assert len(x) == 48 and np.allclose(y - x, 1.0)      # house 2 is 1 degree warmer at every hour


@pytest.mark.skipif(not DOCS, reason="set HSGUI_SCREENSHOTS=dir to write screenshots")
def test_screenshot(qtbot, make_main_window):
    """docs/plot_xy_pane.png: the demo store's humidity against temperature for one resident, one week, under
    the two time plots."""
    w = make_main_window(demo=True, size=(1500, 950))
    db = w.manager.get_channel("mongo")
    meta = {"house": 1, "resident": "alice"}
    temp, hum = db[StreamId("temperature", meta)], db[StreamId("humidity", meta)]
    end = temp.calculated_intervals.end
    w.picker.set_interval(TimeInterval(end - timedelta(days=7), end), emit=True)
    w.plot_streams([temp])
    w.plot_streams([hum], new_pane=True)
    w.plot_xy(temp, hum)
    for d in w.docks.values():      # the bottom docks give the plots their height
        if w.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea:
            d.hide()
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 2 and len(w.plot_area.xy_panes) == 1
                    and not w.plot_area.busy, timeout=20000)
    qtbot.wait(300)
    w.grab().save(os.path.join(DOCS, "plot_xy_pane.png"))


def test_maximise_an_xy_pane_and_back(qtbot, area):
    xy = area.add_xy_pane(area.channel["x"], area.channel["y"])
    settled(qtbot, area)
    time_pane = area.panes[0]
    assert area.current_pane is time_pane
    qtbot.mouseClick(xy.maximise_button, Qt.MouseButton.LeftButton)
    assert xy.isVisible() and not time_pane.isVisible() and area.current_pane is time_pane
    qtbot.mouseClick(xy.maximise_button, Qt.MouseButton.LeftButton)
    assert xy.isVisible() and time_pane.isVisible()
    qtbot.mouseClick(time_pane.maximise_button, Qt.MouseButton.LeftButton)
    assert time_pane.isVisible() and not xy.isVisible()
