"""The plot area under the pointer and the keyboard: the cursor read-out follows the pointer and leaves with it;
a pane is one Tab stop and shows that it has the focus (headless, real mouse and key events)."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def channel():
    ch = MemoryChannel("mem")
    ch.create_stream("small").writer([StreamInstance._make((T0 + timedelta(hours=i + 1), float(i)))
                                      for i in range(40)])
    return ch


@pytest.fixture
def window(qtbot, runner, channel):
    """A line edit, the plot area, a line edit: what comes before and after the plots in a Tab walk."""
    w = QWidget()
    lay = QVBoxLayout(w)
    w.before, w.after = QLineEdit("before"), QLineEdit("after")
    w.area = PlotArea(runner, lambda cid, sid: channel[sid])
    lay.addWidget(w.before)
    lay.addWidget(w.area, 1)
    lay.addWidget(w.after)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    w.area.set_interval(TimeInterval(T0, T0 + timedelta(hours=40)))
    w.area.add_stream(channel["small"])
    qtbot.waitUntil(lambda: bool(w.area.curves()) and w.area.curves()[0].mode is not None and not w.area.busy,
                    timeout=5000)
    return w


def plot_point(pane, fx=0.5, fy=0.5) -> QPoint:
    """A point inside the pane's data area, in its plot widget's viewport coordinates."""
    r = pane.view_box.sceneBoundingRect()
    view = pane.plot_widget
    return view.mapFromScene(r.left() + r.width() * fx, r.top() + r.height() * fy)


def test_the_read_out_and_crosshair_leave_with_the_pointer(qtbot, window):
    pane = window.area.panes[0]
    qtbot.mouseMove(pane.plot_widget.viewport(), plot_point(pane))
    qtbot.waitUntil(lambda: pane.cursor.isVisible(), timeout=2000)
    assert "small</span>" in pane.readout.text()
    qtbot.mouseMove(window.after, QPoint(5, 5))          # the pointer leaves the pane
    qtbot.waitUntil(lambda: not pane.cursor.isVisible(), timeout=2000)
    assert "small</span>" not in pane.readout.text()
    window.area.refresh()                                # a redraw does not bring it back
    qtbot.waitUntil(lambda: not window.area.busy, timeout=5000)
    qtbot.wait(50)
    assert not pane.cursor.isVisible() and "small</span>" not in pane.readout.text()


def drawn_points_between(pane, x0: float, x1: float) -> int:
    """How many finite points the pane's curves draw with x in [x0, x1] (whatever item draws them)."""
    n = 0
    for item in pane.view_box.addedItems:
        if not hasattr(item, "getData") or not item.isVisible():
            continue
        x, y = item.getData()
        if x is None or y is None or len(x) == 0:
            continue
        x = np.asarray(x, dtype=float) + item.pos().x()
        y = np.asarray(y, dtype=float)
        n += int(np.count_nonzero((x >= x0) & (x <= x1) & np.isfinite(y)))
    return n


def test_after_a_pan_at_raw_zoom_the_exposed_strip_shows_the_coarser_level_at_once(qtbot, runner):
    ch = MemoryChannel("mem")
    ch.create_stream("fine").writer([StreamInstance._make((T0 + timedelta(seconds=10 * (i + 1)), float(i % 90)))
                                     for i in range(30_000)])
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    qtbot.addWidget(area)
    area.resize(900, 500)
    area.show()
    qtbot.waitExposed(area)
    start = T0 + timedelta(hours=20)
    area.set_interval(TimeInterval(start, start + timedelta(minutes=30)))     # 180 points: raw
    area.add_stream(ch["fine"])
    qtbot.waitUntil(lambda: bool(area.curves()) and area.curves()[0].mode == "raw" and not area.busy, timeout=5000)
    pane = area.panes[0]
    x0, x1 = pane.x_range()
    width = x1 - x0
    # the user drags the plot one width to the left: the right half of what is now shown was never read
    pane.view_box.setXRange(x0 + width, x1 + width, padding=0)
    strip = (x1 + width * 0.3, x1 + width)                 # beyond the raw points fetched (width/4 either side)
    assert drawn_points_between(pane, *strip) > 20         # at once: before any read
    qtbot.waitUntil(lambda: not area.busy, timeout=5000)
    assert area.curves()[0].mode == "raw" and drawn_points_between(pane, *strip) >= 100
    # and the read-out has a value there meanwhile
    assert area.curves()[0].curve.value_at(strip[0] + width * 0.3) is not None

def tab_stops_inside(qtbot, window) -> list:
    """Press Tab from the line edit before the plots until the focus leaves the plot area; what took it inside."""
    window.before.setFocus()
    inside = []
    for _ in range(30):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        w = QApplication.focusWidget()
        if not window.area.isAncestorOf(w):
            break
        inside.append(w)
    return inside


def frame_pixels(widget) -> int:
    """How many pixels of the widget's outer 2-pixel border are in the highlight colour."""
    img = widget.grab().toImage()
    hl = widget.palette().color(widget.palette().ColorRole.Highlight).rgb()
    w, h = img.width(), img.height()
    border = [(x, y) for x in range(w) for y in (0, 1, h - 2, h - 1)] + \
             [(x, y) for y in range(h) for x in (0, 1, w - 2, w - 1)]
    return sum(1 for x, y in border if img.pixel(x, y) == hl)


def test_a_pane_is_one_tab_stop_with_a_visible_focus_frame(qtbot, window):
    pane = window.area.panes[0]
    assert frame_pixels(pane.plot_widget) == 0
    assert tab_stops_inside(qtbot, window) == [pane.plot_widget]
    window.before.setFocus()
    qtbot.keyClick(window.before, Qt.Key.Key_Tab)
    assert pane.plot_widget.hasFocus()
    w, h = pane.plot_widget.width(), pane.plot_widget.height()
    assert frame_pixels(pane.plot_widget) > (w + h) * 2     # framed all round
    qtbot.keyClick(pane.plot_widget, Qt.Key.Key_Tab)
    assert window.after.hasFocus() and frame_pixels(pane.plot_widget) == 0
    # two panes: one stop each
    second = window.area.add_pane()
    assert tab_stops_inside(qtbot, window) == [pane.plot_widget, second.plot_widget]


def test_the_menu_key_offers_what_the_pane_header_offers(qtbot, window):
    pane = window.area.panes[0]
    pane.plot_widget.setFocus()
    qtbot.keyClick(pane.plot_widget, Qt.Key.Key_Menu)
    menu = pane.plot_widget.keyboard_menu
    assert menu is not None and menu.isVisible()
    titles = [a.text() for a in menu.actions()]
    assert titles[:4] == ["Curves", "Options", "Fit", "Export"] and "Remove this pane" in titles
    menu.close()


def test_more_panes_never_raise_the_plot_areas_minimum_height(qtbot, window):
    area = window.area
    one = area.minimumSizeHint().height()
    for _ in range(5):
        area.add_pane()
    assert area.minimumSizeHint().height() <= one     # the docks around the plots keep their room
    qtbot.wait(20)
    assert all(p.height() >= p.minimumSizeHint().height() for p in area.panes)   # panes scroll, never squashed
